import assert from "node:assert/strict";
import { sleep, startTimer } from "../../lib/net/timer.ts";

/**
 * A listener waiting for a client keeps the event loop alive, as a server's do: these timers do
 * not by themselves.
 */
function alive(): Deno.Listener {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.accept().catch(() => {});
  return listener;
}

Deno.test("startTimer: fires once, not before its time", async () => {
  const listener = alive();
  try {
    const start = performance.now();
    let fired = 0;
    const done = Promise.withResolvers<void>();
    startTimer(30, () => {
      fired++;
      done.resolve();
    });
    await done.promise;
    assert.ok(performance.now() - start >= 29, "fired early");
    await sleep(20);
    assert.equal(fired, 1);
  } finally {
    listener.close();
  }
});

Deno.test("startTimer: a cancelled timer does not fire; cancel after firing is harmless", async () => {
  const listener = alive();
  try {
    let cancelledFired = false;
    const timer = startTimer(10, () => cancelledFired = true);
    timer.cancel();
    timer.cancel();
    let fired = false;
    const other = startTimer(5, () => fired = true);
    await sleep(40);
    assert.equal(cancelledFired, false);
    assert.equal(fired, true);
    other.cancel();
  } finally {
    listener.close();
  }
});

Deno.test("sleep(0) waits for a later turn, after pending I/O callbacks' microtasks", async () => {
  const listener = alive();
  try {
    let microtask = false;
    queueMicrotask(() => microtask = true);
    await sleep(0);
    assert.equal(microtask, true);
  } finally {
    listener.close();
  }
});

Deno.test("the timers do not load Deno's Node timers, which the global setTimeout does", async () => {
  // In a fresh process, as the server runs: heap used after our timers, then after one global
  // setTimeout. Node's timers (with node:internal/errors and util/inspect, ~1 MB of heap) load
  // on the latter only if the former did not load them already.
  const timerModule = new URL("../../lib/net/timer.ts", import.meta.url).href;
  const script = `
    import { sleep, startTimer } from ${JSON.stringify(timerModule)};
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    listener.accept().catch(() => {});
    const heapUsed = () => (globalThis.gc(), Deno.memoryUsage().heapUsed);
    startTimer(50, () => {}).cancel();
    await sleep(5);
    const ours = heapUsed();
    await new Promise((resolve) => setTimeout(resolve, 5));
    console.log(heapUsed() - ours);
    listener.close();
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const grown = Number(new TextDecoder().decode(output.stdout).trim());
  assert.ok(grown > 300_000, `the global setTimeout added only ${grown} bytes of heap`);
});
