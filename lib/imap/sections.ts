/**
 * FETCH section data: `BODY[section]<partial>` (RFC 9051 6.4.5) as exact slices of the stored
 * message, never re-encoded, and `BINARY[section-part]<partial>` / `BINARY.SIZE` (RFC 3516,
 * RFC 9051 6.4.5) with the part's transfer encoding removed.
 *
 * Sections address the MIME part tree of the message's cached index:
 * - `[]`, `[HEADER]`, `[TEXT]`, `[HEADER.FIELDS (..)]`, `[HEADER.FIELDS.NOT (..)]`: the
 *   message; with a part number in front, the message encapsulated in that message/rfc822
 *   part (any other part has no such section);
 * - `[1.2]`: a part's body (for a message/rfc822 part, the encapsulated message);
 * - `[1.2.MIME]`: a part's MIME header.
 *
 * A section that does not exist is NIL. HEADER.FIELDS keeps the matching fields in stored
 * order, each ending in CRLF, then the empty line.
 *
 * @module
 */

import type { HeaderField } from "../mail/headers.ts";
import { MessageIndex } from "../mail/index.ts";
import {
  base64DecodedLength,
  decodeBody,
  decodeQuotedPrintable,
  findPart,
  isKnownEncoding,
  type MimePart,
} from "../mail/mime.ts";
import type { Section } from "./parse_fetch.ts";

const CRLF = new Uint8Array([0x0d, 0x0a]);
const EMPTY = new Uint8Array(0);

/** The response key of a section: `BODY[1.HEADER.FIELDS (From)]`'s `1.HEADER.FIELDS (From)`. */
export function sectionKey(section: Section): string {
  let key = section.part.join(".");
  if (section.text) key += (key ? "." : "") + section.text;
  if (section.text === "HEADER.FIELDS" || section.text === "HEADER.FIELDS.NOT") {
    key += ` (${section.fields.join(" ")})`;
  }
  return key;
}

/**
 * One message's bytes and its (store-cached) MIME index, shared by the items of one FETCH;
 * each is loaded on first use, so items served from the index's memo never read the bytes.
 */
export class MessageView {
  readonly #loadRaw: () => Uint8Array;
  readonly #loadIndex: (raw: () => Uint8Array) => MessageIndex;
  #raw: Uint8Array | null = null;
  #index: MessageIndex | null = null;

  /**
   * @param raw the stored bytes, or a function that loads them
   * @param loadIndex the cached index (default: parsed from the bytes)
   */
  constructor(
    raw: Uint8Array | (() => Uint8Array),
    loadIndex: (raw: () => Uint8Array) => MessageIndex = (load) => new MessageIndex(load()),
  ) {
    if (typeof raw === "function") this.#loadRaw = raw;
    else {
      this.#raw = raw;
      this.#loadRaw = () => raw;
    }
    this.#loadIndex = loadIndex;
  }
  get raw(): Uint8Array {
    return this.#raw ??= this.#loadRaw();
  }
  get index(): MessageIndex {
    return this.#index ??= this.#loadIndex(() => this.raw);
  }
  get root(): MimePart {
    return this.index.root;
  }
}

/** The bytes of a section, or null when the message has no such section. */
export function sectionBytes(view: MessageView, section: Section): Uint8Array | null {
  const raw = view.raw;
  if (section.part.length === 0) {
    // BODY[] needs no index: the message is the section.
    return section.text === null ? raw : entityBytes(view, view.root, section);
  }
  const part = findPart(view.root, section.part.join("."));
  if (!part) return null;
  switch (section.text) {
    case null:
      return raw.subarray(part.bodyStart, part.bodyEnd);
    case "MIME":
      return raw.subarray(part.headerStart, part.bodyStart);
    default:
      // HEADER, TEXT and HEADER.FIELDS of a part address its encapsulated message.
      return part.message ? entityBytes(view, part.message, section) : null;
  }
}

/** A section of a whole (or encapsulated) message. */
function entityBytes(view: MessageView, message: MimePart, section: Section): Uint8Array {
  const raw = view.raw;
  switch (section.text) {
    case "HEADER":
      return raw.subarray(message.headerStart, message.bodyStart);
    case "TEXT":
      return raw.subarray(message.bodyStart, message.bodyEnd);
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT":
      return cachedHeaderFields(view, message, section);
    default:
      return raw.subarray(message.headerStart, message.bodyEnd);
  }
}

/** What a HEADER.FIELDS section asks for, prepared once per FETCH item. */
interface FieldMatcher {
  /** Lower-cased names, and their lengths (most fields can be skipped by length alone). */
  readonly names: ReadonlySet<string>;
  readonly lengths: ReadonlySet<number>;
  readonly keep: boolean;
  /** Identifies the result: part, NOT or not, the set of names. */
  readonly key: string;
}

const matchers = new WeakMap<Section, FieldMatcher>();

function matcherOf(section: Section): FieldMatcher {
  let matcher = matchers.get(section);
  if (!matcher) {
    const names = new Set(section.fields.map((field) => field.toLowerCase()));
    const keep = section.text === "HEADER.FIELDS";
    matcher = {
      names,
      lengths: new Set([...names].map((name) => name.length)),
      keep,
      key: `${section.part.join(".")} ${keep} ${[...names].sort().join(" ")}`,
    };
    matchers.set(section, matcher);
  }
  return matcher;
}

