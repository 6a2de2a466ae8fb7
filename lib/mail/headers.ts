/**
 * RFC 5322 header blocks: where the header ends, the fields with their raw bytes, unfolded
 * values, and RFC 2047 encoded-word decoding. Tolerant of broken mail: bare LF line ends,
 * 8-bit bytes, a missing header/body separator. Nothing here throws on any input.
 *
 * @module
 */

/** One header field. */
export interface HeaderField {
  /** Field name as written. */
  readonly name: string;
  /** Unfolded value, decoded as UTF-8 (latin1 fallback), leading white space removed. */
  readonly value: string;
  /** Offset of the field's first byte within the parsed buffer. */
  readonly start: number;
  /** Offset just past the field's last line end. */
  readonly end: number;
}

/**
 * Finds the end of the header block starting at `start`: the offset of the empty line that
 * separates header and body (`headerEnd`), and where the body begins (`bodyStart`). Without
 * a separator the whole buffer is header.
 */
export function findHeaderEnd(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): { headerEnd: number; bodyStart: number } {
  // An empty line right at the start: empty header.
  if (start < end && bytes[start] === 0x0a) return { headerEnd: start, bodyStart: start + 1 };
  if (start + 1 < end && bytes[start] === 0x0d && bytes[start + 1] === 0x0a) {
    return { headerEnd: start, bodyStart: start + 2 };
  }
  for (let i = start; i < end; i++) {
    if (bytes[i] !== 0x0a) continue;
    // i is a line end; the next line is empty if it is LF or CRLF.
    if (i + 1 < end && bytes[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 2 };
    if (i + 2 < end && bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) {
      return { headerEnd: i + 1, bodyStart: i + 3 };
    }
    if (i + 2 === end && bytes[i + 1] === 0x0d) return { headerEnd: i + 1, bodyStart: end };
  }
  return { headerEnd: end, bodyStart: end };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Decodes bytes as UTF-8, or as Latin-1 when they are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/**
 * Parses the fields of the header block `bytes[start, end)`. Names are read from the bytes;
 * a value is decoded when first read (most consumers read a few fields of a header, and
 * ENVELOPE and BODYSTRUCTURE read the stored bytes instead), so the fields keep `bytes`.
 * `shift` is added to the offsets the fields report (a copy of a header block reports the
 * offsets of the original).
 */
export function parseHeaderFields(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  shift = 0,
): HeaderField[] {
  const fields: HeaderField[] = [];
  let fieldStart = -1;
  let i = start;
  while (i < end) {
    let lineEnd = bytes.indexOf(0x0a, i);
    lineEnd = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
    const first = bytes[i];
    // A continuation line belongs to the open field (or is stray and ignored).
    if (first !== 0x20 && first !== 0x09) {
      if (fieldStart >= 0) addField(fields, bytes, fieldStart, i, shift);
      fieldStart = i;
    }
    i = lineEnd;
  }
  if (fieldStart >= 0) addField(fields, bytes, fieldStart, end, shift);
  return fields;
}

/** Bytes `String.prototype.trim` and `/\s/` treat as white space, for ASCII. */
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Adds the field `bytes[fieldStart, fieldEnd)` when it has a name: the text before the first
 * colon, trimmed, non-empty and without white space inside.
 */
function addField(
  fields: HeaderField[],
  bytes: Uint8Array,
  fieldStart: number,
  fieldEnd: number,
  shift: number,
): void {
  let colon = fieldStart;
  let ascii = true;
  while (colon < fieldEnd && bytes[colon] !== 0x3a) {
    if (bytes[colon] >= 0x80) ascii = false;
    colon++;
  }
  if (colon === fieldStart || colon === fieldEnd) return;
  if (!ascii) {
    // An 8-bit name: decoded with its field, as a whole (UTF-8 unless the field is not).
    const text = decodeText(bytes.subarray(fieldStart, fieldEnd));
    const name = text.slice(0, text.indexOf(":")).trim();
    if (name && !/[\s]/.test(name)) {
      fields.push(new StoredField(name, bytes, fieldStart, fieldEnd, shift));
    }
    return;
  }
  let nameStart = fieldStart;
  let nameEnd = colon;
  while (nameStart < nameEnd && isAsciiSpace(bytes[nameStart])) nameStart++;
  while (nameEnd > nameStart && isAsciiSpace(bytes[nameEnd - 1])) nameEnd--;
  if (nameStart === nameEnd) return;
  for (let j = nameStart; j < nameEnd; j++) if (isAsciiSpace(bytes[j])) return;
  const name = knownName(bytes, nameStart, nameEnd) ?? binaryString(bytes, nameStart, nameEnd);
  fields.push(new StoredField(name, bytes, fieldStart, fieldEnd, shift));
}

/** Field names most mail has, spelled as most mail does, by length. */
const KNOWN_NAMES: ReadonlyArray<readonly string[]> = (() => {
  const names = [
    "From",
    "To",
    "Cc",
    "Bcc",
    "Subject",
    "Date",
    "Message-ID",
    "Message-Id",
    "MIME-Version",
    "Mime-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-ID",
    "Content-Id",
    "Content-Description",
    "Content-Language",
    "Content-Location",
    "Content-MD5",
    "Reply-To",
    "Sender",
    "In-Reply-To",
    "References",
    "Received",
    "Return-Path",
    "Delivered-To",
    "DKIM-Signature",
    "X-Mailer",
    "List-Unsubscribe",
    "List-Id",
    "Authentication-Results",
    "Received-SPF",
    "X-Received",
    "User-Agent",
    "Thread-Topic",
    "Thread-Index",
    "Precedence",
    "Importance",
    "X-Priority",
    "Organization",
    "Feedback-ID",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "X-Google-DKIM-Signature",
    "X-Gm-Message-State",
    "Auto-Submitted",
    "Content-Class",
  ];
  return stringsByLength(names);
})();

/** `strings` grouped by length: a table to look a slice up in by its length first. */
export function stringsByLength(strings: readonly string[]): string[][] {
  const byLength: string[][] = [];
  for (const text of strings) (byLength[text.length] ??= []).push(text);
  return byLength;
}

/**
 * `bytes[start, end)` as one of {@linkcode KNOWN_NAMES} when it is one (the same string every
 * time, nothing allocated), else undefined.
 */
function knownName(bytes: Uint8Array, start: number, end: number): string | undefined {
  const candidates = KNOWN_NAMES[end - start];
  if (candidates === undefined) return undefined;
  // Indexed, not `for...of`: no iterator objects (a dozen fields a delivered message).
  for (let c = 0; c < candidates.length; c++) {
    const name = candidates[c];
    let i = 0;
    while (i < name.length && bytes[start + i] === name.charCodeAt(i)) i++;
    if (i === name.length) return name;
  }
  return undefined;
}

/** A field of a parsed header block; its value is decoded on first use. */
class StoredField implements HeaderField {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly #bytes: Uint8Array;
  readonly #shift: number;
  #value: string | null = null;

  constructor(name: string, bytes: Uint8Array, start: number, end: number, shift: number) {
    this.name = name;
    this.#bytes = bytes;
    this.#shift = shift;
    this.start = start + shift;
    this.end = end + shift;
  }

  get value(): string {
    const shift = this.#shift;
    return this.#value ??= fieldValue(this.#bytes, this.start - shift, this.end - shift);
  }
}

/**
 * The value of the field `bytes[start, end)`: the text after the first colon, unfolded,
 * decoded as UTF-8 (Latin-1 when the field is not UTF-8), trimmed.
 */
function fieldValue(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const value = asciiFieldValue(bytes, start, end);
    if (value !== null) return value;
  }
  const text = ascii ? binaryString(bytes, start, end) : decodeText(bytes.subarray(start, end));
  let value = text.slice(text.indexOf(":") + 1);
  // Unfolded: the line breaks before white space go. The one ending the field (and any
  // other trailing one) goes with the trim.
  const lf = value.indexOf("\n");
  if (lf >= 0 && lf < value.length - 1) value = value.replace(/\r?\n(?=[ \t])/g, "");
  return value.trim();
}

/**
 * {@linkcode fieldValue} of an ASCII field on one line, made from the value's bytes alone:
 * slicing and trimming the field's text would keep the whole line alive behind the value
 * (V8 slices point into their parent), and values are kept (cached fields, summaries).
 * Null for a folded field (the general path unfolds it).
 */
function asciiFieldValue(bytes: Uint8Array, start: number, end: number): string | null {
  let from = bytes.indexOf(0x3a, start);
  from = from < 0 || from >= end ? start : from + 1;
  const lf = bytes.indexOf(0x0a, from);
  if (lf >= 0 && lf < end - 1) return null;
  let to = end;
  while (from < to && isAsciiSpace(bytes[from])) from++;
  while (to > from && isAsciiSpace(bytes[to - 1])) to--;
  return binaryString(bytes, from, to);
}

/** The first field named `name` (case-insensitive), or undefined. */
export function headerField(
  fields: readonly HeaderField[],
  name: string,
): HeaderField | undefined {
  if (!isAsciiText(name)) return headerFieldLowered(fields, name);
  // An ASCII name keeps its length lower-cased: names are compared without a lower-cased
  // copy of either (ENVELOPE and BODYSTRUCTURE look up seventeen a delivered message).
  for (const field of fields) {
    // Most mail spells a field as the caller does: no folding needed.
    if (
      field.name.length === name.length &&
      (field.name === name || sameAsciiFolded(field.name, name))
    ) return field;
  }
  return undefined;
}

/** Field names looked up together by {@linkcode firstFields}, grouped by length. */
export interface FieldNames {
  readonly names: readonly string[];
  /** The indexes in `names` of the names of each length. */
  readonly byLength: ReadonlyArray<readonly number[] | undefined>;
}

/** `names` (ASCII) for {@linkcode firstFields}; made once per list. */
export function fieldNames(names: readonly string[]): FieldNames {
  const byLength: number[][] = [];
  names.forEach((name, i) => {
    if (!isAsciiText(name)) throw new Error(`Cannot look up ${name}: not ASCII`);
    (byLength[name.length] ??= []).push(i);
  });
  return { names, byLength };
}

/**
 * The first field named as each of `wanted.names` (case-insensitive), in their order: what
 * {@linkcode headerField} gives for each, in one pass over the fields, each compared with the
 * names of its length only (ENVELOPE reads ten names and BODYSTRUCTURE seven a part, of a
 * delivered message's dozen fields). With `last` (as long as the names), the same pass fills
 * it with the last field of each name.
 */
export function firstFields(
  fields: readonly HeaderField[],
  wanted: FieldNames,
  last: Array<HeaderField | undefined> | null = null,
): Array<HeaderField | undefined> {
  const { names, byLength } = wanted;
  // Of the exact length, not grown by pushes (room for 16 on the first; `fill` made more).
  const found = new Array<HeaderField | undefined>(names.length);
  for (let i = 0; i < names.length; i++) found[i] = undefined;
  if (last !== null) { for (let i = 0; i < names.length; i++) last[i] = undefined; }
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f];
    const candidates = byLength[field.name.length];
    if (candidates === undefined) continue;
    for (let c = 0; c < candidates.length; c++) {
      const i = candidates[c];
      if (found[i] !== undefined) {
        // Already found: the last one of the name is kept in `last`, when asked for.
        if (last !== null) {
          const name = names[i];
          if (field.name === name || sameAsciiFolded(field.name, name)) last[i] = field;
        }
        continue;
      }
      const name = names[i];
      if (field.name === name || sameAsciiFolded(field.name, name)) {
        found[i] = field;
        if (last !== null) last[i] = field;
      }
    }
  }
  return found;
}

