import assert from "node:assert/strict";
import { collectWhenIdle, fullGc } from "../lib/full_gc.ts";
import { queuedTimers } from "../lib/net/timer.ts";
import { V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";
import { whileAlive } from "./harness/keep_alive.ts";
import { waitFor } from "./wait.ts";

Deno.test("fullGc: runs a full collection in Deno and says how long it took", async () => {
  const ms = await fullGc();
  assert.equal(typeof ms, "number");
  assert.ok(ms! >= 0);
  // Twice in one process: the flag is already set, the function still comes.
  assert.equal(typeof await fullGc(), "number");
});

Deno.test("fullGc: an exposed gc() is called as V8's last-resort collection", async () => {
  const global = globalThis as { gc?: unknown };
  const before = global.gc;
  const calls: unknown[] = [];
  global.gc = (options: unknown) => calls.push(options);
  try {
    assert.equal(typeof await fullGc(), "number");
  } finally {
    global.gc = before;
  }
  assert.deepEqual(calls, [{ type: "major", execution: "sync", flavor: "last-resort" }]);
});

Deno.test("fullGc: with the program's V8 flags, the young generation's pages are given back", async () => {
  // What the idle server's RSS after the warm-up depends on: a plain gc() of --expose-gc
  // kept the young generation (8 MB) committed (lib/full_gc.ts).
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { fullGc } from ${JSON.stringify(new URL("../lib/full_gc.ts", import.meta.url).href)};
    const young = () =>
      getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
    // Short-lived garbage with survivors: the young generation grows to its largest.
    let kept = [];
    for (let i = 0; i < 1e6; i++) {
      kept.push({ i });
      if (kept.length > 1e5) kept = [];
    }
    kept = null;
    const grown = young();
    const ms = await fullGc();
    console.log(JSON.stringify({ ms: typeof ms, grown, after: young() }));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", V8_FLAGS_ARGUMENT, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(output.stderr), "");
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.ms, "number");
  assert.ok(result.after * 4 <= result.grown, `young generation ${result.grown} → ${result.after}`);
});

/**
 * Replaces the exposed gc() for `body`, run while the event loop is kept alive (as the
 * server's listeners keep it; collectWhenIdle's timers do not); the calls it got.
 */
async function countingGc(body: () => Promise<void>): Promise<number> {
  const global = globalThis as { gc?: unknown };
  const before = global.gc;
  let calls = 0;
  global.gc = () => calls++;
  try {
    await whileAlive(body);
  } finally {
    global.gc = before;
  }
  return calls;
}

Deno.test("collectWhenIdle: waits while busy, then collects once", async () => {
  let looks = 0;
  const calls = await countingGc(async () => {
    const pending = collectWhenIdle(() => ++looks < 4, 5);
    await pending.done;
    // A look after the collection would be a second one.
    await new Promise((resolve) => setTimeout(resolve, 30));
  });
  assert.equal(looks, 4);
  assert.equal(calls, 1);
});

Deno.test("collectWhenIdle: never collects while busy; cancel ends the wait", async () => {
  let looks = 0;
  const calls = await countingGc(async () => {
    const pending = collectWhenIdle(() => {
      looks++;
      return true;
    }, 5);
    // Looks a chain of 5 ms timers apart: waited for by count, not by time (a loaded machine
    // may run one look in 60 ms).
    await waitFor(() => looks >= 3, "three looks");
    pending.cancel();
    await pending.done;
  });
  assert.ok(looks >= 3, `looked ${looks} times`);
  assert.equal(calls, 0);
});

Deno.test("collectWhenIdle: once a client came, it waits for a longer quiet, then collects once", async () => {
  let looks = 0;
  let inputs = 0;
  let collectedAt = 0;
  let lastInputAt = 0;
  const calls = await countingGc(async () => {
    // A client: input at the first three looks, and connected until the second.
    const pending = collectWhenIdle(
      () => {
        looks++;
        if (looks <= 3) {
          inputs++;
          lastInputAt = performance.now();
        }
        return looks < 2;
      },
      5,
      () => inputs,
      100,
    );
    await pending.done;
    collectedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
  });
  assert.equal(calls, 1);
  assert.ok(
    collectedAt - lastInputAt >= 100,
    `collected ${collectedAt - lastInputAt} ms after input`,
  );
});

Deno.test("collectWhenIdle: looks again before each later step of the collection", async () => {
  // No exposed gc() here (deno test): the collection loads node:v8 and node:vm first, three
  // steps, and a client that came meanwhile goes first.
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
  let looks = 0;
  const pending = collectWhenIdle(() => ++looks === 2, 5);
  await whileAlive(() => pending.done);
  // First look idle; the second step's look busy, then idle after a poll; the third step's.
  assert.equal(looks, 4);
});

Deno.test("collectWhenIdle: cancelled while a later step waits, it ends there", async () => {
  let looks = 0;
  const pending = collectWhenIdle(() => ++looks > 1, 5);
  while (looks < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  pending.cancel();
  await pending.done;
  const after = looks;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(looks, after, "it looked again after the cancel");
});

Deno.test("collectWhenIdle: cancelled before its first look, nothing runs or stays", async () => {
  let looks = 0;
  const timers = queuedTimers();
  const calls = await countingGc(async () => {
    const pending = collectWhenIdle(() => looks++ > 0, 5);
    pending.cancel();
    await pending.done;
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
  assert.deepEqual({ looks, calls }, { looks: 0, calls: 0 });
  assert.equal(queuedTimers(), timers, "a timer was left");
});
