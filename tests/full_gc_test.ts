import assert from "node:assert/strict";
import { fullGc } from "../lib/full_gc.ts";

Deno.test("fullGc: runs a full collection in Deno and says how long it took", async () => {
  const ms = await fullGc();
  assert.equal(typeof ms, "number");
  assert.ok(ms! >= 0);
  // Twice in one process: the flag is already set, the function still comes.
  assert.equal(typeof await fullGc(), "number");
});
