/**
 * The text of a message as IMAP SEARCH matches it (RFC 9051 6.4.4): header values with RFC
 * 2047 encoded words decoded, and the bodies of text parts (text/* and message/* leaves) with
 * their transfer encoding and charset removed, all lower-cased once so matching is a plain
 * substring test.
 *
 * The header fields (`searchHeaders`, search_headers.ts) and the header lines of TEXT are kept
 * in the index memo.
 * The decoded body is not: most text parts of most mail are ASCII in an ASCII-compatible
 * charset with no transfer encoding, so their decoded, lower-cased text is their stored bytes
 * lower-cased, and BODY/TEXT match those bytes in place (`bodyIncludes`). Only the other
 * parts (quoted-printable, base64, 8-bit text) keep a decoded, lower-cased copy. Memory for a
 * searched mailbox is then its header lines plus the text that needed decoding, not a second
 * copy of every text part.
 *
 * @module
 */

import { decodeEncodedWords, type HeaderField } from "./headers.ts";
import type { MessageIndex } from "./message_index.ts";
import { decodeBodyText, type MimePart } from "./mime.ts";
import type { SearchField } from "./search_headers.ts";

// SEARCH's header forms live in their own module; re-exported for the modules that read them
// from this one.
export { dayNumber } from "./dates.ts";
export {
  dateDay,
  searchAddresses,
  searchAddressText,
  type SearchField,
  type SearchHeaders,
  searchHeaders,
} from "./search_headers.ts";

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

const TEXT = Symbol("search text");

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
  // The bytes the plan was made from serve the search too: with SQLite each `raw()` is a read
  // of the message from the database (a first SEARCH TEXT read every message twice).
  let read: Uint8Array | null = null;
  const plan = index.memo(TEXT, () => {
    const bytes = read = raw();
    const header: string[] = headerLines(index.root.fields);
    const body: BodySegment[] = [];
    collectParts(bytes, index.root, header, body);
    return { header: header.join("\n"), body };
  });
  return new PlannedText(plan, raw, read);
}

/** A message's text plan with its bytes, for one search (the bytes are read once, on use). */
class PlannedText implements SearchText {
  readonly #plan: TextPlan;
  readonly #load: () => Uint8Array;
  #bytes: Uint8Array | null;

  constructor(plan: TextPlan, raw: () => Uint8Array, bytes: Uint8Array | null) {
    this.#plan = plan;
    this.#load = raw;
    this.#bytes = bytes;
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
 * Walks the part tree below `part`: MIME part headers go to `header`, text bodies (text/* and
 * message/* leaves) and the headers of encapsulated messages to `body`.
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
  } else if (part.contentType.type === "text" || part.contentType.type === "message") {
    // message/* leaves too (delivery-status, disposition-notification: a bounce's recipient
    // and status), as Dovecot searches them.
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
