/**
 * The English day and month abbreviations that mail dates are written with: RFC 5322
 * `day-name` and `month` (3.3), which IMAP `date-month` reuses (RFC 9051 9). The one list,
 * for writing and for reading them.
 *
 * @module
 */

/** `day-name` by `Date.getUTCDay()` or {@linkcode UtcFields} `weekday` (0 is Sunday). */
export const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** `month` by `Date.getUTCMonth()` (0 is January; {@linkcode UtcFields} `month` - 1). */
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

/** The UTC calendar fields of an instant (month 1-12, weekday 0 for Sunday). */
export interface UtcFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
}

const DAY_MS = 86_400_000;

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (month 1-12), for any year (unlike
 * `Date.UTC`, which reads years below 100 as 19xx). Arithmetic only: the first `Date` object a
 * process makes has V8 load ICU's time zone data and code (~1.5 MB of idle memory, issue 13),
 * which no UTC date needs. (H. Hinnant's `days_from_civil`.)
 *
 * @example
 * ```ts
 * dayNumber(1970, 1, 2); // 1
 * ```
 */
export function dayNumber(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Days in a month (1-12) of a proleptic Gregorian year.
 *
 * @example
 * ```ts
 * daysInMonth(2024, 2); // 29
 * ```
 */
export function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * The UTC calendar fields of milliseconds since the epoch, what `Date`'s `getUTC*` methods
 * give, without a `Date` (see {@linkcode dayNumber}). (H. Hinnant's `civil_from_days`.)
 *
 * @example
 * ```ts
 * utcFields(Date.UTC(2026, 10, 25, 7, 22, 1)).day; // 25
 * ```
 */
export function utcFields(ms: number): UtcFields {
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return {
    year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1,
    hour,
    minute,
    second,
    millisecond: rest - second * 1000,
    weekday: ((days % 7) + 11) % 7,
  };
}
