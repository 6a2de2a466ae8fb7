/**
 * The instant an RFC 5322 `date-time` (3.3, with the obsolete forms of 4.3) names, for SORT
 * DATE and THREAD (RFC 5256 2.2: the sent date, compared in UTC):
 *
 * ```abnf
 * date-time = [ day-of-week "," ] date time [CFWS]
 * date      = day month year
 * time      = hour ":" minute [ ":" second ] FWS zone
 * zone      = ( "+" / "-" ) 4DIGIT / obs-zone   ; UT GMT EST EDT CST CDT MST MDT PST PDT, military
 * ```
 * Read with a hand tokenizer (comments skipped, any case); a missing zone counts as UTC,
 * an unknown zone name too (RFC 5322 4.3: military zones are to be read as -0000).
 *
 * @module
 */

import { dayNumber, daysInMonth, monthNumber } from "./dates.ts";

const ZONES: Record<string, number> = {
  UT: 0,
  GMT: 0,
  EST: -5,
  EDT: -4,
  CST: -6,
  CDT: -5,
  MST: -7,
  MDT: -6,
  PST: -8,
  PDT: -7,
};

/**
 * Milliseconds since the epoch of a `Date:` value, or null when it is not a date-time.
 *
 * @example
 * ```ts
 * sentDate("Tue, 24 Nov 2026 23:30:00 -0800"); // Date.UTC(2026, 10, 25, 7, 30)
 * sentDate("yesterday"); // null
 * ```
 */
export function sentDate(value: string): number | null {
  const tokens = tokenize(value);
  let i = 0;
  if (tokens[1] === "," && /^[a-z]+$/i.test(tokens[0] ?? "")) i = 2;
  const [dayText, monthText, yearText] = tokens.slice(i, i + 3);
  i += 3;
  if (!isDigits(dayText) || !isDigits(yearText) || monthText === undefined) return null;
  const day = Number(dayText);
  const month = monthNumber(monthText.slice(0, 3));
  let year = Number(yearText);
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText.length === 3) year += 1900;
  if (!month || day < 1 || day > 31 || dayText.length > 2) return null;
  const time: number[] = [];
  while (isDigits(tokens[i]) && time.length < 3) {
    time.push(Number(tokens[i++]));
    if (tokens[i] !== ":") break;
    i++;
  }
  if (time.length < 2 || time[0] > 23 || time[1] > 59 || (time[2] ?? 0) > 60) return null;
  const offset = zoneMinutes(tokens[i], tokens[i + 1]);
  if (day > daysInMonth(year, month)) return null;
  const seconds = (time[0] * 60 + time[1] - offset) * 60 + (time[2] ?? 0);
  const ms = dayNumber(year, month, day) * 86_400_000 + seconds * 1000;
  // Past what a Date can hold (year 275760) it is no date: SORT falls back to INTERNALDATE.
  return Math.abs(ms) <= MAX_TIME ? ms : null;
}

/** The largest time value (ms from the epoch) ECMAScript dates hold, either way. */
const MAX_TIME = 8.64e15;

function isDigits(text: string | undefined): text is string {
  if (text === undefined || text.length === 0) return false;
  for (const ch of text) if (ch < "0" || ch > "9") return false;
  return true;
}

/** The zone's offset east of UTC in minutes; 0 when missing or unknown. */
function zoneMinutes(sign: string | undefined, digits: string | undefined): number {
  if ((sign === "+" || sign === "-") && isDigits(digits) && digits.length === 4) {
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return sign === "-" ? -minutes : minutes;
  }
  if (sign !== undefined && /^[a-z]+$/i.test(sign)) return (ZONES[sign.toUpperCase()] ?? 0) * 60;
  return 0;
}

/** Words, digit runs and the single characters `,` `:` `+` `-`; comments and spaces skipped. */
function tokenize(value: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let current = "";
  const flush = () => {
    if (current) tokens.push(current);
    current = "";
  };
  for (const ch of value) {
    if (depth > 0) {
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
      continue;
    }
    const digit = ch >= "0" && ch <= "9";
    const letter = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || ch === ".";
    if (ch === "(") {
      flush();
      depth = 1;
    } else if (digit || letter) {
      const last = current[current.length - 1];
      if (last !== undefined && (last >= "0" && last <= "9") !== digit) flush();
      current += ch;
    } else {
      flush();
      if (ch === "," || ch === ":" || ch === "+" || ch === "-") tokens.push(ch);
    }
    if (tokens.length > 16) break;
  }
  flush();
  return tokens;
}
