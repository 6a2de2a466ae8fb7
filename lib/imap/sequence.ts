/**
 * Sequence sets (RFC 9051 9):
 *
 * ```abnf
 * sequence-set     = (seq-number / seq-range) ["," sequence-set]
 * sequence-set     =/ seq-last-command      ; "$", the saved SEARCH result (RFC 9051 6.4.4.1)
 * seq-range        = seq-number ":" seq-number
 * seq-number       = nz-number / "*"
 * ```
 * A range is unordered (`5:2` is `2:5`) and `*` is the largest number in use, so `7:*` on a
 * mailbox whose largest UID is 4 means `4:7` and contains UID 4.
 *
 * @module
 */

/** A parsed sequence set: its ranges as sent, or `"$"` for the saved search result. */
export type SequenceSet = ReadonlyArray<{ start: number | "*"; end: number | "*" }> | "$";

type Span = [number, number];

/** The set's ranges with `*` replaced by `max`, each low-high, sorted and merged. */
function spans(set: Exclude<SequenceSet, "$">, max: number): Span[] {
  const list: Span[] = set.map(({ start, end }) => {
    const a = start === "*" ? max : start;
    const b = end === "*" ? max : end;
    return a <= b ? [a, b] : [b, a];
  });
  list.sort((x, y) => x[0] - y[0]);
  const merged: Span[] = [];
  for (const span of list) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1] + 1) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/**
 * The set as sorted, merged, inclusive `[low, high]` ranges with `*` replaced by `max` and
 * `$` replaced by the saved search result (empty when none was saved). Memory is per range,
 * not per member, so `1:*` on 100k messages is one pair. Ranges may reach past `max` (`7:*`
 * with max 4 is `[4, 7]`); clip them to what exists.
 *
 * @example
 * ```ts
 * sequenceRanges([{ start: 5, end: 2 }, { start: 6, end: "*" }, { start: 9, end: 9 }], 10);
 * // [[2, 10]]
 * ```
 */
export function sequenceRanges(
  set: SequenceSet,
  max: number,
  saved?: readonly number[],
): Array<[number, number]> {
  if (set === "$") return spans((saved ?? []).map((n) => ({ start: n, end: n })), max);
  return spans(set, max);
}

/**
 * A membership test for `set`, with `*` meaning `max` and `$` meaning `saved` (empty when no
 * search result was saved).
 *
 * @example
 * ```ts
 * const has = resolveSequenceSet([{ start: 2, end: "*" }], 10);
 * has(5); // true
 * ```
 */
export function resolveSequenceSet(
  set: SequenceSet,
  max: number,
  saved?: readonly number[],
): (n: number) => boolean {
  if (set === "$") {
    const members = new Set(saved ?? []);
    return (n) => members.has(n);
  }
  const list = spans(set, max);
  return (n) => {
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n < list[mid][0]) hi = mid - 1;
      else if (n > list[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/** Index of the first element of ascending `values` that is >= `n`. */
function lowerBound(values: readonly number[], n: number, from: number): number {
  let lo = from;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The members of `values` (ascending: sequence numbers 1..n or UIDs) that `set` names,
 * ascending and unique. `*` is `max`; `$` selects from `saved`. Cost is the size of the
 * result plus a binary search per range.
 *
 * @example
 * ```ts
 * expandSequenceSet([{ start: 3, end: 1 }, { start: 9, end: 9 }], [1, 2, 4, 9], 9); // [1, 2, 9]
 * ```
 */
export function expandSequenceSet(
  set: SequenceSet,
  values: readonly number[],
  max: number,
  saved?: readonly number[],
): number[] {
  if (set === "$") {
    const members = new Set(saved ?? []);
    return values.filter((n) => members.has(n));
  }
  const out: number[] = [];
  let index = 0;
  for (const [lo, hi] of spans(set, max)) {
    index = lowerBound(values, lo, index);
    while (index < values.length && values[index] <= hi) out.push(values[index++]);
    if (index >= values.length) break;
  }
  return out;
}

/**
 * Compacts numbers into sequence-set syntax, keeping their order (COPYUID pairs source and
 * destination sets by position, so this never sorts).
 *
 * @example
 * ```ts
 * formatSequenceSet([1, 2, 3, 5]); // "1:3,5"
 * ```
 */
export function formatSequenceSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j === i ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
