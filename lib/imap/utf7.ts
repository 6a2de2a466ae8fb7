/**
 * Modified UTF-7 mailbox names (RFC 3501 5.1.3, kept by RFC 9051 for clients that have not
 * enabled UTF8=ACCEPT / IMAP4rev2): printable ASCII stands for itself except `&`, which is
 * `&-`; everything else is UTF-16BE in base64 with `,` for `/` between `&` and `-`.
 *
 * @module
 */

import { ParseError } from "./parse_error.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const VALUES = new Map([...ALPHABET].map((ch, i) => [ch, i]));

/**
 * Encodes a Unicode mailbox name as modified UTF-7.
 *
 * @example
 * ```ts
 * encodeModifiedUtf7("Entw\u00fcrfe"); // "Entw&APw-rfe"
 * ```
 */
export function encodeModifiedUtf7(name: string): string {
  let out = "";
  let units: number[] = [];
  const flush = () => {
    if (units.length === 0) return;
    let bits = 0;
    let value = 0;
    out += "&";
    for (const unit of units) {
      value = (value << 16) | unit;
      bits += 16;
      while (bits >= 6) {
        bits -= 6;
        out += ALPHABET[(value >> bits) & 63];
      }
      value &= (1 << bits) - 1;
    }
    if (bits > 0) out += ALPHABET[(value << (6 - bits)) & 63];
    out += "-";
    units = [];
  };
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += code === 0x26 ? "&-" : name[i];
    } else {
      units.push(code);
    }
  }
  flush();
  return out;
}

/**
 * Decodes a modified UTF-7 mailbox name; throws {@linkcode ParseError} for anything RFC 3501
 * 5.1.3 does not allow (raw 8-bit or control characters, unterminated or empty shifts, ASCII
 * hidden in base64, stray bits, broken surrogates).
 *
 * @example
 * ```ts
 * decodeModifiedUtf7("Entw&APw-rfe"); // "Entw\u00fcrfe"
 * ```
 */
export function decodeModifiedUtf7(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new ParseError("Mailbox name is not valid modified UTF-7: 8-bit or control character");
    }
    if (code !== 0x26) {
      out += text[i++];
      continue;
    }
    const close = text.indexOf("-", i + 1);
    if (close < 0) throw new ParseError("Mailbox name is not valid modified UTF-7: unterminated &");
    if (close === i + 1) {
      out += "&";
      i += 2;
      continue;
    }
    out += decodeShift(text.slice(i + 1, close));
    i = close + 1;
  }
  return out;
}

function decodeShift(b64: string): string {
  let bits = 0;
  let value = 0;
  const units: number[] = [];
  for (const ch of b64) {
    const v = VALUES.get(ch);
    if (v === undefined) {
      throw new ParseError("Mailbox name is not valid modified UTF-7: bad base64");
    }
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push((value >> bits) & 0xffff);
      value &= (1 << bits) - 1;
    }
  }
  if (bits >= 6 || value !== 0) {
    throw new ParseError("Mailbox name is not valid modified UTF-7: stray base64 bits");
  }
  let out = "";
  for (let k = 0; k < units.length; k++) {
    const unit = units[k];
    if (unit >= 0x20 && unit <= 0x7e) {
      throw new ParseError("Mailbox name is not valid modified UTF-7: ASCII in base64");
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = units[k + 1];
      if (low === undefined || low < 0xdc00 || low > 0xdfff) {
        throw new ParseError("Mailbox name is not valid modified UTF-7: broken surrogate pair");
      }
      out += String.fromCharCode(unit, low);
      k++;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      throw new ParseError("Mailbox name is not valid modified UTF-7: broken surrogate pair");
    }
    out += String.fromCharCode(unit);
  }
  return out;
}
