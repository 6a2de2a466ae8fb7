/**
 * The child process of `sqlite_checkpoint_test.ts`'s priority test: opens a SQLite store at
 * `Deno.args[0]` with its checkpoint worker started (as the program does), checkpoints once so
 * the worker has run, prints `ready` and keeps the store open until its standard input ends,
 * while the test reads its threads' priorities from `/proc` (the child itself runs with the
 * server's permissions, which do not let Deno read there).
 *
 * @module
 */

import { openSqliteStore } from "../../lib/store/sqlite.ts";
import {
  type CheckpointCounts,
  COMMITS_PER_CHECKPOINT,
} from "../../lib/store/sqlite_checkpoint.ts";

const seen: { counts?: Readonly<CheckpointCounts> } = {};
const store = openSqliteStore(Deno.args[0], {
  checkpointWorkerAtOpen: true,
  checkpointCounts: (running) => seen.counts = running,
});
// Enough commits for a checkpoint round in the worker.
for (let i = 0; i < COMMITS_PER_CHECKPOINT + 10; i++) {
  store.append("u", "INBOX", new TextEncoder().encode(`Subject: ${i}\r\n\r\nx\r\n`));
}
for (let wait = 0; (seen.counts?.worker ?? 0) === 0 && wait < 500; wait++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log("ready");
for await (const _ of Deno.stdin.readable) {
  // Until the test closes it.
}
store.close();
