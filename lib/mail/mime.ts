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

import {
  decodeCharset,
  decodeEncodedWords,
  decodeText,
  findHeaderEnd,
  type HeaderField,
  headerValue,
  parseHeaderFields,
} from "./headers.ts";

/** A parameter list: lower-cased names, decoded values (RFC 2231 continuations joined). */
export type MimeParams = Record<string, string>;

/** A parsed `Content-Type`. */
export interface ContentType {
  /** Lower-cased, e.g. `text`. */
  readonly type: string;
  /** Lower-cased, e.g. `plain`. */
  readonly subtype: string;
  readonly params: MimeParams;
}

/** A parsed `Content-Disposition`. */
export interface ContentDisposition {
  /** Lower-cased, e.g. `attachment` or `inline`. */
  readonly type: string;
  readonly params: MimeParams;
}

/** One node of the part tree. Offsets index the raw message bytes. */
export interface MimePart {
  /** IMAP part number: `""` for a whole message (the root or an encapsulated one). */
  readonly partNumber: string;
  readonly headerStart: number;
  /** Offset of the empty line ending the header (== `bodyStart` without one). */
  readonly headerEnd: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly fields: readonly HeaderField[];
  readonly contentType: ContentType;
  readonly disposition: ContentDisposition | null;
  /** Lower-cased `Content-Transfer-Encoding`, `7bit` when absent. */
  readonly encoding: string;
  /** `Content-ID` without the angle brackets, or null. */
  readonly contentId: string | null;
  /** Children of a multipart, in order; empty otherwise. */
  readonly children: readonly MimePart[];
  /** The encapsulated message of a `message/rfc822` or `message/global` part, or null. */
  readonly message: MimePart | null;
}

const MAX_DEPTH = 64;
const TEXT_PLAIN: ContentType = { type: "text", subtype: "plain", params: { charset: "us-ascii" } };
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

/** Parses a `Content-Type` value; a missing or malformed type/subtype gives text/plain. */
export function parseContentType(value: string): ContentType {
  const { type: full, params } = parseParameterized(value);
  const match = /^([!#$%&'*+.^_`|~0-9a-z-]+)\/([!#$%&'*+.^_`|~0-9a-z-]+)$/.exec(full);
  if (!match) return { ...TEXT_PLAIN, params: { ...TEXT_PLAIN.params, ...params } };
  return { type: match[1], subtype: match[2], params };
}

/**
 * Splits `value; name=value; …` into its leading token (white space removed, case kept) and
 * its parameters exactly as written: names as given, values with quotes and escapes removed,
 * nothing decoded or joined (IMAP BODYSTRUCTURE reports them like that). Comments are dropped.
 *
 * @example
 * ```ts
 * splitParameters('attachment; filename*0*="utf-8\'\'a"; filename*1=b');
 * // { type: "attachment", params: [{ name: "filename*0*", value: "utf-8''a" }, { name: "filename*1", value: "b" }] }
 * ```
 */
export function splitParameters(
  value: string,
): { type: string; params: Array<{ name: string; value: string }> } {
  const tokens = tokenizeParameters(stripComments(value));
  const type = tokens.shift()?.name ?? "";
  return { type, params: tokens.map(({ name, value }) => ({ name, value })) };
}

/**
 * Splits `value; name=value; …` into a lower-cased leading token and parameters, joining
 * RFC 2231 continuations (`name*0*=`, `name*1=`) and decoding `charset'lang'%XX` values.
 * Quoted values may hold RFC 2047 encoded words (a common non-standard habit).
 */
export function parseParameterized(
  value: string,
): { type: string; params: MimeParams } {
  const tokens = tokenizeParameters(stripComments(value));
  const type = (tokens.shift()?.name ?? "").toLowerCase();
  const plain: MimeParams = {};
  const sections = new Map<string, Array<{ index: number; value: string; encoded: boolean }>>();
  for (const { name, value: paramValue, quoted } of tokens) {
    const match = /^([^*]+)(?:\*([0-9]+))?(\*)?$/.exec(name.toLowerCase());
    if (!match) continue;
    const [, key, index, star] = match;
    if (index === undefined && !star) {
      if (!(key in plain)) plain[key] = quoted ? decodeEncodedWords(paramValue) : paramValue;
      continue;
    }
    const list = sections.get(key) ?? [];
    list.push({
      index: index === undefined ? 0 : Number(index),
      value: paramValue,
      encoded: !!star,
    });
    sections.set(key, list);
  }
  const params: MimeParams = { ...plain };
  for (const [key, list] of sections) {
    list.sort((a, b) => a.index - b.index);
    let charset = "";
    const bytes: number[] = [];
    list.forEach((section, position) => {
      let text = section.value;
      if (section.encoded && position === 0) {
        const parts = text.split("'");
        if (parts.length >= 3) {
          charset = parts[0];
          text = parts.slice(2).join("'");
        }
      }
      if (section.encoded) percentDecodeInto(text, bytes);
      else for (const byte of new TextEncoder().encode(text)) bytes.push(byte);
    });
    params[key] = decodeCharset(new Uint8Array(bytes), charset || "utf-8");
  }
  return { type, params };
}

function percentDecodeInto(text: string, out: number[]): void {
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const byte of new TextEncoder().encode(text[i])) out.push(byte);
    }
  }
}

