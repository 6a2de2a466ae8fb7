/**
 * `HEADER.FIELDS (..)` and `HEADER.FIELDS.NOT (..)` sections (RFC 9051 6.4.5): the matching
 * fields of a header in stored order, each ending in CRLF, then the empty line.
 *
 * Mail clients ask the same field list of every message on every sync (`FETCH 1:*
 * (BODY.PEEK[HEADER.FIELDS (From Subject Date ...)])`), so the finished data item is kept in
 * the message's index for the last few distinct requests.
 *
 * @module
 */

import type { HeaderField } from "../mail/headers.ts";
import type { MimePart } from "../mail/mime.ts";
import type { Section } from "./parse_fetch.ts";
import type { MessageView } from "./sections.ts";

const CRLF = new Uint8Array([0x0d, 0x0a]);

/** What a HEADER.FIELDS section asks for, prepared once per FETCH item. */
interface FieldMatcher {
  /** Lower-cased names, and their lengths (most fields can be skipped by length alone). */
  readonly names: ReadonlySet<string>;
  readonly lengths: ReadonlySet<number>;
  readonly keep: boolean;
}

const matchers = new WeakMap<Section, FieldMatcher>();

function matcherOf(section: Section): FieldMatcher {
  let matcher = matchers.get(section);
  if (!matcher) {
    const names = new Set(section.fields.map((field) => field.toLowerCase()));
    const keep = section.text === "HEADER.FIELDS";
    matcher = { names, lengths: new Set([...names].map((name) => name.length)), keep };
    matchers.set(section, matcher);
  }
  return matcher;
}

const FIELD_ITEMS = Symbol("HEADER.FIELDS data items");
/** Data items kept per message: clients repeat the same one or two on every sync. */
const MAX_FIELD_ITEMS = 4;

/**
 * `prefix` (the response key, `BODY[HEADER.FIELDS (From)] `) and the section of `message` as
 * a literal, cached in the message's index under the prefix. NUL bytes (which a literal
 * cannot carry) are sent as 0x80. Built in one array, straight from the stored bytes.
 */
export function cachedFieldsItem(
  view: MessageView,
  message: MimePart,
  section: Section,
  prefix: string,
): Uint8Array {
  const items = view.index.memo(FIELD_ITEMS, () => new Map<string, Uint8Array>());
  let item = items.get(prefix);
  if (!item) {
    const { pieces, length } = matchingFields(view.raw, message.fields, section);
    const head = asciiBytes(`${prefix}{${length}}\r\n`);
    item = new Uint8Array(head.length + length);
    item.set(head);
    put(item, pieces, head.length);
    for (let i = item.indexOf(0, head.length); i >= 0; i = item.indexOf(0, i + 1)) item[i] = 0x80;
    if (items.size >= MAX_FIELD_ITEMS) items.delete(items.keys().next().value!);
    items.set(prefix, item);
  }
  return item;
}

/** The matching fields of `fields` (a header of `raw`), then CRLF. */
export function headerFields(
  raw: Uint8Array,
  fields: readonly HeaderField[],
  section: Section,
): Uint8Array {
  const { pieces, length } = matchingFields(raw, fields, section);
  const out = new Uint8Array(length);
  put(out, pieces, 0);
  return out;
}

/** The section's pieces (each field ending in CRLF, then the empty line) and their length. */
function matchingFields(
  raw: Uint8Array,
  fields: readonly HeaderField[],
  section: Section,
): { pieces: Uint8Array[]; length: number } {
  const { names, lengths, keep } = matcherOf(section);
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
  pieces.push(CRLF);
  return { pieces, length };
}

/** Copies `pieces` into `out` from `at`; returns the end offset. */
function put(out: Uint8Array, pieces: readonly Uint8Array[], at: number): number {
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return at;
}

let lastAscii = "";
let lastAsciiBytes = new Uint8Array(0);

/**
 * A response key and literal length as bytes without a trip through TextEncoder for each
 * message (they are ASCII unless a client named a field in 8-bit); the last one is reused.
 */
function asciiBytes(text: string): Uint8Array {
  if (text === lastAscii) return lastAsciiBytes;
  let out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) {
      out = new TextEncoder().encode(text);
      break;
    }
    out[i] = code;
  }
  lastAscii = text;
  lastAsciiBytes = out;
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
