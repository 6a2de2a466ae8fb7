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
 * cannot carry) are sent as 0x80. Written in one piece of a shared slab, straight from the
 * stored bytes: a `FETCH 1:*` builds thousands of these small items.
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
    const raw = view.raw;
    const length = collectFields(raw, message.fields, section);
    const key = prefixBytes(prefix);
    const digits = String(length);
    const headLength = key.length + digits.length + 4; // {digits}CRLF
    item = allocate(headLength + length);
    item.set(key);
    let at = key.length;
    item[at++] = 0x7b; // {
    for (let i = 0; i < digits.length; i++) item[at++] = digits.charCodeAt(i);
    item[at++] = 0x7d; // }
    item[at++] = 0x0d;
    item[at++] = 0x0a;
    writeFields(raw, item, at);
    for (let i = item.indexOf(0, headLength); i >= 0; i = item.indexOf(0, i + 1)) item[i] = 0x80;
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
  const out = new Uint8Array(collectFields(raw, fields, section));
  writeFields(raw, out, 0);
  return out;
}

/**
 * The matching fields found by the last {@linkcode collectFields}: start, end and how the
 * stored line ends (see {@linkcode writeFields}), three numbers a field. Reused, so finding
 * the fields allocates nothing.
 */
const found: number[] = [];
let foundCount = 0;
const ENDS_CRLF = 0;
const ENDS_LF = 1;
const ENDS_NOTHING = 2;

/** Finds the section's fields in `fields` (into `found`); returns the section's length. */
function collectFields(raw: Uint8Array, fields: readonly HeaderField[], section: Section): number {
  const { names, lengths, keep } = matcherOf(section);
  foundCount = 0;
  let length = 2; // the empty line
  for (const field of fields) {
    // Most names differ in length from every wanted one: no lower-casing needed.
    const wanted = lengths.has(field.name.length) && names.has(field.name.toLowerCase());
    if (wanted !== keep) continue;
    const { start, end } = field;
    // Each field ends in CRLF in the section even when the stored line ended in a bare LF
    // or nothing.
    let ending = ENDS_NOTHING;
    let kept = end - start;
    if (end - start >= 2 && raw[end - 2] === 0x0d && raw[end - 1] === 0x0a) ending = ENDS_CRLF;
    else if (end > start && raw[end - 1] === 0x0a) {
      ending = ENDS_LF;
      kept--;
    }
    found[foundCount * 3] = start;
    found[foundCount * 3 + 1] = start + kept;
    found[foundCount * 3 + 2] = ending;
    foundCount++;
    length += ending === ENDS_CRLF ? kept : kept + 2;
  }
  return length;
}

/** Writes the fields of the last {@linkcode collectFields} and the empty line at `at`. */
function writeFields(raw: Uint8Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < foundCount; i++) {
    const start = found[i * 3];
    const end = found[i * 3 + 1];
    out.set(raw.subarray(start, end), at);
    at += end - start;
    if (found[i * 3 + 2] !== ENDS_CRLF) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    }
  }
  out[at++] = 0x0d;
  out[at] = 0x0a;
}

let lastPrefix = "";
let lastPrefixBytes = new Uint8Array(0);

/**
 * A response key as bytes, kept for the next message (one FETCH item asks the same of every
 * message). ASCII unless a client named a field in 8-bit.
 */
function prefixBytes(prefix: string): Uint8Array {
  if (prefix !== lastPrefix) {
    lastPrefixBytes = new TextEncoder().encode(prefix);
    lastPrefix = prefix;
  }
  return lastPrefixBytes;
}

/** Items up to this size share slabs (one allocation for many); larger ones get their own. */
const SLAB_ITEM_LIMIT = 2048;
const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `n` bytes for a kept item. A slab lives while any item in it does; items are evicted
 * only past {@linkcode MAX_FIELD_ITEMS} requests a message, so little is held for nothing.
 */
function allocate(n: number): Uint8Array {
  if (n > SLAB_ITEM_LIMIT) return new Uint8Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const item = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return item;
}
