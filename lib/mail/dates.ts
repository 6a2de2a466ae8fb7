/**
 * The English day and month abbreviations that mail dates are written with: RFC 5322
 * `day-name` and `month` (3.3), which IMAP `date-month` reuses (RFC 9051 9). The one list,
 * for writing and for reading them.
 *
 * @module
 */

/** `day-name` by `Date.getUTCDay()` (0 is Sunday). */
export const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** `month` by `Date.getUTCMonth()` (0 is January). */
export const MONTH_NAMES = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;

/**
 * Month number (1-12) of a case-insensitive three-letter name, or 0.
 *
 * @example
 * ```ts
 * monthNumber("nov"); // 11
 * monthNumber("Nov."); // 0
 * ```
 */
export function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  return MONTH_NAMES.findIndex((month) => month.toLowerCase() === lower) + 1;
}