const FIELD_RESULTS = Symbol("HEADER.FIELDS results");
/** HEADER.FIELDS results kept per message: clients repeat the same one or two on every sync. */
const MAX_FIELD_RESULTS = 4;

function cachedHeaderFields(view: MessageView, message: MimePart, section: Section): Uint8Array {
  const matcher = matcherOf(section);
  const results = view.index.memo(FIELD_RESULTS, () => new Map<string, Uint8Array>());
  let bytes = results.get(matcher.key);
  if (!bytes) {
    bytes = headerFields(view.raw, message.fields, matcher);
    if (results.size >= MAX_FIELD_RESULTS) results.delete(results.keys().next().value!);
    results.set(matcher.key, bytes);
  }
  return bytes;
}

function headerFields(raw: Uint8Array, fields: readonly HeaderField[], matcher: FieldMatcher) {
  const { names, lengths, keep } = matcher;
  const pieces: Uint8Array[] = [];
  let length = CRLF.length;
  for (const field of fields) {
    // Most names differ in length from every wanted one: no lower-casing needed.
    const wanted = lengths.has(field.name.length) && names.has(field.name.toLowerCase());
    if (wanted !== keep) continue;
    const bytes = withCrlf(raw.subarray(field.start, field.end));
    pieces.push(bytes);
    length += bytes.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  out.set(CRLF, at);
  return out;
}

/** A field's bytes ending in CRLF even when the stored line ended in a bare LF or nothing. */
function withCrlf(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0x0d && bytes[n - 1] === 0x0a) return bytes;
  const body = n >= 1 && bytes[n - 1] === 0x0a ? bytes.subarray(0, n - 1) : bytes;
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  out.set(CRLF, body.length);
  return out;
}

const HAS_NUL = Symbol("message holds NUL");

/**
 * Section data made fit for a `literal`, which cannot carry NUL (RFC 9051 4.3; only
 * BINARY's `literal8` can): a message stored with NUL bytes (APPEND with a `literal8`) gets
 * them as 0x80, as Dovecot does, so sizes and offsets stay the same. Whether the message has
 * any is computed once and kept in its index.
 */
export function withoutNul(view: MessageView, bytes: Uint8Array): Uint8Array {
  if (!view.index.memo(HAS_NUL, () => view.raw.includes(0)) || !bytes.includes(0)) return bytes;
  return bytes.map((byte) => byte === 0 ? 0x80 : byte);
}

/** Applies `<offset.length>`: a slice, empty past the end. */
export function applyPartial(
  bytes: Uint8Array,
  partial: { offset: number; length: number } | null,
): Uint8Array {
  if (!partial) return bytes;
  if (partial.offset >= bytes.length) return EMPTY;
  return bytes.subarray(partial.offset, Math.min(bytes.length, partial.offset + partial.length));
}

/** What a BINARY section holds: its decoded bytes, no such part, or an undecodable one. */
export type BinarySection =
  | { readonly kind: "data"; readonly part: MimePart | null }
  | { readonly kind: "missing" }
  | { readonly kind: "unknown-cte"; readonly encoding: string };

/**
 * Resolves `section-binary`. The whole message (`[]`), a multipart and a message/rfc822
 * part are returned as stored: RFC 2045 6.4 allows them only identity encodings (RFC 9051
 * 6.4.5 asks clients to request BINARY of leaf parts only, and imapflow asks `BINARY[]` for
 * whole messages). A leaf's base64 or quoted-printable is decoded; other encodings than
 * 7bit, 8bit and binary are `unknown-cte` (RFC 3516 4.3).
 */
export function binarySection(view: MessageView, part: readonly number[]): BinarySection {
  if (part.length === 0) return { kind: "data", part: null };
  const found = findPart(view.root, part.join("."));
  if (!found) return { kind: "missing" };
  const leaf = found.children.length === 0 && !found.message;
  if (leaf && !isKnownEncoding(found.encoding)) {
    return { kind: "unknown-cte", encoding: found.encoding };
  }
  return { kind: "data", part: found };
}

/** The bytes of a resolved BINARY section. */
export function binaryBytes(view: MessageView, part: MimePart | null): Uint8Array {
  if (!part) return view.raw;
  const leaf = part.children.length === 0 && !part.message;
  return leaf ? decodeBody(view.raw, part) : view.raw.subarray(part.bodyStart, part.bodyEnd);
}

/** The length of {@linkcode binaryBytes}, without decoding base64. */
export function binarySize(view: MessageView, part: MimePart | null): number {
  if (!part) return view.raw.length;
  const body = view.raw.subarray(part.bodyStart, part.bodyEnd);
  const leaf = part.children.length === 0 && !part.message;
  if (!leaf) return body.length;
  if (part.encoding === "base64") return base64DecodedLength(body);
  if (part.encoding === "quoted-printable") return decodeQuotedPrintable(body).length;
  return body.length;
}
