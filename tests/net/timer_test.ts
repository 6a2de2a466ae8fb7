/**
 * lib/net/timer.ts: a timer fires once, not before its time, in due order (start order for
 * the same time); a cancelled one never fires; the queue starts a wait in V8 only for a timer
 * due before every pending wait; `sleep` keeps the event loop alive by itself.
 */

import assert from "node:assert/strict";
import { queuedTimers, sleep, startTimer, TimerQueue } from "../../lib/net/timer.ts";
import { whileAlive } from "../harness/keep_alive.ts";
import { mulberry32 } from "../harness/random.ts";

Deno.test("startTimer: fires once, not before its time", async () => {
  await whileAlive(async () => {
    const start = performance.now();
    let fired = 0;
    let at = 0;
    const done = Promise.withResolvers<void>();
    startTimer(30, () => {
      fired++;
      at = performance.now();
      done.resolve();
    });
    await done.promise;
    assert.ok(at - start >= 30, `fired after ${at - start} ms`);
    await sleep(40);
    assert.equal(fired, 1);
  });
});

Deno.test("startTimer: a cancelled timer never fires, and leaves the queue; cancelling twice or after firing is harmless", async () => {
  await whileAlive(async () => {
    const before = queuedTimers();
    let cancelledFired = false;
    const timer = startTimer(10, () => cancelledFired = true);
    assert.equal(queuedTimers(), before + 1);
    timer.cancel();
    timer.cancel();
    assert.equal(queuedTimers(), before);
    let fired = false;
    const other = startTimer(5, () => fired = true);
    await sleep(50);
    assert.equal(cancelledFired, false);
    assert.equal(fired, true);
    other.cancel();
    assert.equal(queuedTimers(), before);
  });
});

Deno.test("TimerQueue: fires in due order, and timers due at the same time in start order", async () => {
  await whileAlive(async () => {
    const queue = new TimerQueue();
    const order: string[] = [];
    const done = Promise.withResolvers<void>();
    queue.start(30, () => order.push("30"));
    queue.start(10, () => order.push("10a"));
    queue.start(20, () => order.push("20"));
    queue.start(0, () => order.push("0"));
    // Started in one turn: the same `performance.now()` or a later one, never an earlier one.
    const same = () => order.push("same");
    for (let i = 0; i < 3; i++) queue.start(40, same);
    queue.start(40, () => {
      order.push("last");
      done.resolve();
    });
    await done.promise;
    assert.deepEqual(order, ["0", "10a", "20", "30", "same", "same", "same", "last"]);
    assert.equal(queue.size, 0);
  });
});

Deno.test("TimerQueue: a timer cancelled by one that fires before it in the same wake does not fire", async () => {
  await whileAlive(async () => {
    const queue = new TimerQueue();
    let fired = false;
    let later: { cancel(): void } | null = null;
    queue.start(5, () => later!.cancel());
    later = queue.start(5, () => fired = true);
    // Due together with both, and after them in start order.
    await new Promise<void>((resolve) => queue.start(5, resolve));
    assert.equal(fired, false);
  });
});

Deno.test("TimerQueue: timers started from a firing timer fire too", async () => {
  await whileAlive(async () => {
    const queue = new TimerQueue();
    const order: number[] = [];
    const done = Promise.withResolvers<void>();
    queue.start(2, () => {
      order.push(1);
      queue.start(0, () => {
        order.push(3);
        done.resolve();
      });
      order.push(2);
    });
    await done.promise;
    assert.deepEqual(order, [1, 2, 3]);
  });
});

Deno.test("TimerQueue: a throwing timer is an uncaught error, and the others still fire", async () => {
  const errors: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    errors.push(event.error);
    event.preventDefault();
  };
  globalThis.addEventListener("error", onError);
  try {
    await whileAlive(async () => {
      const queue = new TimerQueue();
      let fired = false;
      queue.start(2, () => {
        throw new Error("boom");
      });
      queue.start(2, () => fired = true);
      await sleep(30);
      assert.equal(fired, true);
    });
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  assert.deepEqual(errors.map((error) => (error as Error).message), ["boom"]);
});

Deno.test("TimerQueue: one wait in V8 serves timers due after it; an earlier timer starts another", async () => {
  await whileAlive(async () => {
    const queue = new TimerQueue();
    const long = Array.from({ length: 100 }, () => queue.start(60_000, () => {}));
    assert.equal(queue.waits, 1);
    // Sessions coming and going, each with its deadlines of the same lengths: no new wait.
    for (let i = 0; i < 1_000; i++) {
      const idle = queue.start(60_000, () => {});
      const receive = queue.start(60_000, () => {});
      receive.cancel();
      idle.cancel();
    }
    assert.equal(queue.waits, 1);
    assert.equal(queue.size, 100);
    let fired = false;
    queue.start(5, () => fired = true);
    assert.equal(queue.waits, 2);
    await sleep(40);
    assert.equal(fired, true);
    // The early wait is over; the minute's is still pending.
    assert.equal(queue.waits, 1);
    for (const timer of long) timer.cancel();
    assert.equal(queue.size, 0);
  });
});

Deno.test("TimerQueue: random starts and cancels fire exactly the timers not cancelled, in due order", async () => {
  await whileAlive(async () => {
    const random = mulberry32(13);
    const queue = new TimerQueue();
    const fired: number[] = [];
    /** Each timer's due time lies between these (the clock read before and after its start). */
    const dueRange: Array<[number, number]> = [];
    const live = new Map<number, { cancel(): void }>();
    for (let step = 0; step < 600; step++) {
      if (live.size > 0 && random() < 0.4) {
        const ids = [...live.keys()];
        const victim = ids[Math.floor(random() * ids.length)];
        live.get(victim)!.cancel();
        live.delete(victim);
        continue;
      }
      const id = dueRange.length;
      const ms = Math.floor(random() * 40);
      const before = performance.now() + ms;
      live.set(id, queue.start(ms, () => fired.push(id)));
      dueRange.push([before, performance.now() + ms]);
    }
    await sleep(80);
    assert.equal(queue.size, 0);
    assert.deepEqual([...fired].sort((a, b) => a - b), [...live.keys()].sort((a, b) => a - b));
    for (let i = 1; i < fired.length; i++) {
      const [earliest] = dueRange[fired[i - 1]];
      const [, latest] = dueRange[fired[i]];
      assert.ok(earliest <= latest, `timer ${fired[i]} fired after ${fired[i - 1]}, due later`);
    }
  });
});

Deno.test("sleep keeps the event loop alive by itself", async () => {
  const start = performance.now();
  await sleep(20);
  assert.ok(performance.now() - start >= 19);
});