function stripComments(value: string): string {
  if (!value.includes("(")) return value;
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      out += ch;
      if (ch === "\\" && i + 1 < value.length) out += value[++i];
      else if (ch === '"') quoted = false;
    } else if (ch === '"' && depth === 0) {
      quoted = true;
      out += ch;
    } else if (ch === "(") depth++;
    else if (ch === ")" && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/** `first; a=1; b="x y"` → the first token (as `name`), then name/value pairs. */
function tokenizeParameters(
  value: string,
): Array<{ name: string; value: string; quoted: boolean }> {
  const out: Array<{ name: string; value: string; quoted: boolean }> = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i])) i++;
  };
  const readUntil = (stops: string) => {
    const begin = i;
    while (i < value.length && !stops.includes(value[i])) i++;
    return value.slice(begin, i).trim();
  };
  out.push({ name: readUntil(";").replace(/\s+/g, ""), value: "", quoted: false });
  while (i < value.length) {
    i++; // the ';'
    skipSpace();
    const name = readUntil("=;");
    if (value[i] !== "=") continue;
    i++;
    skipSpace();
    if (value[i] === '"') {
      let text = "";
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === "\\" && i + 1 < value.length) i++;
        text += value[i++];
      }
      i++;
      readUntil(";");
      if (name) out.push({ name, value: text, quoted: true });
    } else {
      const text = readUntil(";");
      if (name) out.push({ name, value: text, quoted: false });
    }
  }
  return out;
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

/** The part's body bytes as stored (still transfer-encoded): a slice of `raw`, no copy. */
export function rawBody(raw: Uint8Array, part: MimePart): Uint8Array {
  return raw.subarray(part.bodyStart, part.bodyEnd);
}

/** Whether {@linkcode decodeBody} understands the part's transfer encoding. */
export function isKnownEncoding(encoding: string): boolean {
  return ["7bit", "8bit", "binary", "base64", "quoted-printable"].includes(encoding);
}

/** The part's body with its transfer encoding removed (unknown encodings: as stored). */
export function decodeBody(raw: Uint8Array, part: MimePart): Uint8Array {
  const body = rawBody(raw, part);
  if (part.encoding === "base64") return decodeBase64Bytes(body);
  if (part.encoding === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

/** The part's body as text in its charset (UTF-8, then Latin-1, when unknown or absent). */
export function decodeBodyText(raw: Uint8Array, part: MimePart): string {
  const bytes = decodeBody(raw, part);
  const charset = part.contentType.params.charset ?? "";
  return charset ? decodeCharset(bytes, charset) : decodeText(bytes);
}

const BASE64_VALUES = (() => {
  const table = new Int16Array(256).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table["-".charCodeAt(0)] = 62; // base64url, seen in the wild
  table["_".charCodeAt(0)] = 63;
  return table;
})();

/** Base64 to bytes, skipping line ends and other non-alphabet bytes; stops at `=`. */
export function decodeBase64Bytes(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((input.length * 3) / 4) + 3);
  let length = 0;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    if (byte === 0x3d) break;
    const value = BASE64_VALUES[byte];
    if (value < 0) continue;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (buffer >> bits) & 0xff;
    }
  }
  return out.subarray(0, length);
}

/** The decoded length of base64 content without decoding it. */
export function base64DecodedLength(input: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x3d) break;
    if (BASE64_VALUES[input[i]] >= 0) count++;
  }
  return Math.floor((count * 6) / 8);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Quoted-printable to bytes (RFC 2045 6.7): `=XX`, soft line breaks `=` CRLF (or bare LF),
 * trailing white space on a line removed; a malformed `=` is kept as is.
 */
