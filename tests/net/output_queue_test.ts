/**
 * The plain transport's output queue (lib/net/output_queue.ts): chunks come out in order and
 * add up to exactly what was queued, large parts as the caller's own arrays, small ones
 * gathered into a pooled buffer no larger than a write carries, and the buffer goes back to
 * the pool only once the queue is empty.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../../lib/bytes.ts";
import {
  DIRECT_SIZE,
  GATHER_SIZE,
  GatherPool,
  OutputQueue,
  SMALL_RUN,
} from "../../lib/net/output_queue.ts";

/** A part of `length` bytes whose content says which part and offset it is. */
function part(index: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (index * 31 + i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

/** Every chunk until the queue is empty, each copied before the next is asked for. */
function drain(queue: OutputQueue): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let chunk = queue.next(); chunk; chunk = queue.next()) chunks.push(chunk.slice());
  return chunks;
}

Deno.test("output queue: chunks in order, exactly the queued bytes, sizes within a write", () => {
  const pool = new GatherPool();
  const queue = new OutputQueue(pool);
  const sizes = [5, 40, 1500, DIRECT_SIZE - 1, DIRECT_SIZE, 3, 200_000, 9, 8, GATHER_SIZE];
  const parts: Uint8Array[] = [];
  for (let round = 0; round < 12; round++) {
    for (const size of sizes) parts.push(part(parts.length, size + round));
  }
  let queued = 0;
  for (const p of parts) {
    queue.push(p);
    queued += p.length;
    assert.equal(queue.length, queued);
  }
  const chunks = drain(queue);
  assert.equal(queue.length, 0);
  assert.deepEqual(concatBytes(chunks), concatBytes(parts));
  // A chunk is one large part, or small parts together within a gather buffer.
  const large = new Set(parts.filter((p) => p.length >= DIRECT_SIZE).map((p) => p.length));
  for (const chunk of chunks) assert.ok(chunk.length <= GATHER_SIZE || large.has(chunk.length));
  // One write per large part and per run of small ones between them (each run fits a buffer).
  let runs = 0;
  parts.forEach((p, i) => {
    if (p.length < DIRECT_SIZE && (i === 0 || parts[i - 1].length >= DIRECT_SIZE)) runs++;
  });
  const largeParts = parts.filter((p) => p.length >= DIRECT_SIZE).length;
  assert.equal(chunks.length, runs + largeParts);
});

Deno.test("output queue: large parts and a lone part go out uncopied, small ones gathered", () => {
  const pool = new GatherPool();
  const queue = new OutputQueue(pool);
  const large = part(1, DIRECT_SIZE);
  const small = [part(2, SMALL_RUN / 2), part(3, SMALL_RUN / 2 + 1), part(4, 30)];
  queue.push(small[0]);
  queue.push(small[1]);
  queue.push(large);
  queue.push(small[2]);
  const first = queue.next()!;
  assert.deepEqual(first, concatBytes(small.slice(0, 2)));
  assert.equal(first.buffer.byteLength, GATHER_SIZE, "gathered into a pool buffer");
  assert.equal(queue.next(), large, "a large part is the caller's array");
  assert.equal(queue.next(), small[2], "the last part queued is not copied");
  assert.equal(queue.next(), null);
  assert.equal(pool.free, 1, "the gather buffer is back in the pool");
});

Deno.test("output queue: a few small replies are joined into an array of their size", () => {
  const pool = new GatherPool();
  const queue = new OutputQueue(pool);
  const replies = [part(1, 40), part(2, 50), part(3, 60)];
  for (const reply of replies) queue.push(reply);
  const chunk = queue.next()!;
  assert.deepEqual(chunk, concatBytes(replies));
  assert.equal(chunk.buffer.byteLength, 150, "no gather buffer for 150 bytes");
  assert.equal(queue.next(), null);
  assert.equal(pool.free, 0, "the pool was not used");
});

Deno.test("output queue: the gather buffer is kept while output is queued, then reused", () => {
  const pool = new GatherPool();
  const a = new OutputQueue(pool);
  const b = new OutputQueue(pool);
  const size = SMALL_RUN / 2 + 1;
  a.push(part(1, size));
  a.push(part(2, size));
  b.push(part(3, size));
  b.push(part(4, size));
  const fromA = a.next()!;
  const fromB = b.next()!;
  assert.notEqual(fromA.buffer, fromB.buffer, "two connections never share a buffer at once");
  // More output while the first chunk is with the OS: a's chunk must stay as it is.
  const before = fromA.slice();
  a.push(part(5, 1));
  a.push(part(6, 1));
  assert.deepEqual(fromA, before);
  const again = a.next()!;
  assert.equal(again.buffer, fromA.buffer, "the same buffer while output is queued");
  assert.equal(a.next(), null);
  assert.equal(b.next(), null);
  assert.equal(pool.free, 2);
  const c = new OutputQueue(pool);
  c.push(part(7, size));
  c.push(part(8, size));
  assert.equal(c.next()!.buffer, fromB.buffer, "a pooled buffer is reused");
  c.clear();
  assert.equal(c.length, 0);
  assert.equal(c.next(), null);
  assert.equal(pool.free, 1, "a cleared queue's buffer is not given back (a write may hold it)");
});

Deno.test("output queue: thousands of parts stay in order across compactions", () => {
  const queue = new OutputQueue(new GatherPool());
  const parts: Uint8Array[] = [];
  const out: Uint8Array[] = [];
  for (let i = 0; i < 5000; i++) {
    const p = part(i, 1 + (i * 37) % 3000);
    parts.push(p);
    queue.push(p);
    // Take a chunk now and then while pushing, as a writer does between a session's writes.
    if (i % 7 === 0) out.push(queue.next()!.slice());
  }
  out.push(...drain(queue));
  assert.deepEqual(concatBytes(out), concatBytes(parts));
});

Deno.test("output queue: parts of shared memory at every offset are gathered exactly", () => {
  // Stored mail is shared memory (the memory store); views of it start at any offset and
  // land anywhere in the gather buffer, so every pair of residues modulo 8 occurs, in sizes
  // around the pieces copied through the pool's scratch array (8 KiB) and below the size
  // copied plainly (512).
  const parts: Uint8Array[] = [];
  const sizes = [1, 7, 511, 512, 513, 8191, 8192, 8193, 20_000, DIRECT_SIZE - 1];
  for (let offset = 0; offset < 8; offset++) {
    for (const size of sizes) {
      const shared = new Uint8Array(new SharedArrayBuffer(size + 16));
      shared.set(part(parts.length, size + 16));
      parts.push(shared.subarray(offset, offset + size));
      // A line between bodies shifts where the next one lands by 1 to 8 bytes.
      parts.push(part(parts.length, 1 + (parts.length % 8)));
    }
  }
  const queue = new OutputQueue(new GatherPool());
  for (const p of parts) queue.push(p);
  assert.deepEqual(concatBytes(drain(queue)), concatBytes(parts));
});
