/**
 * The text of a message as IMAP SEARCH matches it (RFC 9051 6.4.4): header values with RFC
 * 2047 encoded words decoded, and the bodies of text parts with their transfer encoding and
 * charset removed, all lower-cased once so matching is a plain substring test.
 *
 * The header fields (`searchHeaders`) and the header lines of TEXT are kept in the index memo.
 * The decoded body is not: most text parts of most mail are ASCII in an ASCII-compatible
 * charset with no transfer encoding, so their decoded, lower-cased text is their stored bytes
 * lower-cased, and BODY/TEXT match those bytes in place (`bodyIncludes`). Only the other
 * parts (quoted-printable, base64, 8-bit text) keep a decoded, lower-cased copy. Memory for a
 * searched mailbox is then its header lines plus the text that needed decoding, not a second
 * copy of every text part.
 *
 * @module
 */

import { MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from "./address.ts";
import { monthNumber } from "./dates.ts";
import { decodeEncodedWords, type HeaderField } from "./headers.ts";
import type { MessageIndex } from "./message_index.ts";
import { decodeBodyText, type MimePart } from "./mime.ts";

/** One top-level header field: name and decoded value, both lower-cased. */
export interface SearchField {
  readonly name: string;
  readonly value: string;
}

/** What SEARCH reads of a message's top-level header. */
export interface SearchHeaders {
  /** The fields, in order (made on each read: the index keeps them as one string). */
  readonly fields: readonly SearchField[];
  /**
   * The calendar day of the `Date:` field as written, in its own time zone (days since
   * 1970-01-01), or null when the field is missing or unreadable.
   */
  readonly sentDay: number | null;
  /** Whether a field named `name` holds `needle` (both lower-cased already). */
  has(name: string, needle: string): boolean;
}

/** What BODY and TEXT read of a message, lower-cased. */
export interface SearchText {
  /** `name: value` lines of the message header and of every MIME part header. */
  readonly header: string;
  /**
   * The decoded text of every text part, and the header lines of encapsulated messages
   * (which are part of the outer message's body), joined by LF. Built on each read (see
   * {@linkcode SearchText.bodyIncludes}).
   */
  readonly body: string;
  /** Whether {@linkcode SearchText.body} contains `needle` (lower-cased already). */
  bodyIncludes(needle: string): boolean;
}

const HEADERS = Symbol("search headers");
const TEXT = Symbol("search text");
const ADDRESSES = Symbol("search addresses");

/** The fields whose addresses SEARCH BCC, CC, FROM and TO also match as parsed. */
const ADDRESS_FIELDS: ReadonlySet<string> = new Set(["bcc", "cc", "from", "to"]);
const NO_FIELDS: readonly SearchField[] = [];

/**
 * The decoded, lower-cased header fields of the message, computed once per index. `root` is
 * the index's root part, when the caller has a view of it already (its fields parsed).
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"));
 * searchHeaders(index).fields; // [{ name: "subject", value: "grüße" }]
 * ```
 */
export function searchHeaders(index: MessageIndex, root?: MimePart): SearchHeaders {
  return index.memo(
    HEADERS,
    () => CompactHeaders.of((root ?? index.root).fields, index.parts.rootHeader),
  );
}

// A BOM is kept (as U+FEFF): removed, it would shift the offsets of the fields.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * `bytes` as text when they are all ASCII and hold no `=?` (no encoded word can be in them),
 * else null. Decoded natively first: an 8-bit byte is then a char above 0x7f (or U+FFFD).
 */
function asciiText(bytes: Uint8Array): string | null {
  const text = utf8.decode(bytes);
  return /[^\x00-\x7f]|=\?/.test(text) ? null : text;
}

/**
 * Offsets below 65,536 (nearly every header) kept as the char codes of a string: V8 stores
 * it as 2 bytes an offset and never looks inside it when it marks, where an array of numbers
 * takes 8 bytes a slot and is walked. Larger offsets stay an array.
 */
class Bounds {
  readonly #codes: string | null;
  readonly #numbers: readonly number[] | null;
  readonly length: number;

  constructor(numbers: readonly number[]) {
    this.length = numbers.length;
    const small = numbers.length === 0 || numbers[numbers.length - 1] < 0x10000;
    let codes = "";
    for (let i = 0; small && i < numbers.length; i += 8192) {
      codes += String.fromCharCode.apply(null, numbers.slice(i, i + 8192) as number[]);
    }
    this.#codes = small ? codes : null;
    this.#numbers = small ? null : numbers;
  }

  /** Offset `k`. */
  at(k: number): number {
    return this.#codes !== null ? this.#codes.charCodeAt(k) : this.#numbers![k];
  }
}

/**
 * The decoded, lower-cased fields of a header kept as one flat string (`name:value` after
 * `name:value`) and the bounds of each value in it: two objects a message where a list of
 * fields was about forty (the fields, their names and values), all of which V8 marked after
 * every burst of mail.
 */
class CompactHeaders implements SearchHeaders {
  readonly #text: string;
  /** Where value `i` starts and ends in `#text`; its name ends one before it starts. */
  readonly #bounds: Bounds;
  #sentDay: number | null | undefined = undefined;

  private constructor(text: string, bounds: readonly number[]) {
    this.#text = text;
    this.#bounds = new Bounds(bounds);
  }

  /**
   * The fields of a header; `header`, when given, holds the bytes the fields' offsets index:
   * a header of plain ASCII is then made from those bytes in one pass.
   */
  static of(fields: readonly HeaderField[], header?: Uint8Array): CompactHeaders {
    const text = header === undefined ? null : asciiText(header);
    if (text !== null) return CompactHeaders.#ofAscii(fields, text);
    const parts: string[] = [];
    const bounds: number[] = [];
    let length = 0;
    for (const field of fields) {
      const name = field.name.toLowerCase();
      const value = decodeEncodedWords(field.value).toLowerCase();
      parts.push(name, ":", value);
      length += name.length + 1;
      bounds.push(length, length + value.length);
      length += value.length;
    }
    // One flat string (a join is not a rope of the parts).
    return new CompactHeaders(parts.join(""), bounds);
  }

  /**
   * {@linkcode of} for a header of ASCII without encoded words (`text`, its bytes as text):
   * there a field's decoded, lower-cased value is its text after the colon unfolded, trimmed
   * and lower-cased, so all of it is cut from one lower-cased string of the header (one
   * native decode and lower-casing instead of a string a field, built byte by byte).
   */
  static #ofAscii(fields: readonly HeaderField[], text: string): CompactHeaders {
    const lower = text.toLowerCase();
    const parts: string[] = [];
    const bounds: number[] = [];
    let length = 0;
    for (const field of fields) {
      const colon = lower.indexOf(":", field.start);
      const name = lower.slice(field.start, colon).trim();
      let value = lower.slice(colon + 1, field.end);
      // Unfolded: the line breaks before white space go (see headers.ts `fieldValue`).
      const lf = value.indexOf("\n");
      if (lf >= 0 && lf < value.length - 1) value = value.replace(/\r?\n(?=[ \t])/g, "");
      value = value.trim();
      parts.push(name, ":", value);
      length += name.length + 1;
      bounds.push(length, length + value.length);
      length += value.length;
    }
    return new CompactHeaders(parts.join(""), bounds);
  }

  get count(): number {
    return this.#bounds.length >> 1;
  }

  /** The lower-cased name of field `i`. */
  name(i: number): string {
    const start = i === 0 ? 0 : this.#bounds.at(2 * i - 1);
    return this.#text.slice(start, this.#bounds.at(2 * i) - 1);
  }

  /** The decoded, lower-cased value of field `i`. */
  value(i: number): string {
    return this.#text.slice(this.#bounds.at(2 * i), this.#bounds.at(2 * i + 1));
  }

  get fields(): SearchField[] {
    return Array.from(
      { length: this.count },
      (_, i) => ({ name: this.name(i), value: this.value(i) }),
    );
  }

  get sentDay(): number | null {
    if (this.#sentDay === undefined) {
      const date = this.#indexOf("date");
      this.#sentDay = date < 0 ? null : dateDay(this.value(date));
    }
    return this.#sentDay;
  }

  /** The first field named `name`, or -1. */
  #indexOf(name: string): number {
    for (let i = 0; i < this.count; i++) if (this.#named(i, name)) return i;
    return -1;
  }

  /** The length of field `i`'s name. */
  nameLength(i: number): number {
    return this.#bounds.at(2 * i) - 1 - (i === 0 ? 0 : this.#bounds.at(2 * i - 1));
  }

  #named(i: number, name: string): boolean {
    const start = i === 0 ? 0 : this.#bounds.at(2 * i - 1);
    return this.#bounds.at(2 * i) - 1 - start === name.length && this.#text.startsWith(name, start);
  }

  has(name: string, needle: string): boolean {
    const text = this.#text;
    const bounds = this.#bounds;
    // The first `needle` at or after the start of the last value looked at: values come in
    // order, so a header of many such fields is still scanned once.
    let hit = -1;
    for (let i = 0; i < bounds.length >> 1; i++) {
      if (!this.#named(i, name)) continue;
      const start = bounds.at(2 * i);
      const end = bounds.at(2 * i + 1);
      if (end - start < needle.length) continue;
      if (hit < start) {
        hit = text.indexOf(needle, start);
        if (hit < 0) return false;
      }
      if (hit + needle.length <= end) return true;
    }
    return false;
  }
}

