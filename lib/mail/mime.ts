/**
 * The MIME part tree of a message (RFC 2045, 2046, 2231): parsed once from the raw bytes,
 * with byte offsets of every part's header and body, so IMAP sections and the HTTP API can
 * slice the stored message instead of re-encoding it.
 *
 * Broken mail never throws: a missing closing boundary ends the part at the end of its
 * parent, bare LF works like CRLF, 8-bit header bytes are decoded as UTF-8 or Latin-1, a
 * message without a header/body separator is all header, and an empty message is one empty
 * text/plain part. A multipart without a usable boundary is read as text/plain
 * (RFC 2045 5.2: an invalid Content-Type means the default).
 *
 * Part numbers follow IMAP (RFC 9051 6.4.5): the children of a multipart are `1`, `2`, ...;
 * the body of a non-multipart message is part `1`; inside a `message/rfc822` part `N` the
 * encapsulated message's parts are `N.1`, `N.2`, ... (or `N.1` for its single body).
 *
 * @module
 */

import { findHeaderEnd, type HeaderField, headerValue, parseHeaderFields } from "./headers.ts";
import {
  MESSAGE_RFC822,
  type MimeTable,
  MimeTableBuilder,
  type TableSlab,
  transferEncoding,
  TypeSource,
} from "./mime_table.ts";
import type { MimePart } from "./mime_part.ts";
import { parseContentType, TEXT_PLAIN } from "./params.ts";

/**
 * Deepest nesting of multiparts and encapsulated messages that is parsed; deeper ones are
 * read as one opaque part. Below Dovecot's 100 (`MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS`):
 * real mail nests a handful of levels, and every consumer walks the tree recursively.
 */
export const MAX_MIME_DEPTH = 64;

const utf8 = new TextEncoder();

/**
 * Most parts indexed per message, the root and encapsulated messages included. Past it no
 * more boundaries are looked for: the last part that fits takes the rest of its multipart as
 * one opaque body, as Dovecot's overflow part does. Dovecot's cap is 10,000
 * (`MESSAGE_PARSER_DEFAULT_MAX_TOTAL_MIME_PARTS`); ours is lower because one event loop
 * serves every client here: at 1,000 parts indexing one message is a pause of tens of
 * milliseconds and its BODYSTRUCTURE about 70 KB, at 10,000 half a second and 700 KB. Real
 * mail has tens of parts. Without a cap a 4 MB message of 100,000 empty parts took seconds
 * to index and hundreds of megabytes while doing it.
 */
export const MAX_MIME_PARTS = 1_000;

/**
 * Parses `raw` into its part tree. The root's `partNumber` is `""`.
 *
 * @example
 * ```ts
 * const root = parseMime(new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n"));
 * root.contentType.subtype; // "plain"
 * ```
 */
export function parseMime(raw: Uint8Array): MimePart {
  return parseMimeTable(raw).root();
}

/**
 * Parses `raw` into its compact part table (see mime_part.ts); the table of a one-part
 * message is cut from `slab` when given.
 */
export function parseMimeTable(raw: Uint8Array, slab: TableSlab | null = null): MimeTable {
  const table = new MimeTableBuilder(raw, slab);
  parseEntity(raw, table, table.allocate(1), 0, raw.length, TypeSource.TextPlain, true, 0);
  return table.finish();
}

/**
 * Parses one entity into `row`. A whole message's header (`whole`) is always read as a
 * header; a part's only when it starts like one.
 */
