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

/**
 * Bytes as one char each (the ASCII of IMAP syntax), without spreading huge arrays. Unlike
 * `new TextDecoder("latin1")` (which is windows-1252) every byte maps to its own code point.
 */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}
