/**
 * The event hub's memory rules (issue 11 item 9), on streams read by hand so a listener that
 * does not read is truly deaf: one encoded copy per event shared by all listeners, a budget
 * across all listeners that cuts off the slow ones and not the readers, and queues released
 * when listeners go.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventHub } from "../../lib/http/event_hub.ts";
import { quietLogger } from "../../lib/log.ts";
import type { Store, StoreEvent, StoreListener } from "../../lib/store/types.ts";

const decoder = new TextDecoder();
const EVENT_BYTES = 100_000;

interface Harness {
  readonly hub: EventHub;
  publish(event: StoreEvent): void;
  readonly warnings: string[];
}

function harness(maxEventQueueBytes: number, maxEventTotalBytes: number): Harness {
  let listener: StoreListener = () => {};
  const store = {
    subscribe(fn: StoreListener) {
      listener = fn;
      return () => {};
    },
  } as unknown as Store;
  const warnings: string[] = [];
  const logger = { ...quietLogger(), warn: (text: string) => warnings.push(text) };
  const hub = new EventHub(store, logger, { maxEventQueueBytes, maxEventTotalBytes });
  return { hub, publish: (event) => listener(event), warnings };
}

/** An event of about 100 KB. */
function bigEvent(i: number): StoreEvent {
  return { type: "mailbox.created", user: "amy", mailbox: `${i}-${"x".repeat(EVENT_BYTES)}` };
}

/** Opens a listener and reads its `ready` event; it reads nothing more unless asked. */
async function listen(hub: EventHub): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = hub.open({ user: null, types: null }).getReader();
  const ready = await reader.read();
  assert.match(decoder.decode(ready.value), /^retry: 2000\nevent: ready\n/);
  return reader;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("event hub: every listener gets the same encoded bytes of an event", async () => {
  const { hub, publish } = harness(1024 * 1024, 4 * 1024 * 1024);
  const readers = [await listen(hub), await listen(hub), await listen(hub)];
  const reads = readers.map((reader) => reader.read());
  publish(bigEvent(1));
  const chunks = (await Promise.all(reads)).map((result) => result.value!);
  assert.match(decoder.decode(chunks[0]), /^id: 1\nevent: mailbox.created\ndata: \{/);
  assert.ok(chunks[0].length > EVENT_BYTES);
  assert.ok(chunks.every((chunk) => chunk === chunks[0]), "one copy, shared");
  hub.close();
});

Deno.test("event hub: an event queued for many deaf listeners counts once; closing frees it", async () => {
  const { hub, publish } = harness(1024 * 1024, 4 * 1024 * 1024);
  const deaf = [await listen(hub), await listen(hub)];
  for (let i = 0; i < 3; i++) publish(bigEvent(i));
  await turn();
  assert.ok(hub.queuedBytes > 3 * EVENT_BYTES && hub.queuedBytes < 3 * EVENT_BYTES + 1000);
  await deaf[0].cancel();
  assert.equal(hub.size, 1);
  assert.ok(hub.queuedBytes > 3 * EVENT_BYTES, "still held by the other listener");
  await deaf[1].cancel();
  assert.equal(hub.size, 0);
  assert.equal(hub.queuedBytes, 0, "nothing is held for listeners that are gone");
  hub.close();
});

Deno.test("event hub: past the total budget, listeners over their share are cut off, readers are not", async () => {
  // Each listener may queue 1 MB, but all together only 350 KB.
  const { hub, publish, warnings } = harness(1024 * 1024, 350_000);
  const deaf = [await listen(hub), await listen(hub), await listen(hub)];
  const reader = await listen(hub);
  const heard: string[] = [];
  const reading = (async () => {
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      heard.push(decoder.decode(result.value));
    }
  })();
  let peak = 0;
  for (let i = 0; i < 10; i++) {
    publish(bigEvent(i));
    peak = Math.max(peak, hub.queuedBytes);
    await turn();
  }
  assert.ok(peak <= 350_000, `queued at most the budget (peak ${peak})`);
  assert.equal(hub.size, 1, "only the reader is left");
  for (const stream of deaf) {
    const next = await stream.read();
    const text = decoder.decode(next.value);
    assert.match(text, /^event: overflow\ndata: /, "the queue was dropped, the cut-off said");
    const data = JSON.parse(text.split("data: ")[1]);
    assert.match(data.error, /^Listener too slow: the 4 listeners together had \d+ bytes/);
    assert.equal(data.sent, 0);
    assert.equal(data.unsent, 4, "3 queued and the one that did not fit");
    assert.equal(data.totalLimit, 350_000);
    assert.equal((await stream.read()).done, true);
  }
  assert.equal(warnings.length, 3);
  hub.close();
  await reading;
  const ids = heard.join("").match(/^id: \d+$/gm);
  assert.equal(ids?.length, 10, "the reader got every event");
});