function parseEntity(
  raw: Uint8Array,
  table: MimeTableBuilder,
  row: number,
  start: number,
  end: number,
  defaultType: TypeSource,
  whole: boolean,
  depth: number,
): void {
  const { headerEnd, bodyStart } = !whole && !startsWithField(raw, start, end)
    ? { headerEnd: start, bodyStart: start }
    : findHeaderEnd(raw, start, end);
  let fields: HeaderField[];
  if (row === 0) {
    // Kept with the table, so read from a copy: the index must not hold on to `raw`.
    const header = table.copyRootHeader(raw, start, headerEnd);
    fields = table.rootFields = parseHeaderFields(header, 0, headerEnd - start, start);
  } else fields = parseHeaderFields(raw, start, headerEnd);
  const typeValue = headerValue(fields, "Content-Type");
  const contentType = typeValue === undefined
    ? (defaultType === TypeSource.MessageRfc822 ? MESSAGE_RFC822 : TEXT_PLAIN)
    : parseContentType(typeValue);
  // For the root's view (see `MimeTable.takeRootContentType`).
  if (row === 0 && typeValue !== undefined) table.rootContentType = contentType;
  let typeSource = typeValue === undefined ? defaultType : TypeSource.Field;
  const budget = MAX_MIME_PARTS - table.rows;
  if (contentType.type === "multipart") {
    const boundary = contentType.params.boundary;
    // No boundary, too deep or no part left to index: the body is one opaque text/plain part.
    let ranges = boundary && depth < MAX_MIME_DEPTH && budget > 0
      ? splitMultipart(raw, bodyStart, end, boundary, budget)
      : null;
    if (ranges === null) typeSource = TypeSource.TextPlain;
    else {
      // No delimiter at all: the body is read as one part rather than lost.
      if (ranges.length === 0) ranges = [[bodyStart, end]];
      const count = Math.min(ranges.length, budget);
      const first = table.allocate(count);
      table.set(row, {
        headerStart: start,
        headerEnd,
        bodyStart,
        bodyEnd: end,
        typeSource,
        childFirst: first,
        childCount: count,
        message: -1,
      });
      const childType = contentType.subtype === "digest"
        ? TypeSource.MessageRfc822
        : TypeSource.TextPlain;
      for (let i = 0; i < count; i++) {
        // Past the cap, the last part that fits takes the rest, unparsed (as if too deep).
        const cut = i === count - 1 && count < ranges.length;
        const [childStart, childEnd] = cut ? [ranges[i][0], end] : ranges[i];
        const childDepth = cut ? MAX_MIME_DEPTH : depth + 1;
        parseEntity(raw, table, first + i, childStart, childEnd, childType, false, childDepth);
      }
      return;
    }
  }
  let message = -1;
  if (
    contentType.type === "message" &&
    (contentType.subtype === "rfc822" || contentType.subtype === "global") &&
    depth < MAX_MIME_DEPTH && budget > 0
  ) {
    const encoding = transferEncoding(headerValue(fields, "Content-Transfer-Encoding"));
    if (encoding !== "base64" && encoding !== "quoted-printable") message = table.allocate(1);
  }
  table.set(row, {
    headerStart: start,
    headerEnd,
    bodyStart,
    bodyEnd: end,
    typeSource,
    childFirst: 0,
    childCount: 0,
    message,
  });
  if (message >= 0) {
    parseEntity(raw, table, message, bodyStart, end, TypeSource.TextPlain, true, depth + 1);
  }
}

/** Whether the block starts with something shaped like a header field (or an empty line). */
function startsWithField(raw: Uint8Array, start: number, end: number): boolean {
  if (start >= end || raw[start] === 0x0d || raw[start] === 0x0a) return true;
  let lineEnd = raw.indexOf(0x0a, start);
  if (lineEnd < 0 || lineEnd > end) lineEnd = end;
  for (let i = start; i < lineEnd; i++) {
    const byte = raw[i];
    if (byte === 0x3a) return i > start;
    if (byte <= 0x20 || byte === 0x7f) return false;
  }
  return false;
}

/**
 * Finds the body parts of a multipart in `raw[start, end)`: the ranges between delimiter
 * lines `--boundary`, up to the close delimiter `--boundary--` or `end` when it is missing.
 * The line end before a delimiter belongs to the delimiter (RFC 2046 5.1.1). Stops after
 * `limit` + 1 ranges, so the caller sees there are more than it will index without the
 * whole body being scanned.
 */
