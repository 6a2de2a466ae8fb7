/**
 * Stalls under CPU contention: what a command waits for when other processes keep every core
 * busy, as a CI runner's parallel test processes, a browser or a build do beside the server.
 * Starts `--hogs` busy processes (`sh` loops at normal priority; default 2, the benchmark host's
 * cores), then a fresh server (SQLite by default: `--store memory` for the memory store), and
 * repeats `--rounds` times: an SMTP burst of `--burst` messages over one connection, a pause of
 * `--pause` ms plus a random 0-50 ms (the SQLite store's idle checkpoint and WAL start-over
 * fall in it: lib/store/sqlite_checkpoint.ts), then one timed IMAP STORE, a write. Prints the
 * STOREs' median and slowest. A fixed PRNG seed: the same pauses in every run.
 *
 * ```sh
 * deno run -A bench/contention_stalls.ts                    # 2 hogs, 60 rounds, SQLite
 * deno run -A bench/contention_stalls.ts --hogs 0           # the same without contention
 * deno run -A bench/contention_stalls.ts --script ../other/dist/bundle/main.js
 * ```
 *
 * Issue 13, round 31 found this way that threads the server had put at the lowest priority
 * (rounds 29 and 30: V8's worker threads and the checkpoint worker's under SCHED_IDLE) held
 * up the main thread for up to 1.6 s here: it waits for them (SQLite's write lock, which the
 * worker holds while it starts the WAL over; V8's parallel collection and safepoints), and
 * under contention a thread of the lowest priority waits for a core behind everything else.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, median } from "./imap_client.ts";
import { prng } from "./imap_corpus.ts";
import { client, encodeMessages } from "./smtp_load.ts";
import { bundledMain, spawnServer } from "./spawn.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      hogs: { type: "string", default: "2" },
      rounds: { type: "string", default: "60" },
      burst: { type: "string", default: "150" },
      pause: { type: "string", default: "100" },
      store: { type: "string", default: "sqlite" },
      script: { type: "string" },
    },
  });
  const hogs = Number(values.hogs);
  const rounds = Number(values.rounds);
  const burst = Number(values.burst);
  const pause = Number(values.pause);
  if (values.store !== "sqlite" && values.store !== "memory") {
    throw new Error(`--store: sqlite or memory, not ${values.store}`);
  }
  const script = values.script ?? await bundledMain();
  const dir = await Deno.makeTempDir({ prefix: "elektromail-contention-" });
  const env: Record<string, string> = values.store === "sqlite"
    ? { ELEKTROMAIL_DB: `${dir}/mail.db` }
    : {};
  const hogProcesses = Array.from(
    { length: hogs },
    () => new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdin: "null" }).spawn(),
  );
  const server = await spawnServer(env, [], undefined, script);
  // The pauses' jitter, the same in every run.
  const random = prng(13);
  const latencies: number[] = [];
  try {
    const data = encodeMessages(0, burst, 2200);
    const imap = await Client.connect(server.imap);
    await imap.command("LOGIN bench pw");
    for (let round = 0; round < rounds; round++) {
      await client({ port: server.smtp, size: 2200, pipelining: false }, 0, data, []);
      // The burst's messages into the session's view, then the pause, then the write.
      await imap.command(round === 0 ? "SELECT INBOX" : "NOOP");
      await new Promise((resolve) => setTimeout(resolve, pause + random() * 50));
      const started = performance.now();
      await imap.command(`STORE 1 ${round % 2 === 0 ? "+" : "-"}FLAGS.SILENT (\\Flagged)`);
      latencies.push(performance.now() - started);
    }
    await imap.command("LOGOUT").catch(() => {});
    imap.close();
  } finally {
    await server.stop();
    for (const hog of hogProcesses) {
      hog.kill("SIGKILL");
      await hog.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
  const slowest = [...latencies].sort((a, b) => b - a).slice(0, 5);
  console.log(
    `${values.store}, ${hogs} hogs, ${rounds} STOREs after a burst and a pause: median ` +
      `${median(latencies).toFixed(2)} ms, slowest ${slowest.map((ms) => ms.toFixed(1)).join(" ")}`,
  );
}
