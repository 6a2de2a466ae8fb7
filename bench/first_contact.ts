/**
 * First contact with a fresh server: what a test run's first connection of each protocol waits
 * for, against the second's. The server starts as `deno task start` runs it (the bundle, built
 * first if stale; `--main` runs `main.ts` instead), is left `--delay` seconds (its startup
 * warm-up is over by then), and then, for SMTP, IMAP and POP3 in turn, two connections one
 * after the other each time every step: the greeting (from the connect), then each command's
 * reply. The client's own socket code is run once against a throwaway listener first, so the
 * first connection's figures are the server's, not the client's first call.
 *
 * ```sh
 * deno run -A bench/first_contact.ts                 # 5 fresh servers, medians
 * deno run -A bench/first_contact.ts --runs 9 --delay 1
 * ELEKTROMAIL_SKIP_WARM_UP=1 deno run -A bench/first_contact.ts   # without the warm-up
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { median } from "./imap_client.ts";
import { bundledMain, spawnServer } from "./spawn.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A protocol's conversation: the commands, and what ends each reply. */
interface Conversation {
  readonly name: "SMTP" | "IMAP" | "POP3";
  readonly steps: readonly string[];
  readonly end: RegExp;
}

const MESSAGE = "From: a@example.com\r\nTo: b@example.com\r\nSubject: first\r\n\r\nHello.\r\n.";

const CONVERSATIONS: readonly Conversation[] = [
  {
    name: "SMTP",
    steps: [
      "EHLO client.example",
      "MAIL FROM:<a@example.com>",
      "RCPT TO:<b@example.com>",
      "DATA",
      MESSAGE,
      "QUIT",
    ],
    end: /^\d{3} [^\r\n]*\r\n/m,
  },
  {
    name: "IMAP",
    steps: ["a CAPABILITY", "b LOGIN b pw", "c SELECT INBOX", "d LOGOUT"],
    end: /^[a-d] (OK|NO|BAD)/m,
  },
  { name: "POP3", steps: ["USER b", "PASS pw", "STAT", "QUIT"], end: /^(\+OK|-ERR)[^\r\n]*\r\n/m },
];

/** Milliseconds for the greeting, then for each step's reply. */
async function converse(port: number, conversation: Conversation): Promise<number[]> {
  const start = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  const until = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`${conversation.name}: closed early: ${text}`);
      text += decoder.decode(buffer.subarray(0, n));
    }
  };
  try {
    await until(/\r\n/);
    const times = [performance.now() - start];
    for (const step of conversation.steps) {
      text = "";
      const sent = performance.now();
      await conn.write(encoder.encode(step + "\r\n"));
      await until(conversation.end);
      times.push(performance.now() - sent);
    }
    return times;
  } finally {
    conn.close();
  }
}

/** Runs the client's own connect, read and write once, so that they are not measured cold. */
async function warmClient(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  await server.write(encoder.encode("hi\r\n"));
  await conn.read(new Uint8Array(16));
  conn.close();
  server.close();
  listener.close();
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      delay: { type: "string", default: "3" },
      main: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  let script: string | undefined;
  if (!values.main) {
    script = await bundledMain();
  }
  await warmClient();
  // [protocol][connection][step] -> one figure a run
  const figures = CONVERSATIONS.map((c) => [0, 1].map(() => c.steps.map(() => [] as number[])));
  const greetings = CONVERSATIONS.map(() => [[], []] as number[][]);
  for (let run = 0; run < runs; run++) {
    const server = await spawnServer({}, [], undefined, script);
    try {
      await new Promise((resolve) => setTimeout(resolve, Number(values.delay) * 1000));
      for (const [p, conversation] of CONVERSATIONS.entries()) {
        const port = server.ports[conversation.name];
        for (const connection of [0, 1]) {
          const [greeting, ...steps] = await converse(port, conversation);
          greetings[p][connection].push(greeting);
          steps.forEach((ms, s) => figures[p][connection][s].push(ms));
        }
      }
    } finally {
      await server.stop();
    }
  }
  const ms = (values: number[]) => `${median(values).toFixed(2)} ms`;
  console.log(
    `first contact, ${runs} fresh servers (${values.main ? "main.ts" : "the bundle"}), ` +
      `${values.delay} s after the banner, medians; deno ${Deno.version.deno}`,
  );
  console.log("| protocol | step | first connection | second connection |");
  console.log("| --- | --- | --- | --- |");
  for (const [p, conversation] of CONVERSATIONS.entries()) {
    console.log(
      `| ${conversation.name} | greeting | ${ms(greetings[p][0])} | ${ms(greetings[p][1])} |`,
    );
    conversation.steps.forEach((step, s) => {
      const label = step === MESSAGE ? "message data" : step.split(" ").slice(0, 2).join(" ");
      console.log(
        `| ${conversation.name} | ${label} | ${ms(figures[p][0][s])} | ${ms(figures[p][1][s])} |`,
      );
    });
  }
}
