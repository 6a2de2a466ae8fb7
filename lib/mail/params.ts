/**
 * MIME parameter lists (RFC 2045 5.1, RFC 2231): `value; name=value; ...` in Content-Type and
 * Content-Disposition, read decoded (continuations joined, charsets applied) or as written.
 *
 * @module
 */

import { decodeCharset, decodeEncodedWords } from "./headers.ts";
import type { ContentType, MimeParams } from "./mime_part.ts";

/** The default content type (RFC 2045 5.2). */
export const TEXT_PLAIN: ContentType = {
  type: "text",
  subtype: "plain",
  params: { charset: "us-ascii" },
};

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
