/**
 * What a test run that sends mail and then reads it meets on a fresh server: Postfix's
 * `smtp-source` sends a burst at once after the banner (4 connections, no pipelining, as
 * bench/smtp_source.ts), and as soon as it is done an IMAP client logs in and sends a mail
 * client's first commands. Prints the SMTP burst's wall time and each IMAP command's wall time
 * and server CPU (all threads, schedstat), one line a fresh server. It shows where the startup
 * warm-up's work lands (lib/imap/warm_up.ts): beside the SMTP burst, or beside the first IMAP
 * commands.
 *
 * ```sh
 * POP3_PORT=0 HTTP_PORT=0 deno run -A bench/smtp_then_imap.ts --runs 3 [--messages 2000] [--pause MS]
 * ```
 *
 * `--pause MS`: the IMAP client connects that long after the burst instead of at once, when the
 * indexing of the burst in the pause (lib/imap/warm.ts) may be under way.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, cpuMs } from "./imap_client.ts";
import { spawnServer } from "./spawn.ts";

/** A mail client's first commands on the new mail, in order. */
const COMMANDS = [
  "LOGIN user x",
  "SELECT INBOX",
  "FETCH 1:* (UID FLAGS)",
  "FETCH 1:* (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
  "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
  "UID SEARCH FROM bench@source.test",
];

/** One fresh server: the burst, then the commands; the line of figures. */
async function run(messages: number, pauseMs: number): Promise<string> {
  const server = await spawnServer();
  try {
    const started = performance.now();
    const { code } = await new Deno.Command("smtp-source", {
      args: [
        "-d",
        "-s",
        "4",
        "-m",
        String(messages),
        "-l",
        "2200",
        "-f",
        "bench@source.test",
        "-t",
        "user@bench.test",
        `127.0.0.1:${server.smtp}`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (code !== 0) throw new Error("smtp-source failed");
    const figures = [`SMTP ${(performance.now() - started).toFixed(0)} ms`];
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const connecting = performance.now();
    const client = await Client.connect(server.imap);
    figures.push(`greeting ${(performance.now() - connecting).toFixed(2)} ms`);
    for (const command of COMMANDS) {
      const cpu = cpuMs(server.pid);
      const start = performance.now();
      await client.command(command); // throws unless OK
      const name = command.split(" ").slice(0, 2).join(" ");
      figures.push(
        `${name} ${(performance.now() - start).toFixed(2)} ms (CPU ${
          (cpuMs(server.pid) - cpu).toFixed(1)
        })`,
      );
    }
    client.close();
    return figures.join(" | ");
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      messages: { type: "string", default: "2000" },
      pause: { type: "string", default: "0" },
    },
  });
  console.log(
    `deno ${Deno.version.deno}; smtp-source -d -s 4 -m ${values.messages} -l 2200 at once, ` +
      `then IMAP ${values.pause === "0" ? "at once" : `${values.pause} ms later`}; wall (server ` +
      "CPU, all threads)",
  );
  for (let i = 0; i < Number(values.runs); i++) {
    console.log(await run(Number(values.messages), Number(values.pause)));
  }
}

if (import.meta.main) await main();
