/**
 * MIME parameter lists (RFC 2045 5.1, RFC 2231): `value; name=value; ...` in Content-Type and
 * Content-Disposition, read decoded (continuations joined, charsets applied) or as written.
 *
 * @module
 */

import { decodeCharset, decodeEncodedWords, stringsByLength } from "./headers.ts";
import type { ContentType, MimeParams, WrittenParameter, WrittenParameters } from "./mime_part.ts";

/** The default content type (RFC 2045 5.2). */
export const TEXT_PLAIN: ContentType = {
  type: "text",
  subtype: "plain",
  params: { charset: "us-ascii" },
};

/**
 * Parses a `Content-Type` value; a missing or malformed type/subtype gives text/plain. The
 * parameters are also kept as written (`written`), tokenized once for both.
 */
export function parseContentType(value: string): ContentType {
  const written = splitParameters(value);
  const { type: full, params } = decodeParameters(written);
  const slash = mediaTypeSlash(full);
  if (slash < 0) return { ...TEXT_PLAIN, params: { ...TEXT_PLAIN.params, ...params }, written };
  return {
    type: knownSlice(full, 0, slash),
    subtype: knownSlice(full, slash + 1, full.length),
    params,
    written,
  };
}

/**
 * Where the `/` of `type/subtype` is in `full` (both lower-case tokens), or -1 when it is
 * not that: a scan, not a pattern's match array and groups (a part of every delivered message).
 */
function mediaTypeSlash(full: string): number {
  let slash = -1;
  for (let i = 0; i < full.length; i++) {
    const code = full.charCodeAt(i);
    if (code === SLASH) {
      if (slash >= 0 || i === 0) return -1;
      slash = i;
    } else if (!isTypeChar(code)) return -1;
  }
  return slash === full.length - 1 ? -1 : slash;
}

/** `[!#$%&'*+.^_`|~0-9a-z-]`: a token character of a lower-cased media type. */
function isTypeChar(code: number): boolean {
  if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) return true;
  return code < 0x80 && "!#$%&'*+.^_`|~-".includes(String.fromCharCode(code));
}

/**
 * Splits `value; name=value; ...` into its leading token (white space removed, case kept) and
 * its parameters exactly as written: names as given, values with quotes and escapes removed,
 * nothing decoded or joined (IMAP BODYSTRUCTURE reports them like that). Comments are dropped.
 *
 * @example
 * ```ts
 * splitParameters('attachment; filename*0*="utf-8\'\'a"; filename*1=b');
 * // { source: ..., type: "attachment", params: [{ name: "filename*0*", value: "utf-8''a", quoted: true }, { name: "filename*1", value: "b", quoted: false }] }
 * ```
 */
export function splitParameters(value: string): WrittenParameters {
  return tokenizeParameters(stripComments(value), value);
}

/**
 * Splits `value; name=value; ...` into a lower-cased leading token and parameters, joining
 * RFC 2231 continuations (`name*0*=`, `name*1=`) and decoding `charset'lang'%XX` values.
 * Quoted values may hold RFC 2047 encoded words (a common non-standard habit).
 */
export function parseParameterized(
  value: string,
): { type: string; params: MimeParams } {
  return decodeParameters(splitParameters(value));
}

/** {@linkcode parseParameterized} of a list already split. */
function decodeParameters(written: WrittenParameters): { type: string; params: MimeParams } {
  const tokens = written.params;
  const type = lowerCase(written.type);
  const plain: MimeParams = {};
  let sections: Map<string, Array<{ index: number; value: string; encoded: boolean }>> | null =
    null;
  for (let i = 0; i < tokens.length; i++) {
    const { name, value: paramValue, quoted } = tokens[i];
    const lower = lowerCase(name);
    if (!lower.includes("*")) {
      // A plain parameter (what nearly all mail has): the section pattern is not needed.
      if (!(lower in plain)) plain[lower] = quoted ? decodeEncodedWords(paramValue) : paramValue;
      continue;
    }
    const match = /^([^*]+)(?:\*([0-9]+))?(\*)?$/.exec(lower);
    if (!match) continue;
    const [, key, index, star] = match;
    if (index === undefined && !star) {
      if (!(key in plain)) plain[key] = quoted ? decodeEncodedWords(paramValue) : paramValue;
      continue;
    }
    sections ??= new Map();
    const list = sections.get(key) ?? [];
    list.push({
      index: index === undefined ? 0 : Number(index),
      value: paramValue,
      encoded: !!star,
    });
    sections.set(key, list);
  }
  // Continuations are rare: without them the plain parameters are the result.
  if (sections === null) return { type, params: plain };
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

/**
 * `text` lower-cased: itself when it has no upper-case ASCII letter and is all ASCII, as
 * nearly every media type and parameter name is (V8's `toLowerCase` makes a copy even then;
 * a few for each part of every delivered message).
 */
export function lowerCase(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code >= 0x41 && code <= 0x5a) || code >= 0x80) return text.toLowerCase();
  }
  return text;
}

