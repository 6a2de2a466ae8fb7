/**
 * The child process of `sqlite_checkpoint_test.ts`'s priority test: opens a SQLite store at
 * `Deno.args[0]` with its checkpoint worker started, checkpoints once so the worker has run,
 * then prints the name and nice value of each of the process's threads (`/proc/self/task`), one
 * thread a line, apart by a tab.
 *
 * @module
 */

import { openSqliteStore } from "../../lib/store/sqlite.ts";
import type { CheckpointCounts } from "../../lib/store/sqlite_checkpoint.ts";

const seen: { counts?: Readonly<CheckpointCounts> } = {};
const store = openSqliteStore(Deno.args[0], {
  checkpointWorkerAtOpen: true,
  checkpointCounts: (running) => seen.counts = running,
});
// Enough commits for a checkpoint round in the worker (30, `COMMITS_PER_CHECKPOINT`).
for (let i = 0; i < 40; i++) {
  store.append("u", "INBOX", new TextEncoder().encode(`Subject: ${i}\r\n\r\nx\r\n`));
}
for (let wait = 0; (seen.counts?.worker ?? 0) === 0 && wait < 500; wait++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
for (const task of Deno.readDirSync("/proc/self/task")) {
  const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
  const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  // Field 19 (nice), counted after the command name's closing parenthesis.
  console.log(`${name}\t${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]}`);
}
store.close();