/** {@linkcode headerField} by lower-cased copies: for any name. */
function headerFieldLowered(
  fields: readonly HeaderField[],
  name: string,
): HeaderField | undefined {
  const wanted = name.toLowerCase();
  for (const field of fields) {
    if (
      field.name.length === wanted.length &&
      (field.name === name || field.name.toLowerCase() === wanted)
    ) return field;
  }
  return undefined;
}

function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Whether `a.toLowerCase() === b.toLowerCase()` for `b` ASCII and `a` as long: folded char
 * by char while `a` is ASCII too (where lower-casing maps A-Z alone), else by the copies
 * (a few non-ASCII chars lower-case to ASCII ones, the Kelvin sign to `k`).
 */
function sameAsciiFolded(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    if (x >= 0x80) return a.toLowerCase() === b.toLowerCase();
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** The value of the first field named `name` (case-insensitive), or undefined. */
export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  return headerField(fields, name)?.value;
}

/**
 * A field's value as stored, for protocols that hand header values out undecoded (IMAP
 * ENVELOPE and BODYSTRUCTURE): a binary string with one char per byte, so 8-bit bytes keep
 * their exact values. Unfolded (RFC 5322 2.2.3: the CR and LF of each line break removed, the
 * white space kept), NUL bytes as 0x80 (no IMAP string can carry NUL; Dovecot does the
 * same, and the length stays), surrounding white space trimmed.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("Subject: two\r\n lines\r\n\r\n");
 * rawFieldValue(raw, parseHeaderFields(raw)[0]); // "two lines"
 * ```
 */
