/**
 * IMAP character classes (RFC 9051 9), shared by the framer, the parser and the encoder so
 * that what the encoder writes as an atom is exactly what the parser reads as one.
 *
 * ```abnf
 * ATOM-CHAR     = <any CHAR except atom-specials>
 * atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
 * ASTRING-CHAR  = ATOM-CHAR / resp-specials
 * tag           = 1*<any ASTRING-CHAR except "+">
 * ```
 *
 * @module
 */

/**
 * CHAR minus atom-specials.
 *
 * @example
 * ```ts
 * isAtomChar(0x41); // true ("A")
 * isAtomChar(0x5d); // false ("]")
 * ```
 */
export function isAtomChar(b: number): boolean {
  return b > 0x20 && b < 0x7f && b !== 0x28 && b !== 0x29 && b !== 0x7b && b !== 0x25 &&
    b !== 0x2a && b !== 0x22 && b !== 0x5c && b !== 0x5d;
}

/** ATOM-CHAR / resp-specials (`]`). */
export function isAstringChar(b: number): boolean {
  return isAtomChar(b) || b === 0x5d;
}

/** ASTRING-CHAR except `+`. */
export function isTagChar(b: number): boolean {
  return isAstringChar(b) && b !== 0x2b;
}

/** Bytes {@linkcode latin1} passes to one `String.fromCharCode` call. */
const LATIN1_CHUNK = 8192;

/**
 * Bytes as one char each (the ASCII of IMAP syntax), in calls of at most 8 KB of arguments.
 * Unlike `new TextDecoder("latin1")` (which is windows-1252) every byte maps to its own code
 * point. The bytes go to `apply` as they are: a spread runs the array iterator, ~600 bytes of
 * garbage and ~2 us for a tag or a command name, even optimized (issue 13, round 13).
 */
export function latin1(bytes: Uint8Array): string {
  if (bytes.length <= LATIN1_CHUNK) return String.fromCharCode.apply(null, bytes as never);
  let out = "";
  for (let i = 0; i < bytes.length; i += LATIN1_CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + LATIN1_CHUNK) as never);
  }
  return out;
}

/**
 * Reads the body of a `quoted` string starting just after its opening DQUOTE: returns the
 * unescaped bytes, the offset just past the closing DQUOTE and whether any byte is 8-bit, or
 * an error message. `\\` and `\"` are the only escapes; CR, LF and NUL are refused.
 *
 * @example
 * ```ts
 * scanQuoted(new TextEncoder().encode(`"a\\"b" x`), 1); // { value: bytes of a"b, end: 6, highBit: false }
 * ```
 */
export function scanQuoted(
  bytes: Uint8Array,
  start: number,
): { value: Uint8Array; end: number; highBit: boolean } | string {
  let escapes = 0;
  let highBit = false;
  let pos = start;
  for (;;) {
    const b = pos < bytes.length ? bytes[pos] : -1;
    if (b < 0) return "Unterminated quoted string";
    if (b === 0x22) break;
    if (b === 0x0d || b === 0x0a || b === 0) return "Invalid character in quoted string";
    if (b >= 0x80) highBit = true;
    if (b === 0x5c) {
      const next = pos + 1 < bytes.length ? bytes[pos + 1] : -1;
      if (next !== 0x22 && next !== 0x5c) return "Invalid escape in quoted string";
      escapes++;
      pos += 2;
      continue;
    }
    pos++;
  }
  const raw = bytes.subarray(start, pos);
  if (escapes === 0) return { value: raw, end: pos + 1, highBit };
  const value = new Uint8Array(raw.length - escapes);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c) i++;
    value[o++] = raw[i];
  }
  return { value, end: pos + 1, highBit };
}
