/**
 * The mod-sequence grammar of CONDSTORE (RFC 7162 7), shared by the FETCH, STORE, SEARCH and
 * SELECT parsers.
 *
 * ```abnf
 * mod-sequence-value  = 1*DIGIT   ; positive unsigned 63-bit integer
 * mod-sequence-valzer = "0" / mod-sequence-value
 * ```
 *
 * @module
 */

import type { Reader } from "./parser.ts";

/** Mod-sequences past this are read as this: no MODSEQ this server gives comes near it. */
const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;

/**
 * Reads `mod-sequence-value` (or, with `zero`, `mod-sequence-valzer`). Values beyond what a
 * JavaScript number holds exactly are above every MODSEQ there is, and read as the largest.
 *
 * @example
 * ```ts
 * readModSequence(reader, false); // 12 on "12"; BAD on "0"
 * ```
 */
export function readModSequence(reader: Reader, zero: boolean): number {
  const start = reader.position;
  let digits = 0;
  while (reader.peek() >= "0" && reader.peek() <= "9") {
    reader.expect(reader.peek());
    digits++;
  }
  const text = reader.slice(start, reader.position);
  if (digits === 0) throw reader.error("Expected a mod-sequence");
  if (digits > 19 || BigInt(text) > 0x7fff_ffff_ffff_ffffn) {
    throw reader.error(`Mod-sequence out of range: ${text}`);
  }
  const value = Math.min(Number(text), MAX_MODSEQ);
  if (value === 0 && !zero) throw reader.error("Mod-sequence must be positive");
  return value;
}
