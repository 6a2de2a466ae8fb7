import assert from "node:assert/strict";
import { openLoopTurns, ownPeer } from "../lib/loop_turns.ts";

/** Busy-waits `ms` on this thread: a step that gives nothing back until it ends. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a step's work */ }
}

Deno.test("loop turns: a socket that is ready is served between two steps", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  const turns = await openLoopTurns();
  try {
    let step = 0;
    let servedAt = -1;
    const served = server.read(new Uint8Array(8)).then(() => {
      servedAt = step;
    });
    await client.write(new TextEncoder().encode("ping"));
    // Steps of 2 ms with a turn between, as the warm-up runs them: the waiting read must
    // come in between (a microtask or `setImmediate` chain would hold it to the end).
    for (step = 1; step <= 50 && servedAt < 0; step++) {
      spin(2);
      await turns.next();
    }
    await served;
    assert.ok(servedAt > 0 && servedAt <= 5, `read served after step ${servedAt}`);
  } finally {
    turns.close();
    client.close();
    server.close();
  }
});

Deno.test("loop turns: callers waiting at once all get their turn, and after close too", async () => {
  const turns = await openLoopTurns();
  let resolved = 0;
  const count = () => resolved++;
  // Several at once (the warm-up's protocols can ask together), then a round more each.
  await Promise.all(Array.from({ length: 10 }, () => turns.next().then(count)));
  assert.equal(resolved, 10);
  await Promise.all(Array.from({ length: 3 }, () => turns.next().then(count)));
  assert.equal(resolved, 13);
  const pending = turns.next().then(count);
  turns.close();
  await pending;
  await turns.next().then(count);
  turns.close();
  assert.equal(resolved, 15);
});

Deno.test("loop turns: a connection another process made to the listener first is not taken", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stranger = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const writer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  try {
    const reader = await ownPeer(listener, writer.localAddr.port);
    assert.equal(reader.remoteAddr.port, writer.localAddr.port);
    reader.close();
    // The stranger's connection was closed unread.
    assert.equal(await stranger.read(new Uint8Array(1)), null);
  } finally {
    listener.close();
    stranger.close();
    writer.close();
  }
});
