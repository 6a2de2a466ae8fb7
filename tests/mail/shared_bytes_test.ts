/**
 * lib/mail/shared_bytes.ts: the ledger of shared message bytes V8 does not count (what is
 * loose, when a collection is asked for) and the copy web APIs need.
 */

import assert from "node:assert/strict";
import { SharedBytesLedger, unsharedBytes } from "../../lib/mail/shared_bytes.ts";

Deno.test("shared bytes: allocated in shared memory, loose until kept, loose again when released", () => {
  const ledger = new SharedBytesLedger(1000);
  const bytes = ledger.allocate(100);
  assert.ok(bytes.buffer instanceof SharedArrayBuffer);
  assert.equal(bytes.length, 100);
  assert.equal(ledger.loose, 100);
  ledger.keep(bytes);
  assert.equal(ledger.loose, 0);
  ledger.release(bytes.length);
  assert.equal(ledger.loose, 100);
  // Bytes V8 counts itself change nothing, and the count never goes below zero.
  ledger.keep(new Uint8Array(50));
  assert.equal(ledger.loose, 100);
  ledger.keep(ledger.copy(new Uint8Array(300)));
  ledger.keep(bytes);
  assert.equal(ledger.loose, 0);
});

Deno.test("shared bytes: a copy holds the same bytes in shared memory of its own", () => {
  const ledger = new SharedBytesLedger();
  const source = new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n");
  const copy = ledger.copy(source.subarray(9));
  assert.ok(copy.buffer instanceof SharedArrayBuffer);
  assert.deepEqual([...copy], [...source.subarray(9)]);
  source[10] = 0;
  assert.equal(copy[1], "i".charCodeAt(0));
});

Deno.test("shared bytes: one collection asked at the threshold, the next only after it ran", () => {
  const ledger = new SharedBytesLedger(1000);
  // Without an answer (a store with no server), nothing is asked and the count goes on.
  ledger.release(2000);
  assert.equal(ledger.loose, 2000);
  let asked = 0;
  ledger.onThreshold = () => asked++;
  ledger.release(1);
  assert.equal(asked, 1);
  ledger.allocate(5000);
  ledger.release(5000);
  assert.equal(asked, 1, "asked again before the first collection ran");
  ledger.collected();
  assert.equal(ledger.loose, 0);
  ledger.release(999);
  assert.equal(asked, 1);
  ledger.release(1);
  assert.equal(asked, 2);
});

Deno.test("shared bytes: web APIs get a copy of a shared view, and an unshared view as it is", async () => {
  const ledger = new SharedBytesLedger();
  const shared = ledger.copy(new TextEncoder().encode("From: a@b\r\n\r\nhello\r\n"));
  const part = shared.subarray(13, 18);
  // What the type says too: a view that may be shared is not a BodyInit.
  assert.throws(() => new Response(part as Uint8Array<ArrayBuffer>), TypeError);
  const copy = unsharedBytes(part);
  assert.ok(copy.buffer instanceof ArrayBuffer);
  assert.equal(await new Response(copy).text(), "hello");
  assert.equal((await crypto.subtle.digest("SHA-1", copy)).byteLength, 20);
  const plain = new Uint8Array([1, 2, 3]);
  assert.equal(unsharedBytes(plain), plain);
});
