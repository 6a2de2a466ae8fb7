/**
 * RETURN options of SEARCH and of SORT (ESORT, RFC 5267 3; the one module for both): which
 * ones exist, their checks, and the `search-return-data` they produce from a result.
 *
 * ```abnf
 * search-return-opt  = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"          ; RFC 4731, RFC 5182
 * search-return-opt  =/ "UPDATE"                                          ; RFC 5267 4.1
 * search-return-opt  =/ "PARTIAL" SP partial-range                        ; RFC 9394
 * partial-range      = partial-range-first / partial-range-last
 * partial-range-first = nz-number ":" nz-number
 * partial-range-last = MINUS nz-number ":" MINUS nz-number
 * search-return-data =/ "PARTIAL" SP "(" partial-range SP partial-results ")"
 * partial-results    = sequence-set / "NIL"
 * ```
 *
 * The evaluation takes the result as an ordered list of numbers (sequence numbers or UIDs):
 * ascending for SEARCH, in sort order for SORT (ESORT, RFC 5267 3; PARTIAL on SORT, RFC
 * 9394 3). For SEARCH MIN and MAX are the smallest and largest number (RFC 4731 3.1); for
 * SORT (`ordered`) the first and last in sort order, as Dovecot 2.3 answers (`SORT RETURN
 * (MIN MAX) (REVERSE SUBJECT)` gives the highest-sorting message as MIN). ALL and PARTIAL
 * keep the order, and PARTIAL counts positions in it: `1:100` the first hundred, `-1:-100`
 * the last hundred (RFC 9394 3.1). A range is given in either order (`100:1` is `1:100`) and is answered normalized,
 * as Dovecot does; past the end of the result the set is `NIL`.
 *
 * As Dovecot: PARTIAL together with ALL, a second PARTIAL and a second UPDATE are refused
 * with BAD; other repeated options count once.
 *
 * @module
 */

import type { Reader } from "./parser.ts";
import { formatSequenceSet } from "./sequence.ts";

/** The RETURN options this server implements. */
export const RETURN_OPTIONS: ReadonlySet<string> = new Set([
  "MIN",
  "MAX",
  "ALL",
  "COUNT",
  "SAVE",
  "UPDATE",
  "PARTIAL",
]);

/** Largest `nz-number` (RFC 9051 9: 32 bits). */
const MAX_NZ = 4_294_967_295;

/**
 * A PARTIAL range, normalized: `first` and `last` are 1-based positions with
 * `|first| <= |last|`; both negative counts from the end (-1 is the last).
 */
export interface PartialRange {
  readonly first: number;
  readonly last: number;
}

/** What a RETURN list asks for. */
export interface ReturnRequest {
  /** The option names, upper-cased, in the order given (`[]` for `RETURN ()`). */
  readonly options: readonly string[];
  /** The PARTIAL range, or null. */
  readonly partial: PartialRange | null;
}

/**
 * Reads the `partial-range` after `PARTIAL SP`. The range is one atom; read by hand, so a
 * hostile one costs its length.
 */
export function readPartialRange(reader: Reader): PartialRange {
  const text = reader.peek() === ")" ? "" : reader.readAtom();
  const broken = () => reader.error(`PARTIAL range broken: ${JSON.stringify(text)}`);
  const colon = text.indexOf(":");
  if (colon < 0) throw broken();
  const a = partialNumber(text.slice(0, colon));
  const b = partialNumber(text.slice(colon + 1));
  if (a === null || b === null || (a < 0) !== (b < 0)) throw broken();
  return Math.abs(a) <= Math.abs(b) ? { first: a, last: b } : { first: b, last: a };
}

/** `nz-number` or `-nz-number`, or null. */
function partialNumber(text: string): number | null {
  const negative = text.startsWith("-");
  const digits = negative ? text.slice(1) : text;
  if (digits.length === 0 || digits.length > 10 || digits[0] === "0") return null;
  for (let i = 0; i < digits.length; i++) {
    const code = digits.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return null;
  }
  const value = Number(digits);
  if (value > MAX_NZ) return null;
  return negative ? -value : value;
}

/** The range as the response repeats it (`1:100`, `-1:-100`). */
export function formatPartialRange(range: PartialRange): string {
  return `${range.first}:${range.last}`;
}

/** The part of `numbers` (in their order) that `range` covers. */
export function partialSlice<T>(numbers: readonly T[], range: PartialRange): T[] {
  if (range.first > 0) return numbers.slice(range.first - 1, range.last);
  const end = numbers.length + range.first + 1;
  const start = Math.max(0, numbers.length + range.last);
  return end <= 0 ? [] : numbers.slice(start, end);
}

/**
 * Reads `SP "RETURN" SP "(" ... ")"`'s part from `RETURN` on, if it is next (SEARCH's
 * `search-return-opts`; SORT's `sort-return-opts` has the same form, RFC 5267 3.2); null
 * when absent. Unknown options are refused, as RFC 4466 2.6.1 asks; `command` names the
 * command in that refusal.
 *
 * @example
 * ```ts
 * readReturnRequest(reader); // on "RETURN (MIN PARTIAL -1:-10) ALL": { options: ["MIN", "PARTIAL"], ... }
 * ```
 */
