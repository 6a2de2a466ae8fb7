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
 * Part numbers follow IMAP (RFC 9051 6.4.5): the children of a multipart are `1`, `2`, …;
 * the body of a non-multipart message is part `1`; inside a `message/rfc822` part `N` the
 * encapsulated message's parts are `N.1`, `N.2`, … (or `N.1` for its single body).
 *
 * @module
 */

import { findHeaderEnd, headerValue, parseHeaderFields } from "./headers.ts";
import type { ContentType, MimePart } from "./mime_part.ts";
import { parseContentType, parseParameterized, stripComments, TEXT_PLAIN } from "./params.ts";

const MAX_DEPTH = 64;
const MESSAGE_RFC822: ContentType = { type: "message", subtype: "rfc822", params: {} };

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
  return parseEntity(raw, 0, raw.length, TEXT_PLAIN, "", "", 0);
}

/**
 * Parses one entity. `partNumber` is `""` for a whole message (whose header is always read
 * as a header); `childPrefix` is what its parts' numbers start with.
 */
function parseEntity(
  raw: Uint8Array,
  start: number,
  end: number,
  defaultType: ContentType,
  partNumber: string,
  childPrefix: string,
  depth: number,
): MimePart {
  const { headerEnd, bodyStart } = partNumber !== "" && !startsWithField(raw, start, end)
    ? { headerEnd: start, bodyStart: start }
    : findHeaderEnd(raw, start, end);
  const fields = parseHeaderFields(raw, start, headerEnd);
  const typeValue = headerValue(fields, "Content-Type");
  let contentType = typeValue === undefined ? defaultType : parseContentType(typeValue);
  const dispositionValue = headerValue(fields, "Content-Disposition");
  const disposition = dispositionValue === undefined ? null : parseParameterized(dispositionValue);
  const encoding = transferEncoding(headerValue(fields, "Content-Transfer-Encoding"));
  const idValue = headerValue(fields, "Content-ID");
  const contentId = idValue === undefined ? null : idValue.trim().replace(/^<(.*)>$/, "$1");
  const base = { partNumber, headerStart: start, headerEnd, bodyStart, fields, encoding };
  const boundary = contentType.params.boundary;
  if (contentType.type === "multipart" && (!boundary || depth >= MAX_DEPTH)) {
    contentType = TEXT_PLAIN;
  }
  if (contentType.type === "multipart") {
    const childDefault = contentType.subtype === "digest" ? MESSAGE_RFC822 : TEXT_PLAIN;
    let ranges = splitMultipart(raw, bodyStart, end, boundary);
    // No delimiter at all: the body is read as one part rather than lost.
    if (ranges.length === 0) ranges = [[bodyStart, end]];
    const children = ranges.map(([childStart, childEnd], index) => {
      const number = childPrefix + (index + 1);
      return parseEntity(raw, childStart, childEnd, childDefault, number, number + ".", depth + 1);
    });
    return { ...base, bodyEnd: end, contentType, disposition, contentId, children, message: null };
  }
  let message: MimePart | null = null;
  if (
    contentType.type === "message" &&
    (contentType.subtype === "rfc822" || contentType.subtype === "global") &&
    encoding !== "base64" && encoding !== "quoted-printable" && depth < MAX_DEPTH
  ) {
    // The encapsulated message's parts are numbered below this part (RFC 9051 6.4.5); for a
    // whole message, below its body, part 1.
    const innerPrefix = partNumber === "" ? childPrefix + "1." : childPrefix;
    message = parseEntity(raw, bodyStart, end, TEXT_PLAIN, "", innerPrefix, depth + 1);
  }
  return { ...base, bodyEnd: end, contentType, disposition, contentId, children: [], message };
}

/**
 * The lower-cased `Content-Transfer-Encoding` token; `7bit` when absent or not a token
 * (RFC 2045 6.1: `mechanism := "7bit" / ... / ietf-token / x-token`), as Dovecot reads it.
 */
function transferEncoding(value: string | undefined): string {
  if (value === undefined) return "7bit";
  const token = stripComments(value).trim().toLowerCase();
  return /^[!#$%&'*+.^_`{|}~0-9a-z-]+$/.test(token) ? token : "7bit";
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
 * The line end before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
 */
export function splitMultipart(
  raw: Uint8Array,
  start: number,
  end: number,
  boundary: string,
): Array<[number, number]> {
  const needle = new TextEncoder().encode("--" + boundary);
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let lineStart = start;
  while (lineStart < end) {
    const hit = findDelimiter(raw, needle, lineStart, end);
    if (hit === null) break;
    if (partStart >= 0) ranges.push([partStart, Math.max(partStart, hit.before)]);
    if (hit.close) return ranges;
    partStart = hit.next;
    lineStart = hit.next;
  }
  if (partStart >= 0) ranges.push([partStart, end]);
  return ranges;
}

function findDelimiter(
  raw: Uint8Array,
  needle: Uint8Array,
  from: number,
  end: number,
): { before: number; next: number; close: boolean } | null {
  // Only a "-" at the start of a line can begin a delimiter: jump from one to the next (a
  // base64 body has none, so it is skipped in one search).
  let at = from;
  while (at < end) {
    const lineStart = raw.indexOf(0x2d, at);
    if (lineStart < 0 || lineStart >= end) return null;
    at = lineStart + 1;
    if (lineStart !== from && raw[lineStart - 1] !== 0x0a) continue;
    if (matchesAt(raw, needle, lineStart, end)) {
      let i = lineStart + needle.length;
      const close = i + 1 < end && raw[i] === 0x2d && raw[i + 1] === 0x2d;
      if (close) i += 2;
      // The rest of the line must be white space (a longer boundary is a different one).
      let rest = i;
      while (rest < end && (raw[rest] === 0x20 || raw[rest] === 0x09 || raw[rest] === 0x0d)) {
        rest++;
      }
      if (close || rest >= end || raw[rest] === 0x0a) {
        let lineEnd = raw.indexOf(0x0a, i);
        lineEnd = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
        let before = lineStart;
        if (before > from && raw[before - 1] === 0x0a) before--;
        if (before > from && raw[before - 1] === 0x0d) before--;
        return { before, next: lineEnd, close };
      }
    }
  }
  return null;
}

function matchesAt(raw: Uint8Array, needle: Uint8Array, at: number, end: number): boolean {
  if (at + needle.length > end) return false;
  for (let j = 0; j < needle.length; j++) if (raw[at + j] !== needle[j]) return false;
  return true;
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
