/**
 * ESEARCH result data for an ordered result (RFC 4731 3.1 for SEARCH, RFC 5267 3 for SORT):
 * MIN and MAX are the first and last of the list as ordered (for SORT: in sort order), ALL
 * the list in that order as a sequence set (runs of ascending neighbours as ranges), COUNT
 * its length.
 *
 * ```abnf
 * esearch-response   = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 * search-return-data = "MIN" SP nz-number / "MAX" SP nz-number / "ALL" SP sequence-set /
 *                      "COUNT" SP number
 * ```
 * One function for every command with RETURN options, so that further options (PARTIAL,
 * RFC 9394) plug into one place.
 *
 * @module
 */

import { quoted } from "./encoder.ts";
import { formatSequenceSet } from "./sequence.ts";

/** RETURN options SORT accepts (RFC 5267 3; SAVE from RFC 5182 2.4). */
export const SORT_RETURN_OPTIONS: ReadonlySet<string> = new Set([
  "MIN",
  "MAX",
  "ALL",
  "COUNT",
  "SAVE",
]);

/**
 * The `search-return-data` items for `numbers` (already in result order) and the options
 * asked for (upper-cased; `[]` means ALL), each with its leading space.
 *
 * @example
 * ```ts
 * returnData([5, 2, 3], ["MIN", "COUNT"]); // " MIN 5 COUNT 3"
 * ```
 */
export function returnData(numbers: readonly number[], options: readonly string[]): string {
  const wanted = options.length === 0 ? ["ALL"] : options;
  let out = "";
  if (numbers.length > 0) {
    if (wanted.includes("MIN")) out += ` MIN ${numbers[0]}`;
    if (wanted.includes("MAX")) out += ` MAX ${numbers[numbers.length - 1]}`;
    if (wanted.includes("ALL")) out += ` ALL ${formatSequenceSet(numbers)}`;
  }
  if (wanted.includes("COUNT")) out += ` COUNT ${numbers.length}`;
  return out;
}

/** The text of an `ESEARCH (TAG "t") [UID] …` response (without `* `). */
export function esearchLine(
  tag: string,
  byUid: boolean,
  numbers: readonly number[],
  options: readonly string[],
): string {
  return `ESEARCH (TAG ${quoted(tag)})${byUid ? " UID" : ""}${returnData(numbers, options)}`;
}