/**
 * One entry of the body: a text part whose stored bytes `[start, end)` are its text (ASCII,
 * no transfer encoding, an ASCII-compatible charset), or text decoded and lower-cased.
 */
type BodySegment = { readonly start: number; readonly end: number } | string;

/** What the index memo keeps for BODY and TEXT. */
interface TextPlan {
  readonly header: string;
  readonly body: readonly BodySegment[];
}

/**
 * The lower-cased header and body text of the message. `raw` gives the message bytes (the
 * index holds offsets only); the plan of the body is made once per index, on first use.
 */
export function searchText(index: MessageIndex, raw: () => Uint8Array): SearchText {
  const plan = index.memo(TEXT, () => {
    const bytes = raw();
    const header: string[] = headerLines(index.root.fields);
    const body: BodySegment[] = [];
    collectParts(bytes, index.root, header, body);
    return { header: header.join("\n"), body };
  });
  return new PlannedText(plan, raw);
}

/** A message's text plan with its bytes, for one search (the bytes are read once, on use). */
class PlannedText implements SearchText {
  readonly #plan: TextPlan;
  readonly #load: () => Uint8Array;
  #bytes: Uint8Array | null = null;

  constructor(plan: TextPlan, raw: () => Uint8Array) {
    this.#plan = plan;
    this.#load = raw;
  }

