/**
 * The server's RSS when stored mail is replaced: the 5,000-message APPEND burst of issue 13,
 * then `--rounds` rounds of APPENDing `--batch` more messages and expunging as many of the
 * oldest (the mailbox keeps its size; the expunged messages' bytes become garbage), printing
 * the RSS after each round and its peak (VmHWM). A check for V8 flags that change when
 * external memory starts a mark-compact (round 14), and since round 20, when the stored bytes
 * are shared memory V8 does not count, of the server's own collections for them
 * (lib/mail/shared_bytes.ts).
 *
 * ```sh
 * POP3_PORT=0 HTTP_PORT=0 deno run -A bench/postburst_churn.ts [--rounds 6] [--batch 2500] \
 *   [--deno-flag=--v8-flags=--external-memory-max-growing-factor=4]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, rssMb } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { spawnServer } from "./spawn.ts";

/** The process's peak RSS (VmHWM) in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      rounds: { type: "string", default: "6" },
      batch: { type: "string", default: "2500" },
      "deno-flag": { type: "string", multiple: true, default: [] },
    },
  });
  const messages = Number(values.messages);
  const batch = Number(values.batch);
  const corpus = Array.from({ length: messages }, (_, n) => corpusMessage(n));
  const server = await spawnServer({}, values["deno-flag"]);
  const c = await Client.connect(server.imap);
  await c.command("LOGIN bench pw");
  await c.appendAll("INBOX", corpus);
  await c.command("SELECT INBOX");
  const rss = [rssMb(server.pid)];
  for (let round = 0; round < Number(values.rounds); round++) {
    await c.appendAll("INBOX", corpus.slice(0, batch));
    await c.command(`STORE 1:${batch} +FLAGS.SILENT (\\Deleted)`);
    await c.command("EXPUNGE");
    rss.push(rssMb(server.pid));
  }
  const peak = peakRssMb(server.pid);
  await c.command("LOGOUT");
  c.close();
  await server.stop();
  console.log(
    `RSS after the burst and each round (MB): ${rss.map((mb) => mb.toFixed(0)).join(" ")}; ` +
      `peak ${peak.toFixed(0)} MB`,
  );
}

if (import.meta.main) await main();
