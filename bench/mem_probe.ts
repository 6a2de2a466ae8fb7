/**
 * Where the memory goes after issue 13's APPEND burst: starts a server in this process (memory
 * store, startup warm-up on as the program has it), APPENDs the 5,000-message corpus, runs
 * the cold command sequence, and prints `Deno.memoryUsage()` and V8's heap figures after each
 * stage, before and after a forced full GC (lib/full_gc.ts): what remains after the GC is
 * retained; the rest was garbage.
 *
 * ```sh
 * deno run -A bench/mem_probe.ts [--messages 5000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { testConfig } from "../lib/config.ts";
import { fullGc } from "../lib/full_gc.ts";
import { startElektromail } from "../lib/server.ts";
import { Client } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function report(stage: string): void {
  const usage = Deno.memoryUsage();
  const heap = getHeapStatistics();
  console.log(
    `${stage.padEnd(36)} rss ${mb(usage.rss)} heapUsed ${mb(usage.heapUsed)} ` +
      `heapTotal ${mb(usage.heapTotal)} external ${mb(usage.external)} ` +
      `malloced ${mb(heap.malloced_memory)}`,
  );
}

async function stage(name: string): Promise<void> {
  report(name);
  const ms = await fullGc();
  report(`${name} +GC (${ms?.toFixed(1)} ms)`);
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: { messages: { type: "string", default: "5000" } },
  });
  const corpus = Array.from({ length: Number(values.messages) }, (_, n) => corpusMessage(n));
  const corpusBytes = corpus.reduce((sum, message) => sum + message.length, 0);
  console.log(`corpus ${mb(corpusBytes)} MB`);
  await stage("corpus built");
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
    { warmUp: true },
  );
  await new Promise((resolve) => setTimeout(resolve, 8000));
  await stage("idle (8 s after start)");
  const c = await Client.connect(server.ports.imap);
  await c.command("LOGIN u p");
  await c.appendAll("INBOX", corpus);
  await stage("after APPEND");

  for (
    const command of [
      "SELECT INBOX",
      "FETCH 1:* (UID FLAGS)",
      "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
      "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
      "FETCH 1:* BODY.PEEK[]",
      "UID SEARCH TEXT quokka",
      "UID SEARCH FROM sender42@example.com",
      "STORE 1:* +FLAGS.SILENT (\\Seen)",
    ]
  ) await c.command(command);
  await stage("after cold sequence");
  await c.command("LOGOUT");
  c.close();
  await server.stop();
}

if (import.meta.main) await main();