export function rawFieldValue(raw: Uint8Array, field: HeaderField): string {
  const i = valueStart(raw, field);
  if (i < 0) return "";
  const end = valueEnd(raw, i, field.end);
  let out = "";
  let runStart = i;
  // Copy runs between line-break and NUL bytes; most values are a single run.
  for (let j = i; j <= end; j++) {
    const byte = j < end ? raw[j] : -1;
    if (byte === 0x0d || byte === 0x0a || byte === 0 || byte === -1) {
      if (j > runStart) out += binaryString(raw, runStart, j);
      if (byte === 0) out += "\x80";
      runStart = j + 1;
    }
  }
  return out;
}

/**
 * {@linkcode rawFieldValue} of `field`, or null without one. A function for ENVELOPE and
 * BODYSTRUCTURE to call, not a closure over `raw` they make for every delivered message.
 */
export function storedFieldValue(raw: Uint8Array, field: HeaderField | undefined): string | null {
  return field === undefined ? null : rawFieldValue(raw, field);
}

/**
 * Whether {@linkcode rawFieldValue} of `field` is `text`, found without making it (a
 * Content-Type already read decoded is checked against its stored bytes so).
 */
export function rawFieldValueIs(raw: Uint8Array, field: HeaderField, text: string): boolean {
  const i = valueStart(raw, field);
  if (i < 0) return text === "";
  const end = valueEnd(raw, i, field.end);
  let at = 0;
  for (let j = i; j < end; j++) {
    const byte = raw[j];
    if (byte === 0x0d || byte === 0x0a) continue;
    const code = byte === 0 ? 0x80 : byte;
    if (at === text.length || text.charCodeAt(at++) !== code) return false;
  }
  return at === text.length;
}