export function readReturnRequest(
  reader: Reader,
  command: "SEARCH" | "SORT" = "SEARCH",
): ReturnRequest | null {
  if (!reader.tryKeyword("RETURN")) return null;
  reader.sp();
  reader.expect("(");
  const options: string[] = [];
  let partial: PartialRange | null = null;
  if (reader.peek() !== ")") {
    do {
      const option = readReturnOption(reader, command);
      options.push(option);
      if (option === "PARTIAL") {
        reader.sp();
        partial = readPartialRange(reader);
      }
    } while (reader.maybeSp());
  }
  reader.expect(")");
  const request = { options, partial };
  checkReturnRequest(reader, request);
  return request;
}

function readReturnOption(reader: Reader, command: string): string {
  if (reader.peek() === ")" || reader.peek() === " ") {
    throw reader.error(`Expected a RETURN option but found ${reader.peekWord()}`);
  }
  const option = reader.readAtom().toUpperCase();
  if (!RETURN_OPTIONS.has(option)) {
    throw reader.error(
      `Unknown ${command} RETURN option: ${option} (supported: ${[...RETURN_OPTIONS].join(" ")})`,
    );
  }
  return option;
}

/**
 * Checks a RETURN list as a whole, once read (Dovecot's checks, in its words). Throws the
 * reader's BAD error.
 */
function checkReturnRequest(reader: Reader, request: ReturnRequest): void {
  const count = (name: string) => request.options.filter((option) => option === name).length;
  if (count("UPDATE") > 1) throw reader.error("SEARCH return options have duplicate UPDATE");
  if (count("PARTIAL") > 1) throw reader.error("PARTIAL can be used only once");
  if (count("PARTIAL") === 1 && count("ALL") > 0) {
    throw reader.error("PARTIAL conflicts with ALL");
  }
}

/** Whether only the extremes are wanted (MIN and/or MAX, without ALL, COUNT or PARTIAL). */
function extremesOnly(options: readonly string[]): boolean {
  return (options.includes("MIN") || options.includes("MAX")) &&
    !options.includes("ALL") && !options.includes("COUNT") && !options.includes("PARTIAL");
}

/**
 * The `search-return-data` for `numbers` (each item with a leading space), in Dovecot's
 * order: MIN, MAX, ALL, PARTIAL, COUNT. `options` is never empty here: the caller turns
 * `RETURN ()` into `ALL`. MODSEQ, which needs more than numbers, is the caller's.
 * `ordered` (SORT): MIN and MAX are the first and last of `numbers`.
 *
 * @example
 * ```ts
 * esearchData([2, 3, 5, 9], { options: ["MIN", "PARTIAL", "COUNT"], partial: { first: -1, last: -2 } });
 * // " MIN 2 PARTIAL (-1:-2 5,9) COUNT 4"
 * ```
 */
export function esearchData(
  numbers: readonly number[],
  request: ReturnRequest,
  ordered = false,
): string {
  const { options, partial } = request;
  let data = "";
  if (numbers.length > 0) {
    const { min, max } = extremes(numbers, ordered);
    if (options.includes("MIN")) data += ` MIN ${min}`;
    if (options.includes("MAX")) data += ` MAX ${max}`;
    if (options.includes("ALL")) data += ` ALL ${formatSequenceSet(numbers)}`;
  }
  if (partial) {
    const slice = partialSlice(numbers, partial);
    const set = slice.length === 0 ? "NIL" : formatSequenceSet(slice);
    data += ` PARTIAL (${formatPartialRange(partial)} ${set})`;
  }
  if (options.includes("COUNT")) data += ` COUNT ${numbers.length}`;
  return data;
}

/**
 * The messages a response with these options returns, for SAVE (RFC 5182 2.1) and for
 * MODSEQ (RFC 7162 3.1.5): only MIN/MAX: those; PARTIAL without ALL or COUNT: its slice
 * (and MIN/MAX); otherwise all. Indexes into `numbers`, in their order.
 */
export function returnedPositions(
  numbers: readonly number[],
  request: ReturnRequest,
  ordered = false,
): number[] {
  const { options, partial } = request;
  if (numbers.length === 0) return [];
  const all = () => numbers.map((_, i) => i);
  if (options.includes("ALL") || options.includes("COUNT")) return all();
  if (!extremesOnly(options) && !partial) return all();
  const kept = new Set<number>();
  const { min, max } = extremes(numbers, ordered);
  if (options.includes("MIN")) kept.add(numbers.indexOf(min));
  if (options.includes("MAX")) kept.add(numbers.indexOf(max));
  if (partial) {
    const slice = new Set(partialSlice(numbers, partial));
    numbers.forEach((n, i) => slice.has(n) && kept.add(i));
  }
  return [...kept].sort((a, b) => a - b);
}

/** MIN and MAX: first and last when `ordered`, else smallest and largest (non-empty list). */
function extremes(numbers: readonly number[], ordered: boolean): { min: number; max: number } {
  if (ordered) return { min: numbers[0], max: numbers[numbers.length - 1] };
  return { min: minOf(numbers), max: maxOf(numbers) };
}

/** The smallest number (one pass: spreading a long list into Math.min can overflow). */
function minOf(numbers: readonly number[]): number {
  let min = Infinity;
  for (const n of numbers) if (n < min) min = n;
  return min;
}

/** The largest number. */
function maxOf(numbers: readonly number[]): number {
  let max = -Infinity;
  for (const n of numbers) if (n > max) max = n;
  return max;
}