  #raw(): Uint8Array {
    return this.#bytes ??= this.#load();
  }

  get header(): string {
    return this.#plan.header;
  }

  get body(): string {
    const segments = this.#plan.body;
    if (segments.every((segment) => typeof segment === "string")) return segments.join("\n");
    const raw = this.#raw();
    return segments.map((segment) =>
      typeof segment === "string" ? segment : asciiLowerCase(raw, segment.start, segment.end)
    ).join("\n");
  }

  bodyIncludes(needle: string): boolean {
    // A needle with a line end may span entries (they are joined by LF): the whole body.
    if (needle.includes("\n")) return this.body.includes(needle);
    const segments = this.#plan.body;
    let bytes: Uint8Array | null = null;
    let raw: Uint8Array | null = null;
    for (const segment of segments) {
      if (typeof segment === "string") {
        if (segment.includes(needle)) return true;
        continue;
      }
      bytes ??= asciiBytes(needle);
      // Not ASCII: no ASCII text holds it (its lower-casing is ASCII's).
      if (bytes === null) continue;
      raw ??= this.#raw();
      if (includesFolded(raw, segment.start, segment.end, bytes)) return true;
    }
    // An empty needle is in any body, even one without segments.
    return needle.length === 0;
  }
}

/**
 * What SEARCH BCC, CC, FROM and TO match besides the header text (RFC 9051 6.4.4: "the
 * envelope structure's" field): the addresses of those fields as parsed, comments and
 * folding white space removed (RFC 5322 3.4), each as `name <local@domain>` (`<local@domain>`
 * without a display name; the name decoded), which holds the address, its local part, its
 * domain and its name; group names too. Lower-cased, one per line, so a match never spans
 * two addresses.
 *
 * Only what the field's decoded text lacks is kept: for ordinary headers nothing, so this
 * costs no memory per message. Computed once per index, on the first address search, in
 * time linear in the header (see {@linkcode missingForms}).
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("From: <a (c)@ b.org>\r\n\r\n"));
 * searchAddresses(index); // [{ name: "from", value: "<a@b.org>" }]
 * ```
 */
