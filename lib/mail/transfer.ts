/**
 * Content-Transfer-Encoding (RFC 2045 6): decoding a part's base64 or quoted-printable body
 * to bytes, and to text in its charset. Decoders never throw: stray bytes are skipped or
 * kept as they are.
 *
 * @module
 */

import { decodeCharset, decodeText } from "./headers.ts";
import type { MimePart } from "./mime_part.ts";

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
