/**
 * FETCH section data (RFC 9051 6.4.5 `BODY[section]<partial>`): exact slices of the stored
 * message, never re-encoded.
 *
 * @module
 */

import { findHeaderEnd, parseHeaderFields } from "../mail/headers.ts";
import { MessageIndex } from "../mail/index.ts";
import { findPart, type MimePart } from "../mail/mime.ts";
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

/** One message's bytes and its (store-cached) MIME index, shared by the items of one FETCH. */
export class MessageView {
  readonly raw: Uint8Array;
  readonly #loadIndex: () => MessageIndex;
  #index: MessageIndex | null = null;
  constructor(raw: Uint8Array, loadIndex: () => MessageIndex = () => new MessageIndex(raw)) {
    this.raw = raw;
    this.#loadIndex = loadIndex;
  }
  get index(): MessageIndex {
    return this.#index ??= this.#loadIndex();
  }
  get root(): MimePart {
    return this.index.root;
  }
}

/** The bytes of a section, or an empty array when the part does not exist. */
export function sectionBytes(view: MessageView, section: Section): Uint8Array {
  const raw = view.raw;
  if (section.part.length === 0) {
    const { headerEnd, bodyStart } = findHeaderEnd(raw);
    return entityBytes(raw, 0, headerEnd, bodyStart, raw.length, section);
  }
  const part = findPart(view.root, section.part.join("."));
  if (!part) return EMPTY;
  switch (section.text) {
    case null:
      return raw.subarray(part.bodyStart, part.bodyEnd);
    case "MIME":
      return raw.subarray(part.headerStart, part.bodyStart);
    default: {
      // HEADER, TEXT and HEADER.FIELDS of a part address its encapsulated message.
      const message = part.message;
      if (!message) return EMPTY;
      return entityBytes(
        raw,
        message.headerStart,
        message.headerEnd,
        message.bodyStart,
        message.bodyEnd,
        section,
      );
    }
  }
}

function entityBytes(
  raw: Uint8Array,
  headerStart: number,
  headerEnd: number,
  bodyStart: number,
  bodyEnd: number,
  section: Section,
): Uint8Array {
  switch (section.text) {
    case null:
      return raw.subarray(headerStart, bodyEnd);
    case "HEADER":
      return raw.subarray(headerStart, bodyStart);
    case "TEXT":
      return raw.subarray(bodyStart, bodyEnd);
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      const wanted = new Set(section.fields.map((field) => field.toLowerCase()));
      const keep = section.text === "HEADER.FIELDS";
      const pieces: Uint8Array[] = [];
      for (const field of parseHeaderFields(raw, headerStart, headerEnd)) {
        if (wanted.has(field.name.toLowerCase()) === keep) {
          pieces.push(withCrlf(raw.subarray(field.start, field.end)));
        }
      }
      pieces.push(CRLF);
      return concat(pieces);
    }
    default:
      return EMPTY;
  }
}

/** A field's bytes ending in CRLF even when the stored line ended in a bare LF or nothing. */
function withCrlf(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0x0d && bytes[n - 1] === 0x0a) return bytes;
  const body = n >= 1 && bytes[n - 1] === 0x0a ? bytes.subarray(0, n - 1) : bytes;
  return concat([body, CRLF]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
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
