/**
 * The failed-authentication counter (lib/auth_guard.ts), sans-IO with a fake clock: delays,
 * the per-connection limit, the per-address sliding window, and logging once per interval.
 *
 * @module
 */

import assert from "node:assert/strict";
import { addressOf, AuthGuard, type AuthGuardLimits, LOG_INTERVAL_MS } from "../lib/auth_guard.ts";
import { DEFAULT_LIMITS } from "../lib/config.ts";
import { type Logger, quietLogger } from "../lib/log.ts";

function guard(limits: Partial<AuthGuardLimits> = {}) {
  const clock = { now: 1_000_000 };
  const warnings: string[] = [];
  const logger: Logger = { ...quietLogger(), warn: (message) => warnings.push(message) };
  const g = new AuthGuard({ ...DEFAULT_LIMITS, ...limits }, logger, () => clock.now);
  return { guard: g, clock, warnings };
}

Deno.test("auth guard: three failures free, then a growing delay, capped; cut off at ten", () => {
  const { guard: g } = guard();
  const attempts = g.connection("imap", "192.0.2.7:4000");
  const penalties = Array.from({ length: 10 }, () => attempts.failed());
  assert.deepEqual(
    penalties.map((p) => p.delayMs),
    [0, 0, 0, 1000, 2000, 4000, 5000, 5000, 5000, 5000],
  );
  assert.deepEqual(penalties.map((p) => p.disconnect), [...Array(9).fill(false), true]);
  // Huge counts do not overflow the delay.
  assert.equal(g.delayFor(5000), 5000);
});

Deno.test("auth guard: a success starts the connection's count again", () => {
  const { guard: g } = guard();
  const attempts = g.connection("smtp", "192.0.2.7:4000");
  for (let i = 0; i < 5; i++) attempts.failed();
  attempts.succeeded();
  assert.deepEqual(attempts.failed(), { delayMs: 0, disconnect: false });
});

Deno.test("auth guard: connections count apart, the address counts them together", () => {
  const { guard: g, clock, warnings } = guard({ maxAuthFailuresPerAddress: 5 });
  const first = g.connection("imap", "192.0.2.7:1");
  const second = g.connection("smtp", "192.0.2.7:2");
  const other = g.connection("imap", "198.51.100.1:3");
  for (let i = 0; i < 3; i++) first.failed();
  assert.equal(second.addressLocked(), false);
  second.failed();
  assert.equal(second.failed().delayMs, 0, "the second connection has its own count");
  assert.equal(first.addressLocked(), true);
  assert.equal(second.addressLocked(), true);
  assert.equal(other.addressLocked(), false, "another address is not concerned");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^smtp: 5 failed authentications from 192\.0\.2\.7 within 10 minutes/);
  // Refused attempts count on the connection, not for the address: the window still ends.
  for (let i = 0; i < 20; i++) second.failed();
  clock.now += 10 * 60_000 - 1;
  assert.equal(first.addressLocked(), true);
  clock.now += 1;
  assert.equal(first.addressLocked(), false, "the oldest failure left the window");
  assert.equal(warnings.filter((w) => /failed authentications from/.test(w)).length, 1);
});

Deno.test("auth guard: the window slides: one more try each time an old failure expires", () => {
  const { guard: g, clock } = guard({ maxAuthFailuresPerAddress: 3, authFailureWindowMs: 100 });
  const attempts = g.connection("imap", "192.0.2.7:1");
  for (let i = 0; i < 3; i++) {
    attempts.failed();
    clock.now += 10;
  }
  assert.equal(attempts.addressLocked(), true);
  clock.now += 71; // the first failure (at +0) is 101 ms old
  assert.equal(attempts.addressLocked(), false);
  attempts.failed();
  assert.equal(attempts.addressLocked(), true);
});

Deno.test("auth guard: 0 turns the per-address limit off", () => {
  const { guard: g } = guard({ maxAuthFailuresPerAddress: 0 });
  for (let c = 0; c < 50; c++) {
    const attempts = g.connection("imap", `192.0.2.7:${c}`);
    for (let i = 0; i < 10; i++) attempts.failed();
    assert.equal(attempts.addressLocked(), false);
  }
});

Deno.test("auth guard: disconnects are logged once per interval per address", () => {
  const { guard: g, clock, warnings } = guard({ maxAuthFailuresPerAddress: 0 });
  const cutOff = () => {
    const attempts = g.connection("imap", "192.0.2.7:1");
    for (let i = 0; i < 10; i++) attempts.failed();
  };
  for (let i = 0; i < 5; i++) cutOff();
  assert.deepEqual(warnings, [
    "imap: closed a connection from 192.0.2.7 after 10 failed authentications",
  ]);
  clock.now += LOG_INTERVAL_MS;
  cutOff();
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /\(and 4 more since the last report\)$/);
});

Deno.test("auth guard: the delay runs on a timer and close() cancels what waits", async () => {
  const { guard: g } = guard();
  const attempts = g.connection("imap", "192.0.2.7:1");
  const order: string[] = [];
  const slept = attempts.sleep(5).then(() => order.push("slept"));
  order.push("not blocked");
  await slept;
  assert.deepEqual(order, ["not blocked", "slept"]);
  let fired = false;
  attempts.later(10_000, () => fired = true);
  g.close();
  assert.equal(fired, false);
});

Deno.test("auth guard: addresses of IPv4 and IPv6 peers", () => {
  assert.equal(addressOf("127.0.0.1:5555"), "127.0.0.1");
  assert.equal(addressOf("::1:5555"), "::1");
  assert.equal(addressOf("[2001:db8::1]:5555"), "2001:db8::1");
});
