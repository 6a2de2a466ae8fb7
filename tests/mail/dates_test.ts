import assert from "node:assert/strict";
import { dayNumber, daysInMonth, utcFields } from "../../lib/mail/dates.ts";

/** What `Date`'s getters say, the reference the arithmetic must match. */
function viaDate(ms: number) {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
    weekday: d.getUTCDay(),
  };
}

Deno.test("utcFields: agrees with Date's UTC getters, before and after the epoch", () => {
  const instants = [
    0,
    -1,
    86_399_999,
    -86_400_000,
    Date.UTC(2000, 1, 29, 23, 59, 59, 999),
    Date.UTC(1900, 1, 28, 12),
    Date.UTC(2100, 2, 1),
    Date.UTC(1600, 0, 1),
    -62_135_596_800_000, // 0001-01-01
    253_402_300_799_999, // 9999-12-31 23:59:59.999
  ];
  let state = 12345;
  for (let i = 0; i < 2000; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    instants.push((state / 2147483648 - 0.3) * 8e12 + (i % 1000));
  }
  for (const ms of instants.map(Math.floor)) {
    assert.deepEqual(utcFields(ms), viaDate(ms), `at ${ms}`);
  }
});

Deno.test("dayNumber: inverse of utcFields, every day of 1999-2001", () => {
  for (let day = dayNumber(1999, 1, 1); day <= dayNumber(2001, 12, 31); day++) {
    const fields = utcFields(day * 86_400_000);
    assert.equal(dayNumber(fields.year, fields.month, fields.day), day);
  }
  assert.equal(dayNumber(1999, 1, 1), Date.UTC(1999, 0, 1) / 86_400_000);
});

Deno.test("daysInMonth: leap years by the Gregorian rule", () => {
  assert.deepEqual([2024, 2023, 1900, 2000].map((year) => daysInMonth(year, 2)), [29, 28, 28, 29]);
  assert.deepEqual(
    Array.from({ length: 12 }, (_, i) => daysInMonth(2026, i + 1)),
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  );
});
