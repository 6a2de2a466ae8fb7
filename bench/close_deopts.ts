/**
 * What the first close of a connection costs the others: V8 code thrown away ("deoptimized")
 * because a field that had been written only once, and that compiled code took for a
 * constant, was written again by the close. Starts the server with `--trace-deopt` and
 * `--trace-generalization` (under `stdbuf -o0`, so V8's lines arrive as they are printed),
 * has four clients of one protocol run a few thousand commands each (SMTP: transactions;
 * IMAP: FETCH and NOOP; POP3: STAT and NOOP), then the first of them quits while the others
 * go on, and counts what V8 printed meanwhile: fields made mutable, code objects deoptimized
 * for it ("dependent field type constness changed"), and other eager deopts.
 *
 * ```sh
 * deno run -A bench/close_deopts.ts                    # SMTP, IMAP and POP3
 * deno run -A bench/close_deopts.ts --protocol smtp --skip-warm-up --show
 * ```
 *
 * `--skip-warm-up` is the case of a fresh server's first burst of mail: the startup warm-up
 * waits while SMTP clients send (lib/imap/warm_up.ts), so their first close comes before the
 * warm-up's own connection has closed. Issue 13, round 13: before the connection classes and
 * sessions wrote their close-time fields twice at creation, that first close deoptimized the
 * transport's and the session's hot path (17 code objects with SMTP and POP3, 19 with IMAP; 7
 * with IMAP even after the warm-up), and the other clients stalled 3-5 ms while it ran
 * interpreted; now none.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";

type Protocol = "smtp" | "imap" | "pop3";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client that sends a command and reads until its reply matches. */
interface Client {
  exchange(command: string, until: RegExp): Promise<void>;
  close(): void;
}

async function connect(port: number): Promise<Client> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(64 * 1024);
  return {
    async exchange(command, until) {
      if (command) await conn.write(encoder.encode(command));
      let got = "";
      while (!until.test(got)) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`connection closed, waiting for ${until}`);
        got += decoder.decode(buffer.subarray(0, n));
      }
    },
    close: () => conn.close(),
  };
}

/** How each protocol logs in, works and quits. */
interface Script {
  port: string;
  open(client: Client, index: number): Promise<void>;
  work(client: Client, step: number): Promise<void>;
  quit(client: Client): Promise<void>;
}

const SCRIPTS: Record<Protocol, Script> = {
  smtp: {
    port: "SMTP",
    open: async (c) => {
      await c.exchange("", /^220 .*\r\n/m);
      await c.exchange("EHLO bench\r\n", /^250 .*\r\n/m);
    },
    work: async (c) => {
      await c.exchange("MAIL FROM:<a@bench>\r\nRCPT TO:<u@bench>\r\nDATA\r\n", /^354 .*\r\n/m);
      await c.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", /^250 .*\r\n/m);
    },
    quit: (c) => c.exchange("QUIT\r\n", /^221 .*\r\n/m),
  },
  imap: {
    port: "IMAP",
    open: async (c, index) => {
      await c.exchange("", /^\* OK .*\r\n/m);
      await c.exchange("a LOGIN u p\r\n", /^a OK .*\r\n/m);
      if (index === 0) {
        await c.exchange("b APPEND INBOX {20+}\r\nSubject: x\r\n\r\nhello\r\n", /^b OK .*\r\n/m);
      }
      await c.exchange("c SELECT INBOX\r\n", /^c OK .*\r\n/m);
    },
    work: (c, step) =>
      c.exchange(step % 2 ? "d NOOP\r\n" : "d FETCH 1 (FLAGS)\r\n", /^d OK .*\r\n/m),
    quit: (c) => c.exchange("z LOGOUT\r\n", /^z OK .*\r\n/m),
  },
  pop3: {
    port: "POP3",
    // One maildrop per client: a maildrop is locked to one session.
    open: async (c, index) => {
      await c.exchange("", /^\+OK.*\r\n/m);
      await c.exchange(`USER u${index}\r\n`, /^\+OK.*\r\n/m);
      await c.exchange("PASS p\r\n", /^\+OK.*\r\n/m);
    },
    work: (c, step) => c.exchange(step % 2 ? "NOOP\r\n" : "STAT\r\n", /^\+OK.*\r\n/m),
    quit: (c) => c.exchange("QUIT\r\n", /^\+OK.*\r\n/m),
  },
};

