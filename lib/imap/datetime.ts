/**
 * IMAP dates (RFC 9051 9): `date-time` for INTERNALDATE and APPEND, `date` for SEARCH.
 *
 * ```abnf
 * date-time    = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
 * date-day-fixed = (SP DIGIT) / 2DIGIT
 * date         = date-text / DQUOTE date-text DQUOTE
 * date-text    = date-day "-" date-month "-" date-year
 * date-day     = 1*2DIGIT
 * time         = 2DIGIT ":" 2DIGIT ":" 2DIGIT
 * zone         = ("+" / "-") 4DIGIT
 * ```
 *
 * @module
 */

import { daysInMonth, MONTH_NAMES, monthNumber, utcFields } from "../mail/dates.ts";
import { ParseError } from "./parse_error.ts";

/** A calendar date as SEARCH BEFORE/ON/SINCE carry it (month is 1-12). */
export interface ImapDate {
  year: number;
  month: number;
  day: number;
}

/** Checks a date's ranges; throws {@linkcode ParseError} for e.g. 31-Feb. */
export function validateDate(date: ImapDate, tag: string | null = null): ImapDate {
  if (date.month < 1 || date.month > 12) throw new ParseError("Invalid month", tag);
  if (date.day < 1 || date.day > daysInMonth(date.year, date.month)) {
    throw new ParseError(`Invalid day of month: ${date.day}`, tag);
  }
  return date;
}

/**
 * Parses the inside of a `date-time` (without the quotes) to milliseconds since the epoch.
 *
 * @example
 * ```ts
 * parseDateTime("17-Jul-1996 02:44:25 -0700"); // Date.UTC(1996, 6, 17, 9, 44, 25)
 * ```
 */
export function parseDateTime(text: string, tag: string | null = null): number {
  const match = /^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(
    text,
  );
  if (!match) {
    throw new ParseError(`Invalid date-time: ${JSON.stringify(text)}`, tag);
  }
  const day = Number(match[1].trim());
  const month = monthNumber(match[2]);
  const year = Number(match[3]);
  validateDate({ year, month, day }, tag);
  const [hour, minute, second] = [Number(match[4]), Number(match[5]), Number(match[6])];
  const [zh, zm] = [Number(match[8]), Number(match[9])];
  if (hour > 23 || minute > 59 || second > 60 || zm > 59) {
    throw new ParseError(`Invalid time in date-time: ${JSON.stringify(text)}`, tag);
  }
  const offset = (match[7] === "-" ? -1 : 1) * (zh * 60 + zm) * 60_000;
  return Date.UTC(year, month - 1, day, hour, minute, second) - offset;
}

/** Parses a `date-text` ("1-Feb-2024"), without quotes. */
export function parseDateText(text: string, tag: string | null = null): ImapDate {
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!match) throw new ParseError(`Invalid date: ${JSON.stringify(text)}`, tag);
  return validateDate({
    year: Number(match[3]),
    month: monthNumber(match[2]),
    day: Number(match[1]),
  }, tag);
}

/**
 * Formats milliseconds as an INTERNALDATE `date-time`, quotes included, in UTC.
 *
 * @example
 * ```ts
 * formatDateTime(Date.UTC(2026, 10, 25, 7, 22, 1)); // "\"25-Nov-2026 07:22:01 +0000\""
 * ```
 */
export function formatDateTime(ms: number): string {
  const d = utcFields(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  const year = String(d.year).padStart(4, "0");
  return `"${pad(d.day)}-${MONTH_NAMES[d.month - 1]}-${year} ${pad(d.hour)}:${pad(d.minute)}:${
    pad(d.second)
  } +0000"`;
}
