import assert from "node:assert/strict";
import { IdleCheckpoint } from "../../lib/store/sqlite_checkpoint.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds; a hang guard only. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

Deno.test("idle checkpoint: runs once after writes pause, not on each write", async () => {
  let runs = 0;
  const checkpoints = new IdleCheckpoint(() => runs++);
  try {
    for (let i = 0; i < 5; i++) checkpoints.wrote();
    assert.equal(runs, 0, "not inside the commits");
    await until(() => runs > 0, "the idle checkpoint");
    await sleep(250);
    assert.equal(runs, 1, "one per pause");
    checkpoints.wrote();
    await until(() => runs > 1, "the next pause's checkpoint");
  } finally {
    checkpoints.stop();
  }
});

Deno.test("idle checkpoint: none after stop", async () => {
  let runs = 0;
  const checkpoints = new IdleCheckpoint(() => runs++);
  checkpoints.wrote();
  checkpoints.stop();
  await sleep(250);
  assert.equal(runs, 0);
});
