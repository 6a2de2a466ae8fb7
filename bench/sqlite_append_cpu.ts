/**
 * SQLite append cost in CPU time (the machine may be shared, so wall time says little):
 *
 * ```sh
 * deno run -A bench/sqlite_append_cpu.ts [--messages 5000] [--rounds 5] [--share N]
 * ```
 *
 * Each round opens a fresh database, appends `--messages` messages of ~2 KB one call each
 * (as SMTP delivers them), and reports the process's user+system CPU per append, the bytes
 * it wrote per append (`wchar` of `/proc/self/io`: the WAL frames, one per page a commit
 * touched, so it counts the rows written apart from the machine's load), and the wall time.
 * The median round is printed last. `--share N`: the appends go N to a commit, each in a
 * `Store.shareCommit` call as an SMTP delivery's, the commit made by the next call outside one
 * (SMTP's four clients share a commit 1.5 messages to one on average).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { openSqliteStore } from "../lib/store/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { messages: { type: "string" }, rounds: { type: "string" }, share: { type: "string" } },
});
const messages = Number(values.messages ?? 5000);
const rounds = Number(values.rounds ?? 5);
const share = values.share === undefined ? 0 : Number(values.share);

const MESSAGE = (() => {
  const head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Bench\r\n\r\n";
  const line = "x".repeat(78) + "\r\n";
  return new TextEncoder().encode(head + line.repeat(Math.ceil((2048 - head.length) / 80)));
})();

/** Bytes the process has written with write(2) and the like (Linux). */
function written(): number {
  const match = /^wchar: (\d+)$/m.exec(Deno.readTextFileSync("/proc/self/io"));
  return match ? Number(match[1]) : NaN;
}

const dir = Deno.makeTempDirSync({ prefix: "elektromail-append-cpu-" });
const perMessage: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const store = openSqliteStore(`${dir}/round-${round}.db`);
    store.ensureUser("u");
    const bytesBefore = written();
    const before = process.cpuUsage();
    const start = performance.now();
    const append = () =>
      store.append("u", "INBOX", MESSAGE, { envelope: { from: "a@example.com", to: "u" } });
    for (let i = 0; i < messages; i++) {
      if (share === 0) append();
      else {
        store.shareCommit(append);
        // Any call outside `shareCommit` commits what it holds.
        if ((i + 1) % share === 0) store.hasUser("u");
      }
    }
    const wall = performance.now() - start;
    const used = process.cpuUsage(before);
    const bytes = (written() - bytesBefore) / messages;
    store.close();
    const us = (used.user + used.system) / messages;
    perMessage.push(us);
    console.log(
      `round ${round + 1}: ${us.toFixed(1)} µs CPU/append (user ${
        (used.user / messages).toFixed(1)
      }, sys ${(used.system / messages).toFixed(1)}), ${bytes.toFixed(0)} B written/append, wall ${
        (wall * 1000 / messages).toFixed(1)
      } µs/append`,
    );
  }
  perMessage.sort((a, b) => a - b);
  console.log(`median: ${perMessage[Math.floor(rounds / 2)].toFixed(1)} µs CPU/append`);
} finally {
  Deno.removeSync(dir, { recursive: true });
}
