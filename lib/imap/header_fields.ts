/**
 * `HEADER.FIELDS (..)` and `HEADER.FIELDS.NOT (..)` sections (RFC 9051 6.4.5): the matching
 * fields of a header in stored order, each ending in CRLF, then the empty line.
 *
 * Mail clients ask the same field list of every message on every sync (`FETCH 1:*
 * (BODY.PEEK[HEADER.FIELDS (From Subject Date ...)])`). That FETCH, with record items beside
 * it, is written by fetch_header_fields.ts straight from each message's header, through a
 * {@linkcode FieldSlices}; any other FETCH of such a section (with other items, a partial, of
 * a part) keeps the finished data item in the message's index for the last few distinct
 * requests. Building them needs scratch space and slabs to cut the items from: a
 * {@linkcode HeaderFieldItems} per server owns those.
 *
 * @module
 */

import type { HeaderField } from "../mail/headers.ts";
import type { MimePart } from "../mail/mime.ts";
import type { Section } from "./parse_fetch.ts";
import type { MessageView } from "./message_view.ts";

/** What a HEADER.FIELDS section asks for, prepared once per FETCH item. */
export interface FieldMatcher {
  /** Lower-cased names, and their lengths (most fields can be skipped by length alone). */
  readonly names: ReadonlySet<string>;
  readonly lengths: ReadonlySet<number>;
  /** The names as char codes, when all are ASCII (else null: names are matched as text). */
  readonly codes: readonly (readonly number[])[] | null;
  /** HEADER.FIELDS (keep the named fields) rather than HEADER.FIELDS.NOT. */
  readonly keep: boolean;
}

/** The {@linkcode FieldMatcher} of a HEADER.FIELDS or HEADER.FIELDS.NOT section. */
export function fieldMatcher(section: Section): FieldMatcher {
  const names = new Set(section.fields.map((field) => field.toLowerCase()));
  const keep = section.text === "HEADER.FIELDS";
  const codes = [...names].map((name) => Array.from(name, (ch) => ch.charCodeAt(0)));
  const ascii = codes.every((name) => name.every((code) => code < 0x80));
  return {
    names,
    lengths: new Set([...names].map((name) => name.length)),
    codes: ascii ? codes : null,
    keep,
  };
}

/** How a stored field line ends (see {@linkcode FieldSlices.add}). */
const ENDS_CRLF = 0;
const ENDS_LF = 1;
const ENDS_NOTHING = 2;

/**
 * The fields of one header a section keeps, as slices of the header's bytes: found by
 * {@linkcode FieldSlices.find} (or `findParsed`), written by {@linkcode FieldSlices.write}.
 * Reused from message to message, so finding a message's fields allocates nothing.
 *
 * @example
 * ```ts
 * const slices = new FieldSlices();
 * const matcher = fieldMatcher(section);
 * if (!slices.find(header, 0, header.length, matcher)) {
 *   slices.findParsed(header, parseHeaderFields(header), matcher);
 * }
 * const out = new Uint8Array(slices.length);
 * slices.write(header, out, 0);
 * ```
 */
export class FieldSlices {
  /** Start, end and how the stored line ends, three numbers a field. */
  readonly #found: number[] = [];
  #count = 0;
  #length = 2;

  /** Fields found. */
  get count(): number {
    return this.#count;
  }

  /** The section's length: the fields, each ending in CRLF, and the empty line. */
  get length(): number {
    return this.#length;
  }

  /**
   * Finds the fields of the header `bytes[start, end)` that `matcher` keeps, straight from
   * the bytes. False when a field name holds an 8-bit byte, which is matched as text: then
   * {@linkcode findParsed} finds them.
   */
  find(bytes: Uint8Array, start: number, end: number, matcher: FieldMatcher): boolean {
    return scanFields(bytes, start, end, matcher, this);
  }

  /** Finds the fields `matcher` keeps among `fields`, parsed from `bytes` (offsets into it). */
  findParsed(bytes: Uint8Array, fields: readonly HeaderField[], matcher: FieldMatcher): void {
    collectFields(fields, matcher, this, bytes);
  }

  /**
   * Writes the fields found in `bytes` (the bytes {@linkcode find} read), then the empty line,
   * at `out[at]`. Returns the end.
   */
  write(bytes: Uint8Array, out: Uint8Array, at: number): number {
    const found = this.#found;
    for (let i = 0; i < this.#count; i++) {
      const start = found[i * 3];
      const end = found[i * 3 + 1];
      out.set(bytes.subarray(start, end), at);
      at += end - start;
      if (found[i * 3 + 2] !== ENDS_CRLF) {
        out[at++] = 0x0d;
        out[at++] = 0x0a;
      }
    }
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    return at;
  }