export function splitMultipart(
  raw: Uint8Array,
  start: number,
  end: number,
  boundary: string,
  limit = Infinity,
): Array<[number, number]> {
  const finder = new DelimiterFinder(utf8.encode("\n--" + boundary));
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let lineStart = start;
  /** The boundary of the part at `partStart` if it is a multipart (see below), once read. */
  let inner = null as { partStart: number; boundary: Uint8Array | null } | null;
  while (lineStart < end) {
    const hit = finder.find(raw, lineStart, end);
    if (hit === null) break;
    if (hit.loose && partStart >= 0) {
      // `--boundary` and more on the line: a delimiter (RFC 2046 5.1.1 compares the start of
      // the line), unless it is one of the part's own multipart, whose boundary starts with
      // this one's (5.1.2 forbids that; Dovecot tries the innermost boundary first).
      if (inner?.partStart !== partStart) {
        inner = { partStart, boundary: multipartBoundary(raw, partStart, hit.before) };
      }
      if (inner.boundary && startsWith(raw, hit.boundaryStart, inner.boundary)) {
        lineStart = hit.next;
        continue;
      }
    }
    if (partStart >= 0) ranges.push([partStart, Math.max(partStart, hit.before)]);
    if (hit.close || ranges.length > limit) return ranges;
    partStart = hit.next;
    lineStart = hit.next;
  }
  if (partStart >= 0) ranges.push([partStart, end]);
  return ranges;
}

/** The boundary of the entity at `raw[start, end)` if its Content-Type is a multipart's. */
function multipartBoundary(raw: Uint8Array, start: number, end: number): Uint8Array | null {
  const { headerEnd } = findHeaderEnd(raw, start, end);
  const value = headerValue(parseHeaderFields(raw, start, headerEnd), "Content-Type");
  if (value === undefined) return null;
  const type = parseContentType(value);
  const boundary = type.type === "multipart" ? type.params.boundary : undefined;
  return boundary ? utf8.encode(boundary) : null;
}

/** Whether `raw` holds `prefix` at `at`. */
function startsWith(raw: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > raw.length) return false;
  for (let i = 0; i < prefix.length; i++) if (raw[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * After this many hyphens that start no delimiter, {@linkcode DelimiterFinder.find} looks at
 * how close together they came (see {@linkcode DASH_SPACING}).
 */
const DASH_MISSES = 32;

/**
 * Fewest bytes a hyphen that starts no delimiter may come in on average, past
 * {@linkcode DASH_MISSES} of them, for the search to go on hyphen by hyphen; closer together
 * (ASCII art, a body of dashes), the rest of the range is searched by skips instead.
 */
const DASH_SPACING = 256;

/** A delimiter line {@linkcode DelimiterFinder} found. */
interface DelimiterHit {
  /** Where the part before it ends: the line end before the delimiter belongs to it. */
  readonly before: number;
  /** Where the line after it starts. */
  readonly next: number;
  /** The close delimiter: `--boundary--`. */
  readonly close: boolean;
  /** More than white space follows `--boundary` on the line (not the close delimiter). */
  readonly loose: boolean;
  /** Where the boundary starts, after the line's `--`. */
  readonly boundaryStart: number;
}

/**
 * Finds delimiter lines (`--boundary` at the start of a line, then white space or anything
 * else, or `--` for the close delimiter) without decoding anything. Most of a body holds no
 * hyphen at all (a base64 attachment, whose alphabet has none, is most of a large message's
 * bytes), so the search goes from hyphen to hyphen with `Uint8Array.prototype.indexOf`, which
 * V8 runs natively (twice as fast as the skip search below on base64, issue 13 round 18), and
 * tries the needle LF `--boundary` where a hyphen follows a line end. Where hyphens come close
 * together, it goes on with a Boyer-Moore-Horspool search for the needle: the bytes are
 * skipped without being compared, the length of the boundary at a time.
 */
class DelimiterFinder {
  /** LF, `--`, the boundary. */
  readonly #needle: Uint8Array;
  /** How far the search may move when the byte under the needle's last position is `b`. */
  readonly #skip: Int32Array;

  constructor(needle: Uint8Array) {
    this.#needle = needle;
    const last = needle.length - 1;
    this.#skip = new Int32Array(256).fill(needle.length);
    for (let i = 0; i < last; i++) this.#skip[needle[i]] = last - i;
  }

  /** The first delimiter line in `raw[from, end)`, or null. */
  find(
    raw: Uint8Array,
    from: number,
    end: number,
  ): DelimiterHit | null {
    const last = this.#needle.length - 1;
    // A delimiter right at `from` has no line end before it in the range.
    if (from + last <= end && this.#matchesFrom(raw, from - 1, 1)) {
      const hit = this.#delimiter(raw, from, end, from);
      if (hit) return hit;
    }
    let misses = 0;
    let at = from; // where the needle's LF may be, at the earliest
    while (at + last < end) {
      // The needle's first hyphen, one byte after its LF.
      const dash = raw.indexOf(0x2d, at + 1);
      if (dash < 0 || dash - 1 + last >= end) return null;
      if (raw[dash - 1] === 0x0a && this.#matchesFrom(raw, dash - 1, 2)) {
        const hit = this.#delimiter(raw, dash, end, from);
        if (hit) return hit;
      } else if (++misses > DASH_MISSES && dash - from < misses * DASH_SPACING) {
        return this.#skipSearch(raw, dash, end, from);
      }
      at = dash;
    }
    return null;
  }

  /** {@linkcode find} from the needle's LF at `at` on, by Boyer-Moore-Horspool skips. */
  #skipSearch(
    raw: Uint8Array,
    at: number,
    end: number,
    from: number,
  ): DelimiterHit | null {
    const needle = this.#needle;
    const last = needle.length - 1;
    const skip = this.#skip;
    const lastByte = needle[last];
    while (at + last < end) {
      const byte = raw[at + last];
      if (byte === lastByte && this.#matchesFrom(raw, at, 0)) {
        const hit = this.#delimiter(raw, at + 1, end, from);
        if (hit) return hit;
        at++;
      } else at += skip[byte];
    }
    return null;
  }

  /** Whether `raw` at `at` holds the needle, compared from its byte `first` on. */
  #matchesFrom(raw: Uint8Array, at: number, first: number): boolean {
    const needle = this.#needle;
    for (let j = first; j < needle.length; j++) if (raw[at + j] !== needle[j]) return false;
    return true;
  }

  /**
   * The delimiter whose `--boundary` starts at `lineStart`: the close delimiter if `--`
   * follows, else loose when the rest of the line is not white space (the caller decides).
   */
  #delimiter(
    raw: Uint8Array,
    lineStart: number,
    end: number,
    from: number,
  ): DelimiterHit | null {
    let i = lineStart + this.#needle.length - 1;
    const close = i + 1 < end && raw[i] === 0x2d && raw[i + 1] === 0x2d;
    if (close) i += 2;
    let rest = i;
    while (rest < end && (raw[rest] === 0x20 || raw[rest] === 0x09 || raw[rest] === 0x0d)) {
      rest++;
    }
    const loose = !close && rest < end && raw[rest] !== 0x0a;
    let lineEnd = raw.indexOf(0x0a, i);
    lineEnd = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
    let before = lineStart;
    if (before > from && raw[before - 1] === 0x0a) before--;
    if (before > from && raw[before - 1] === 0x0d) before--;
    return { before, next: lineEnd, close, loose, boundaryStart: lineStart + 2 };
  }
}