/** Where the value of `field` starts in `raw`, blanks skipped; -1 without a colon. */
function valueStart(raw: Uint8Array, field: HeaderField): number {
  let i = raw.indexOf(0x3a, field.start);
  if (i < 0 || i >= field.end) return -1;
  i++;
  while (i < field.end && isBlank(raw[i])) i++;
  return i;
}

/** Where the value starting at `start` ends, trailing blanks left out. */
function valueEnd(raw: Uint8Array, start: number, end: number): number {
  while (end > start && isBlank(raw[end - 1])) end--;
  return end;
}

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

/** Longest text {@linkcode binaryString} makes through {@linkcode shortCodes}. */
const SHORT_CODES = 128;

/**
 * One array of codes for each length up to {@linkcode SHORT_CODES}, made on first use and
 * reused: a fresh array a call took 8 bytes a char besides the string (a header's values,
 * read at delivery for the summary, ENVELOPE and BODYSTRUCTURE, are a few KB of them a
 * message), and filling a kept one was as fast (0.06-0.34 against 0.11-0.41 us for 8-60
 * chars). At most 128 arrays of up to 128 codes (66 KB) are kept.
 */
const shortCodes: number[][] = [];

/**
 * `bytes[start, end)` as a binary string (one char per byte). The codes go through a plain
 * array: `String.fromCharCode.apply` takes one much faster than a typed array (which it
 * converts in the runtime), twice as fast for the short values of header fields.
 */
export function binaryString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const length = end - start;
  if (length <= 0) return "";
  if (length <= SHORT_CODES) {
    // Short (field names and values): the array for this length, kept, filled anew.
    const codes = shortCodes[length] ??= new Array<number>(length).fill(0);
    for (let j = 0; j < length; j++) codes[j] = bytes[start + j];
    return String.fromCharCode.apply(null, codes);
  }
  let out = "";
  for (let i = start; i < end; i += 8192) {
    const stop = Math.min(end, i + 8192);
    const codes: number[] = new Array(stop - i);
    for (let j = i; j < stop; j++) codes[j - i] = bytes[j];
    out += String.fromCharCode.apply(null, codes);
  }
  return out;
}

const encodedWord = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/** Decodes RFC 2047 encoded words; white space between adjacent encoded words is dropped. */
export function decodeEncodedWords(value: string): string {
  if (!value.includes("=?")) return value;
  const joined = value.replace(/(\?=)[ \t\r\n]+(?==\?)/g, "$1");
  return joined.replace(encodedWord, (whole, charset: string, encoding: string, text: string) => {
    try {
      const bytes = encoding.toUpperCase() === "B"
        ? decodeBase64Loose(text)
        : decodeQEncoding(text);
      return decodeCharset(bytes, charset.split("*")[0]);
    } catch {
      return whole;
    }
  });
}

/** Decodes bytes in a MIME charset; unknown charsets fall back to UTF-8/Latin-1. */
export function decodeCharset(bytes: Uint8Array, charset: string): string {
  const label = charset.trim().toLowerCase();
  if (label === "" || label === "us-ascii" || label === "utf-8" || label === "utf8") {
    return decodeText(bytes);
  }
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return decodeText(bytes);
  }
}

function decodeQEncoding(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "_") out.push(0x20);
    else if (ch === "=" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return new Uint8Array(out);
}

/** Base64 decoding that skips characters outside the alphabet and tolerates missing padding. */
export function decodeBase64Loose(text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, "");
  const usable = clean.length - (clean.length % 4 === 1 ? 1 : 0);
  const padded = clean.slice(0, usable) + "==".slice(0, (4 - (usable % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
