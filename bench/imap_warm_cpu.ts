/**
 * CPU time of repeated IMAP commands on a loaded mailbox, steadier than wall clock on a busy
 * host: a server started in this process (memory store, the startup warm-up), the corpus
 * APPENDed, then each command run `--rounds` times in turn; prints the first, the median and
 * the least process CPU time (user + system, all threads, client included: it only counts
 * bytes) per command.
 *
 * ```sh
 * deno run -A bench/imap_warm_cpu.ts                     # 5,000 messages, 9 rounds
 * deno run -A bench/imap_warm_cpu.ts --messages 2000 --rounds 21
 * deno run -A bench/imap_warm_cpu.ts --command "FETCH 1:* BODY.PEEK[]"  # these commands
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { testConfig } from "../lib/config.ts";
import { startElektromail } from "../lib/server.ts";
import { Client, median } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";

const COMMANDS = [
  "SELECT INBOX",
  "FETCH 1:* (UID FLAGS)",
  "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
  "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
  "STORE 1:* +FLAGS.SILENT (\\Seen)",
  "STORE 1:* -FLAGS.SILENT (\\Seen)",
  "UID SEARCH FROM sender42@example.com",
];

/** This process's CPU time so far, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      rounds: { type: "string", default: "9" },
      command: { type: "string", multiple: true, default: [] },
    },
  });
  const server = await startElektromail(testConfig({ httpPort: null, pop3Port: 0 }), {
    warmUp: true,
  });
  try {
    // Past the startup warm-up (idle time, about a second of CPU).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const client = await Client.connect(server.ports.imap);
    await client.command("LOGIN bench pw");
    const count = Number(values.messages);
    await client.appendAll("INBOX", Array.from({ length: count }, (_, i) => corpusMessage(i)));
    await client.command("SELECT INBOX");
    const commands = values.command.length > 0 ? values.command : COMMANDS;
    const times = new Map<string, number[]>(commands.map((command) => [command, []]));
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const command of commands) {
        const before = cpuMs();
        await client.command(command);
        times.get(command)!.push(cpuMs() - before);
      }
    }
    await client.command("LOGOUT");
    client.close();
    console.log(`process CPU per command, ${count} messages, ${values.rounds} rounds, ms`);
    console.log("| command | first | median | least |\n| --- | --- | --- | --- |");
    for (const [command, list] of times) {
      const first = list[0];
      console.log(
        `| ${command} | ${first.toFixed(2)} | ${median(list).toFixed(2)} | ${
          Math.min(...list).toFixed(2)
        } |`,
      );
    }
  } finally {
    await server.stop();
  }
}

if (import.meta.main) await main();