  /**
   * {@linkcode write} as a literal's data, which cannot carry NUL (RFC 9051 4.3): NUL bytes
   * are sent as 0x80, as `withoutNul` (sections.ts) sends them in other sections. Copied a
   * byte at a time with the check in the same loop: fields are a few dozen bytes, and `set`
   * would take a view of each.
   */
  writeLiteral(bytes: Uint8Array, out: Uint8Array, at: number): number {
    const found = this.#found;
    for (let i = 0; i < this.#count; i++) {
      const end = found[i * 3 + 1];
      for (let k = found[i * 3]; k < end; k++) {
        const byte = bytes[k];
        out[at++] = byte === 0 ? 0x80 : byte;
      }
      if (found[i * 3 + 2] !== ENDS_CRLF) {
        out[at++] = 0x0d;
        out[at++] = 0x0a;
      }
    }
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    return at;
  }

  /** Starts a new header. */
  clear(): void {
    this.#count = 0;
    this.#length = 2;
  }

  /** Adds the field `bytes[start, end)`. */
  add(bytes: Uint8Array, start: number, end: number): void {
    // Each field ends in CRLF in the section even when the stored line ended in a bare LF
    // or nothing.
    let ending = ENDS_NOTHING;
    let kept = end - start;
    if (kept >= 2 && bytes[end - 2] === 0x0d && bytes[end - 1] === 0x0a) ending = ENDS_CRLF;
    else if (kept > 0 && bytes[end - 1] === 0x0a) {
      ending = ENDS_LF;
      kept--;
    }
    const found = this.#found;
    const at = this.#count * 3;
    found[at] = start;
    found[at + 1] = start + kept;
    found[at + 2] = ending;
    this.#count++;
    this.#length += ending === ENDS_CRLF ? kept : kept + 2;
  }
}

const FIELD_ITEMS = Symbol("HEADER.FIELDS data items");
/** Data items kept per message: clients repeat the same one or two on every sync. */
const MAX_FIELD_ITEMS = 4;
/** Items up to this size share slabs (one allocation for many); larger ones get their own. */
const SLAB_ITEM_LIMIT = 2048;
const SLAB_SIZE = 64 * 1024;

/**
 * Builds HEADER.FIELDS data items and keeps them in each message's index. One per server
 * (`ImapServerState.fieldItems`): it owns the scratch list of found fields, the last
 * response key's bytes and the slab the small items are cut from, so a `FETCH 1:*` that
 * builds thousands of them allocates little.
 *
 * @example
 * ```ts
 * const items = new HeaderFieldItems();
 * const section = { part: [], text: "HEADER.FIELDS", fields: ["Subject"] } as const;
 * items.item(view, view.root, section, "BODY[HEADER.FIELDS (Subject)] ");
 * ```
 */
export class HeaderFieldItems {
  /** The fields the last item was made of (reused, so finding them allocates nothing). */
  readonly #slices = new FieldSlices();
  readonly #matchers = new WeakMap<Section, FieldMatcher>();
  #lastPrefix = "";
  #lastPrefixBytes = new Uint8Array(0);
  #slab = new Uint8Array(0);
  #slabUsed = 0;

  /**
   * `prefix` (the response key, `BODY[HEADER.FIELDS (From)] `) and the section of `message` as
   * a literal, cached in the message's index under the prefix. NUL bytes (which a literal
   * cannot carry) are sent as 0x80. Written in one piece of a shared slab, straight from the
   * stored bytes.
   */
  item(view: MessageView, message: MimePart, section: Section, prefix: string): Uint8Array {
    const items = view.index.memo(FIELD_ITEMS, () => new Map<string, Uint8Array>());
    let item = items.get(prefix);
    if (!item) {
      const raw = view.raw;
      const slices = this.#slices;
      const matcher = this.#matcherOf(section);
      if (!slices.find(raw, message.headerStart, message.headerEnd, matcher)) {
        slices.findParsed(raw, message.fields, matcher);
      }
      const key = this.#prefixBytes(prefix);
      const digits = String(slices.length);
      let at = key.length;
      item = this.#allocate(at + digits.length + 4 + slices.length); // {digits}CRLF
      item.set(key);
      item[at++] = 0x7b; // {
      for (let i = 0; i < digits.length; i++) item[at++] = digits.charCodeAt(i);
      item[at++] = 0x7d; // }
      item[at++] = 0x0d;
      item[at++] = 0x0a;
      slices.writeLiteral(raw, item, at);
      if (items.size >= MAX_FIELD_ITEMS) items.delete(items.keys().next().value!);
      items.set(prefix, item);
    }
    return item;
  }