/** The part with IMAP number `partNumber` (`"1"`, `"2.1.3"`), or undefined. */
export function findPart(root: MimePart, partNumber: string): MimePart | undefined {
  if (!/^[1-9][0-9]*(\.[1-9][0-9]*)*$/.test(partNumber)) return undefined;
  let node: MimePart = root;
  let whole = true; // `node` is a whole message, not yet one of its parts
  for (const step of partNumber.split(".").map(Number)) {
    // Inside a message/rfc822 part, numbering continues with the encapsulated message.
    const container = whole ? node : node.children.length > 0 ? node : node.message;
    if (!container) return undefined;
    if (container.children.length > 0) {
      const child = container.children[step - 1];
      if (!child) return undefined;
      node = child;
    } else if (step === 1) {
      node = container; // a non-multipart message's body is its part 1
    } else return undefined;
    whole = false;
  }
  return node;
}

// The part types, parameters, transfer decoding and content extraction live in their own
// modules (which import none of this one); they are re-exported here for the modules that
// read them from mime.ts.
export type { ContentDisposition, ContentType, MimeParams, MimePart } from "./mime_part.ts";
export { parseContentType, parseParameterized, splitParameters } from "./params.ts";
export {
  base64DecodedLength,
  decodeBase64Bytes,
  decodeBody,
  decodeBodyText,
  decodeQuotedPrintable,
  isKnownEncoding,
  rawBody,
} from "./transfer.ts";
export {
  type AttachmentInfo,
  extractContent,
  type MessageContent,
  partFilename,
} from "./content.ts";