export function searchAddresses(index: MessageIndex, root?: MimePart): readonly SearchField[] {
  return index.memo(ADDRESSES, () => {
    const fields = (root ??= index.root).fields;
    const decoded = searchHeaders(index, root) as CompactHeaders;
    let found: SearchField[] | null = null;
    for (let i = 0; i < fields.length; i++) {
      // Named by length first: most fields are none of the four.
      const length = decoded.nameLength(i);
      if (length < 2 || length > 4) continue;
      const name = decoded.name(i);
      if (!ADDRESS_FIELDS.has(name)) continue;
      const forms = missingForms(addressForms(fields[i].value), decoded.value(i));
      if (forms.length > 0) (found ??= []).push({ name, value: forms.join("\n") });
    }
    return found ?? NO_FIELDS;
  });
}

/** An address list entry as address searches match it, lower-cased. */
interface AddressForm {
  /** `name <local@domain>`, `<local@domain>`, or a group's name. */
  readonly form: string;
  /** What must be in the header text for `form` to add nothing a search could find. */
  readonly probe: string;
}

function addressForms(value: string): AddressForm[] {
  const forms: AddressForm[] = [];
  for (const entry of parseAddressList(value)) {
    if (entry.kind === "end") continue;
    if (entry.kind === "group") {
      const form = decodeEncodedWords(entry.name).toLowerCase();
      forms.push({ form, probe: form });
      continue;
    }
    const local = entry.mailbox === MISSING_MAILBOX ? "" : entry.mailbox;
    const address = (entry.host === MISSING_DOMAIN ? local : `${local}@${entry.host}`)
      .toLowerCase();
    if (entry.name === null) {
      // A bare address in the text already holds all a search can ask of it.
      forms.push({ form: `<${address}>`, probe: address });
      continue;
    }
    const form = `${decodeEncodedWords(entry.name).toLowerCase()} <${address}>`;
    forms.push({ form, probe: form });
  }
  return forms;
}

/**
 * The forms whose probe `text` does not contain. Linear: the entries are written in order,
 * so each probe is looked for after the previous one, and after the first one missing the
 * rest are kept without looking (a header of many addresses never costs a scan each).
 */
function missingForms(forms: readonly AddressForm[], text: string): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const { form, probe } of forms) {
    if (missing.length === 0) {
      const at = text.indexOf(probe, from);
      if (at >= 0) {
        from = at + probe.length;
        continue;
      }
    }
    missing.push(form);
  }
  return missing;
}

function searchField(field: HeaderField): SearchField {
  return { name: field.name.toLowerCase(), value: decodeEncodedWords(field.value).toLowerCase() };
}

function headerLines(fields: readonly HeaderField[]): string[] {
  return fields.map((field) => {
    const { name, value } = searchField(field);
    return `${name}: ${value}`;
  });
}

/**
 * Walks the part tree below `part`: MIME part headers go to `header`, text bodies and the
 * headers of encapsulated messages to `body`.
 */
function collectParts(
  raw: Uint8Array,
  part: MimePart,
  header: string[],
  body: BodySegment[],
): void {
  if (part.children.length > 0) {
    for (const child of part.children) {
      header.push(...headerLines(child.fields));
      collectParts(raw, child, header, body);
    }
  } else if (part.message) {
    body.push(...headerLines(part.message.fields));
    // The encapsulated message's part headers are body text of the outer message.
    const nested: BodySegment[] = [];
    collectParts(raw, part.message, nested as string[], nested);
    body.push(...nested);
  } else if (part.contentType.type === "text") {
    body.push(
      storedIsText(raw, part)
        ? { start: part.bodyStart, end: part.bodyEnd }
        : decodeBodyText(raw, part).toLowerCase(),
    );
  }
}

/**
 * Charsets whose decoder maps every ASCII byte to itself (as `decodeCharset` reads them; an
 * absent or unknown charset is read as UTF-8).
 */
const ASCII_CHARSETS = new Set(["", "us-ascii", "utf-8", "utf8", "iso-8859-1", "latin1"]);