  #matcherOf(section: Section): FieldMatcher {
    let matcher = this.#matchers.get(section);
    if (!matcher) {
      matcher = fieldMatcher(section);
      this.#matchers.set(section, matcher);
    }
    return matcher;
  }

  /**
   * A response key as bytes, kept for the next message (one FETCH item asks the same of every
   * message). ASCII unless a client named a field in 8-bit.
   */
  #prefixBytes(prefix: string): Uint8Array {
    if (prefix !== this.#lastPrefix) {
      this.#lastPrefixBytes = new TextEncoder().encode(prefix);
      this.#lastPrefix = prefix;
    }
    return this.#lastPrefixBytes;
  }

  /**
   * `n` bytes for a kept item. A slab lives while any item in it does; items are evicted
   * only past {@linkcode MAX_FIELD_ITEMS} requests a message, so little is held for nothing.
   */
  #allocate(n: number): Uint8Array {
    if (n > SLAB_ITEM_LIMIT) return new Uint8Array(n);
    if (this.#slabUsed + n > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabUsed = 0;
    }
    const item = this.#slab.subarray(this.#slabUsed, this.#slabUsed + n);
    this.#slabUsed += n;
    return item;
  }
}

/** The matching fields of `fields` (a header of `raw`), then CRLF. */
export function headerFields(
  raw: Uint8Array,
  fields: readonly HeaderField[],
  section: Section,
): Uint8Array {
  const slices = new FieldSlices();
  collectFields(fields, fieldMatcher(section), slices, raw);
  const out = new Uint8Array(slices.length);
  slices.write(raw, out, 0);
  return out;
}

/** Adds the section's fields among `fields` to `slices`, cleared first. */
function collectFields(
  fields: readonly HeaderField[],
  { names, lengths, keep }: FieldMatcher,
  slices: FieldSlices,
  bytes: Uint8Array,
): void {
  slices.clear();
  for (const field of fields) {
    // Most names differ in length from every wanted one: no lower-casing needed.
    const wanted = lengths.has(field.name.length) && names.has(field.name.toLowerCase());
    if (wanted === keep) slices.add(bytes, field.start, field.end);
  }
}

/**
 * {@linkcode collectFields} straight from the header `bytes[start, end)`, cut into fields as
 * `parseHeaderFields` (headers.ts) cuts it: no field objects, no strings (a first FETCH of
 * HEADER.FIELDS after a burst parsed every message's header). False when a field name holds
 * an 8-bit byte (such names are decoded as text; the caller takes the parsed fields).
 */
function scanFields(
  bytes: Uint8Array,
  start: number,
  end: number,
  matcher: FieldMatcher,
  slices: FieldSlices,
): boolean {
  if (matcher.codes === null) return false;
  slices.clear();
  let fieldStart = -1;
  let i = start;
  while (i <= end) {
    let lineEnd = end;
    if (i < end) {
      lineEnd = bytes.indexOf(0x0a, i);
      lineEnd = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
      // A continuation line belongs to the open field.
      if (bytes[i] === 0x20 || bytes[i] === 0x09) {
        i = lineEnd;
        continue;
      }
    }
    if (fieldStart >= 0) {
      const wanted = fieldWanted(bytes, fieldStart, i, matcher);
      if (wanted === null) return false;
      if (wanted === matcher.keep) slices.add(bytes, fieldStart, i);
    }
    if (i === end) break;
    fieldStart = i;
    i = lineEnd;
  }
  return true;
}
/**
 * Whether the field `raw[start, end)` is one `matcher` names; undefined when it has no name
 * (`parseHeaderFields` drops it), null when its name is 8-bit.
 */
function fieldWanted(
  raw: Uint8Array,
  start: number,
  end: number,
  matcher: FieldMatcher,
): boolean | null | undefined {
  let colon = start;
  while (colon < end && raw[colon] !== 0x3a) {
    if (raw[colon] >= 0x80) return null;
    colon++;
  }
  if (colon === start || colon === end) return undefined;
  let nameStart = start;
  let nameEnd = colon;
  while (nameStart < nameEnd && isAsciiSpace(raw[nameStart])) nameStart++;
  while (nameEnd > nameStart && isAsciiSpace(raw[nameEnd - 1])) nameEnd--;
  if (nameStart === nameEnd) return undefined;
  for (let j = nameStart; j < nameEnd; j++) if (isAsciiSpace(raw[j])) return undefined;
  if (!matcher.lengths.has(nameEnd - nameStart)) return false;
  for (const name of matcher.codes!) {
    if (name.length !== nameEnd - nameStart) continue;
    let j = 0;
    while (j < name.length && (raw[nameStart + j] | lowerBit(raw[nameStart + j])) === name[j]) j++;
    if (j === name.length) return true;
  }
  return false;
}

/** 0x20 for an ASCII capital letter (what makes it lower-case), else 0. */
function lowerBit(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? 0x20 : 0;
}

/** Bytes `String.prototype.trim` and `/\s/` treat as white space, for ASCII. */
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}