export function stripComments(value: string): string {
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

/** Whether `code` is white space to `/\s/` and `String.prototype.trim`. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f ||
    code === 0x3000 || code === 0xfeff;
}

/** `value.slice(start, end).trim()`, through {@linkcode knownSlice}. */
function trimmedSlice(value: string, start: number, end: number): string {
  while (start < end && isSpace(value.charCodeAt(start))) start++;
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--;
  return knownSlice(value, start, end);
}

/**
 * Media types, parameter names and values most mail has, by length: {@linkcode knownSlice}
 * gives these strings rather than new ones (a few for each part of every delivered message,
 * read at delivery and again by BODYSTRUCTURE).
 */
const KNOWN_TOKENS: ReadonlyArray<readonly string[]> = (() => {
  const tokens = [
    "text/plain",
    "text/html",
    "multipart/alternative",
    "multipart/mixed",
    "multipart/related",
    "multipart/report",
    "multipart/signed",
    "application/octet-stream",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "message/rfc822",
    "message/delivery-status",
    "text",
    "plain",
    "html",
    "multipart",
    "mixed",
    "alternative",
    "related",
    "application",
    "octet-stream",
    "image",
    "message",
    "rfc822",
    "charset",
    "boundary",
    "name",
    "filename",
    "format",
    "flowed",
    "delsp",
    "yes",
    "no",
    "utf-8",
    "UTF-8",
    "us-ascii",
    "US-ASCII",
    "iso-8859-1",
    "ISO-8859-1",
    "windows-1252",
    "attachment",
    "inline",
  ];
  return stringsByLength(tokens);
})();

/**
 * `value.slice(start, end)`, as one of {@linkcode KNOWN_TOKENS} when it is one (the same
 * string every time, nothing allocated).
 */
function knownSlice(value: string, start: number, end: number): string {
  const candidates = KNOWN_TOKENS[end - start];
  if (candidates !== undefined) {
    // Indexed, not `for...of`: no iterator objects.
    for (let c = 0; c < candidates.length; c++) {
      const token = candidates[c];
      let i = 0;
      while (i < token.length && value.charCodeAt(start + i) === token.charCodeAt(i)) i++;
      if (i === token.length) return token;
    }
  }
  return value.slice(start, end);
}

/** Where the next `stop` (or `other`) is at or after `i`, or `value.length`. */
function indexOfEither(value: string, i: number, stop: number, other: number): number {
  while (i < value.length) {
    const code = value.charCodeAt(i);
    if (code === stop || code === other) return i;
    i++;
  }
  return i;
}

const SEMICOLON = 0x3b;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * `first; a=1; b="x y"` (read from `source`): the first token (white space removed) and the
 * name/value pairs.
 */
function tokenizeParameters(value: string, source: string): WrittenParameters {
  const length = value.length;
  // Sized by the semicolons, not grown by pushes (an empty array's first push makes room for
  // 16): a part of every delivered message is read so.
  let semicolons = 0;
  for (let j = 0; j < length; j++) if (value.charCodeAt(j) === SEMICOLON) semicolons++;
  const out = new Array<WrittenParameter>(semicolons);
  let count = 0;
  let i = indexOfEither(value, 0, SEMICOLON, SEMICOLON);
  let first = trimmedSlice(value, 0, i);
  for (let j = 0; j < first.length; j++) {
    if (isSpace(first.charCodeAt(j))) {
      first = first.replace(/\s+/g, "");
      break;
    }
  }
  while (i < length) {
    i++; // the ';'
    while (i < length && isSpace(value.charCodeAt(i))) i++;
    const nameStart = i;
    i = indexOfEither(value, i, EQUALS, SEMICOLON);
    const name = trimmedSlice(value, nameStart, i);
    if (value.charCodeAt(i) !== EQUALS) continue;
    i++;
    while (i < length && isSpace(value.charCodeAt(i))) i++;
    if (value.charCodeAt(i) === QUOTE) {
      // Up to the closing quote; a backslash takes the next character as it is.
      let text = "";
      i++;
      let run = i;
      while (i < length && value.charCodeAt(i) !== QUOTE) {
        if (value.charCodeAt(i) === BACKSLASH && i + 1 < length) {
          text += value.slice(run, i);
          run = ++i;
        }
        i++;
      }
      text = text === "" ? knownSlice(value, run, i) : text + value.slice(run, i);
      i = indexOfEither(value, i + 1, SEMICOLON, SEMICOLON);
      if (name) out[count++] = { name, value: text, quoted: true };
    } else {
      const valueStart = i;
      i = indexOfEither(value, i, SEMICOLON, SEMICOLON);
      const text = trimmedSlice(value, valueStart, i);
      if (name) out[count++] = { name, value: text, quoted: false };
    }
  }
  if (count < out.length) out.length = count;
  return { source, type: first, params: out };
}