/** Whether the part's decoded text is its stored bytes: ASCII, no transfer encoding to undo. */
function storedIsText(raw: Uint8Array, part: MimePart): boolean {
  const encoding = part.encoding;
  if (encoding === "base64" || encoding === "quoted-printable") return false;
  const charset = (part.contentType.params.charset ?? "").trim().toLowerCase();
  return ASCII_CHARSETS.has(charset) && isAscii(raw, part.bodyStart, part.bodyEnd);
}

/** Whether every byte of `raw[start, end)` is below 0x80, looked at four at a time. */
function isAscii(raw: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && ((raw.byteOffset + i) & 3) !== 0) if (raw[i++] >= 0x80) return false;
  if (end - i >= 4) {
    const words = new Int32Array(raw.buffer, raw.byteOffset + i, (end - i) >> 2);
    for (let w = 0; w < words.length; w++) if ((words[w] & 0x80808080) !== 0) return false;
    i += words.length * 4;
  }
  for (; i < end; i++) if (raw[i] >= 0x80) return false;
  return true;
}

/** ASCII bytes of `text`, or null when it holds anything else. */
function asciiBytes(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return null;
    out[i] = code;
  }
  return out;
}

/** ASCII bytes lower-cased (A-Z only), by byte value. */
const FOLD = Uint8Array.from({ length: 256 }, (_, b) => b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

/** `raw[start, end)` (ASCII) as a lower-cased string. */
function asciiLowerCase(raw: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i += 8192) {
    const chunk = raw.subarray(i, Math.min(end, i + 8192)).map((b) => FOLD[b]);
    out += String.fromCharCode.apply(null, chunk as never);
  }
  return out;
}

/**
 * Whether `raw[start, end)`, lower-cased, contains `needle` (lower-case ASCII bytes): a
 * Boyer-Moore-Horspool search on folded bytes, so most bytes are skipped unread.
 */
function includesFolded(raw: Uint8Array, start: number, end: number, needle: Uint8Array): boolean {
  const length = needle.length;
  if (length === 0) return true;
  const last = length - 1;
  // The shift for each stored byte, both cases of a letter alike (a plain array: on the JS
  // heap, cheaper to make for one message than a typed one).
  const shift: number[] = new Array(256).fill(length);
  for (let i = 0; i < last; i++) {
    shift[needle[i]] = last - i;
    if (needle[i] >= 0x61 && needle[i] <= 0x7a) shift[needle[i] - 0x20] = last - i;
  }
  const lastByte = needle[last];
  const lastUpper = lastByte >= 0x61 && lastByte <= 0x7a ? lastByte - 0x20 : lastByte;
  let at = start;
  while (at + last < end) {
    const byte = raw[at + last];
    if (byte === lastByte || byte === lastUpper) {
      let j = 0;
      while (j < last && FOLD[raw[at + j]] === needle[j]) j++;
      if (j === last) return true;
    }
    at += shift[byte];
  }
  return false;
}

/**
 * The calendar day (days since 1970-01-01) of an RFC 5322 `date-time` as written, ignoring
 * its time and zone (RFC 9051 6.4.4: SENT* disregard time and timezone), or null when it
 * does not hold `[day-name ","] day month year time`. Two- and three-digit years are read
 * as RFC 5322 4.3 says.
 *
 * @example
 * ```ts
 * dateDay("Wed, 25 Nov 2026 23:30:00 -0800"); // 20782 (25 Nov 2026, not the next day in UTC)
 * ```
 */
export function dateDay(value: string): number | null {
  const match = /^\s*(?:[a-z]{3}\s*,\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+\d{1,2}:\d{2}/i
    .exec(value);
  if (!match) return null;
  const day = Number(match[1]);
  const month = monthNumber(match[2]);
  let year = Number(match[3]);
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3].length === 3) year += 1900;
  if (!month || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  return dayNumber(year, month, day);
}

/**
 * Days from 1970-01-01 to a calendar date (month 1-12), for any four-digit year (unlike
 * `Date.UTC`, which reads years below 100 as 19xx).
 *
 * @example
 * ```ts
 * dayNumber(1970, 1, 2); // 1
 * ```
 */
export function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return Math.round(date.getTime() / 86_400_000);
}
