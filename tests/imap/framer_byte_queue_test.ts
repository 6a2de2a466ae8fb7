/** The framer's input queue against a plain array model, under random chunks and operations. */

import assert from "node:assert/strict";
import { mulberry32 } from "../harness/random.ts";
import { ByteQueue } from "../../lib/imap/byte_queue.ts";

Deno.test("framer input queue: matches an array under random pushes, takes, skips, unshifts", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = mulberry32(seed);
    const queue = new ByteQueue();
    let model: number[] = [];
    for (let step = 0; step < 3000; step++) {
      const op = rand();
      if (op < 0.45) {
        // Mostly tiny chunks (a slow sender), some large; LFs now and then.
        const size = rand() < 0.9 ? 1 + Math.floor(rand() * 3) : Math.floor(rand() * 300);
        const chunk = Uint8Array.from({ length: size }, () => rand() < 0.02 ? 0x0a : 0x61);
        queue.push(chunk);
        model.push(...chunk);
      } else if (op < 0.65) {
        const n = Math.floor(rand() * (model.length + 1));
        const out = new Uint8Array(n + 2);
        queue.take(n, out, 2);
        assert.deepEqual([...out.subarray(2)], model.slice(0, n), `seed ${seed} step ${step}`);
        model = model.slice(n);
      } else if (op < 0.75) {
        const n = Math.floor(rand() * (model.length + 1));
        queue.skip(n);
        model = model.slice(n);
      } else if (op < 0.8) {
        const bytes = Uint8Array.from({ length: Math.floor(rand() * 5) }, () => 0x62);
        queue.unshift(bytes);
        model = [...bytes, ...model];
      } else {
        const n = Math.floor(rand() * 10);
        assert.deepEqual([...queue.peek(n)], model.slice(0, n), `seed ${seed} step ${step}`);
      }
      assert.equal(queue.indexOfLf(), model.indexOf(0x0a), `seed ${seed} step ${step}`);
      assert.equal(queue.length, model.length);
    }
  }
});