export function decodeQuotedPrintable(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length);
  let length = 0;
  let i = 0;
  while (i < input.length) {
    const byte = input[i];
    if (byte === 0x20 || byte === 0x09) {
      // Drop white space that only precedes a line end (or the end).
      let j = i;
      while (j < input.length && (input[j] === 0x20 || input[j] === 0x09)) j++;
      if (j === input.length || input[j] === 0x0a || (input[j] === 0x0d && input[j + 1] === 0x0a)) {
        i = j;
        continue;
      }
      while (i < j) out[length++] = input[i++];
      continue;
    }
    if (byte === 0x3d) {
      const high = hexValue(input[i + 1] ?? -1);
      const low = hexValue(input[i + 2] ?? -1);
      if (high >= 0 && low >= 0) {
        out[length++] = (high << 4) | low;
        i += 3;
        continue;
      }
      // Soft line break: `=`, optional white space, line end.
      let j = i + 1;
      while (j < input.length && (input[j] === 0x20 || input[j] === 0x09)) j++;
      if (input[j] === 0x0d && input[j + 1] === 0x0a) {
        i = j + 2;
        continue;
      }
      if (input[j] === 0x0a || j === input.length) {
        i = j + 1;
        continue;
      }
    }
    out[length++] = byte;
    i++;
  }
  return out.subarray(0, length);
}

/** One attachment as the HTTP API lists it. */
export interface AttachmentInfo {
  /** IMAP part number, e.g. `2` or `1.2`. */
  readonly part: string;
  readonly filename: string | null;
  /** `type/subtype`. */
  readonly contentType: string;
  /** Size after removing the transfer encoding, in octets. */
  readonly size: number;
  /** `attachment`, `inline`, or null when the part has no Content-Disposition. */
  readonly disposition: string | null;
  readonly contentId: string | null;
}

/** The readable bodies and the attachments of a message. */
export interface MessageContent {
  /** The text/plain body decoded to a string, or null. */
  readonly text: string | null;
  readonly html: string | null;
  /** Part numbers of the parts chosen as text and html. */
  readonly textPart: string | null;
  readonly htmlPart: string | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** The part's file name: disposition `filename`, else content-type `name`. */
export function partFilename(part: MimePart): string | null {
  return part.disposition?.params.filename ?? part.contentType.params.name ?? null;
}

function isAttachmentMarked(part: MimePart): boolean {
  return part.disposition?.type === "attachment";
}

/** IMAP part number of a part as the HTTP API names it (`1` for a single-part message). */
function publicNumber(part: MimePart): string {
  return part.partNumber === "" ? "1" : part.partNumber;
}

/**
 * Chooses the text and html bodies (the first text/plain and text/html not marked as
 * attachments, preferring those inside a multipart/alternative) and lists everything else
 * that is content as attachments. Encapsulated messages are attachments as a whole.
 */
export function extractContent(raw: Uint8Array, root: MimePart): MessageContent {
  const leaves: Array<{ part: MimePart; inAlternative: boolean }> = [];
  const walk = (part: MimePart, inAlternative: boolean) => {
    if (part.children.length > 0) {
      const alternative = inAlternative ||
        (part.contentType.type === "multipart" && part.contentType.subtype === "alternative");
      for (const child of part.children) walk(child, alternative);
    } else leaves.push({ part, inAlternative });
  };
  walk(root, false);
  const isBody = (part: MimePart, subtype: string) =>
    part.contentType.type === "text" && part.contentType.subtype === subtype &&
    !isAttachmentMarked(part) && (part.disposition !== null || partFilename(part) === null);
  const choose = (subtype: string) =>
    leaves.find(({ part, inAlternative }) => inAlternative && isBody(part, subtype))?.part ??
      leaves.find(({ part }) => isBody(part, subtype))?.part ?? null;
  const textPart = choose("plain");
  const htmlPart = choose("html");
  const attachments: AttachmentInfo[] = [];
  for (const { part, inAlternative } of leaves) {
    if (part === textPart || part === htmlPart) continue;
    const unnamedText = part.contentType.type === "text" && partFilename(part) === null &&
      !isAttachmentMarked(part);
    if (unnamedText && inAlternative) continue; // another rendering of the chosen body
    const body = rawBody(raw, part);
    attachments.push({
      part: publicNumber(part),
      filename: partFilename(part),
      contentType: `${part.contentType.type}/${part.contentType.subtype}`,
      size: part.encoding === "base64"
        ? base64DecodedLength(body)
        : part.encoding === "quoted-printable"
        ? decodeQuotedPrintable(body).length
        : body.length,
      disposition: part.disposition?.type ?? null,
      contentId: part.contentId,
    });
  }
  return {
    text: textPart ? decodeBodyText(raw, textPart) : null,
    html: htmlPart ? decodeBodyText(raw, htmlPart) : null,
    textPart: textPart ? publicNumber(textPart) : null,
    htmlPart: htmlPart ? publicNumber(htmlPart) : null,
    attachments,
  };
}