/** What V8 printed between the first close and the end of the others' work. */
interface Count {
  fields: string[];
  constnessDeopts: number;
  eagerDeopts: string[];
}

async function measure(
  protocol: Protocol,
  opts: { clients: number; steps: number; skipWarmUp: boolean },
): Promise<Count> {
  const child = new Deno.Command("stdbuf", {
    args: [
      "-o0",
      Deno.execPath(),
      "run",
      "-A",
      V8_FLAGS_ARGUMENT,
      "--v8-flags=--trace-deopt,--trace-generalization",
      MAIN,
    ],
    env: {
      SMTP_PORT: "0",
      IMAP_PORT: "0",
      POP3_PORT: "0",
      HTTP_PORT: "0",
      ELEKTROMAIL_SKIP_WARM_UP: opts.skipWarmUp ? "1" : "",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: { at: number; text: string }[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const text of parts) lines.push({ at: performance.now(), text });
    }
  })();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  while (!/\n\s+logging /.test(banner)) {
    const { value, done } = await stderr.read();
    if (done) throw new Error(`server exited before listening:\n${banner}`);
    banner += value;
  }
  (async () => {
    while (!(await stderr.read()).done) { /* discard */ }
  })();
  const script = SCRIPTS[protocol];
  const port = Number(new RegExp(`${script.port}\\s+\\S+:(\\d+)`).exec(banner)![1]);
  let from = 0;
  let to = 0;
  try {
    const clients = await Promise.all(Array.from({ length: opts.clients }, () => connect(port)));
    for (const [index, client] of clients.entries()) await script.open(client, index);
    const work = (client: Client, steps: number) =>
      (async () => {
        for (let step = 0; step < steps; step++) await script.work(client, step);
      })();
    await Promise.all(clients.map((client) => work(client, opts.steps)));
    // V8's lines of the work so far arrive; then the first client quits, the others go on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    from = performance.now();
    await script.quit(clients[0]);
    clients[0].close();
    await Promise.all(clients.slice(1).map((client) => work(client, opts.steps / 10)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    to = performance.now();
    for (const client of clients.slice(1)) client.close();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
  }
  const meanwhile = lines.filter(({ at }) => at >= from && at < to).map(({ text }) => text);
  return {
    fields: meanwhile
      .filter((text) => text.includes("[generalizing]") && text.includes("->"))
      .filter((text) => !text.includes("(field type generalization)"))
      .map((text) => text.replace(/^.*\[generalizing\]/, "")),
    constnessDeopts: meanwhile.filter((text) => text.includes("constness changed")).length,
    eagerDeopts: meanwhile.flatMap((text) => {
      const match = /deopt-eager, reason: ([^)]*)\).*?<JSFunction (\S*)/.exec(text);
      return match ? [`${match[2]} (${match[1]})`] : [];
    }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      protocol: { type: "string", default: "all" },
      clients: { type: "string", default: "4" },
      steps: { type: "string", default: "3000" },
      "skip-warm-up": { type: "boolean", default: false },
      show: { type: "boolean", default: false },
    },
  });
  const protocols: Protocol[] = values.protocol === "all"
    ? ["smtp", "imap", "pop3"]
    : [values.protocol as Protocol];
  for (const protocol of protocols) {
    if (!(protocol in SCRIPTS)) throw new Error(`--protocol: smtp, imap, pop3 or all`);
    const count = await measure(protocol, {
      clients: Number(values.clients),
      steps: Number(values.steps),
      skipWarmUp: values["skip-warm-up"],
    });
    console.log(
      `${protocol}: after the first close, ${count.constnessDeopts} code objects deoptimized ` +
        `for a field's constness, ${count.fields.length} fields generalized, eager deopts: ` +
        `${count.eagerDeopts.join(", ") || "none"}`,
    );
    if (values.show) { for (const field of count.fields) console.log(`  ${field}`); }
  }
}

if (import.meta.main) await main();
