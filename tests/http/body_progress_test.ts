/**
 * A request body must keep arriving (lib/http/json.ts `readBody`): one that stalls held its
 * share of the request-body budget for as long as its connection stayed open (hostile-client
 * audit, issue 13 round 34). Here with a period of 100 ms instead of a minute.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HttpError, readBody } from "../../lib/http/json.ts";

const progress = { periodMs: 100, octets: 10 };

/** `read`'s error (null if none), or a rejection after 5 s: a hang guard, not a speed figure. */
async function failure(read: Promise<unknown>): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("the body was read for 5 s")), 5000);
  });
  try {
    return await Promise.race([read.then(() => null, (error) => error), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** A POST whose body sends `chunks` with `gapMs` between them, then ends (or stalls). */
function post(chunks: string[], gapMs: number, end = true): Request {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
      else if (end) controller.close();
      else await new Promise(() => {}); // stalls for good
    },
  });
  return new Request("http://localhost/inject", { method: "POST", body });
}

Deno.test("http body: a body that stalls or drips is 408, one that keeps coming is read", async () => {
  const stalled = await failure(readBody(post(["{"], 0, false), 1000, progress));
  assert.ok(stalled instanceof HttpError, String(stalled));
  assert.equal(stalled.status, 408);
  // A byte every 60 ms: under 10 octets a period.
  const dripped = await failure(readBody(post(Array(20).fill("x"), 60), 1000, progress));
  assert.ok(dripped instanceof HttpError && dripped.status === 408, String(dripped));
  // 20 octets every 60 ms: read whole.
  const whole = await readBody(post(Array(8).fill("y".repeat(20)), 60), 1000, progress);
  assert.equal(whole.length, 160);
});
