/**
 * What V8 prints while the first of several busy clients closes: for tests/net/close_deopt_test.ts
 * (nothing the others run may be deoptimized) and bench/close_deopts.ts (counts it). The server
 * runs as a subprocess with the program's V8 flags plus the given ones, under `stdbuf -o0` so
 * that V8's trace lines (printed with C's stdio, buffered in a pipe) arrive as they are printed;
 * the clients speak raw SMTP, IMAP or POP3 over TCP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { V8_FLAGS_ARGUMENT } from "../../lib/v8_flags.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The protocols a close is traced for. */
export type TracedProtocol = "smtp" | "imap" | "pop3";

/** A raw client: sends a command and reads until the reply matches. */
export interface TraceClient {
  exchange(command: string, until: RegExp): Promise<void>;
  close(): void;
}

async function connect(port: number): Promise<TraceClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(16 * 1024);
  return {
    async exchange(command, until) {
      if (command) await conn.write(encoder.encode(command));
      let got = "";
      while (!until.test(got)) {
        const n = await conn.read(buffer);
        assert.notEqual(n, null, `closed while waiting for ${until}`);
        got += decoder.decode(buffer.subarray(0, n!));
      }
    },
    close: () => conn.close(),
  };
}

/** How a client of each protocol logs in, works a step and quits. */
interface Conversation {
  /** The listener's name in the banner. */
  listener: string;
  open(client: TraceClient, index: number): Promise<void>;
  step(client: TraceClient, step: number): Promise<void>;
  quit(client: TraceClient): Promise<void>;
}

const CONVERSATIONS: Record<TracedProtocol, Conversation> = {
  smtp: {
    listener: "SMTP",
    open: async (c) => {
      await c.exchange("", /^220 .*\r\n/m);
      await c.exchange("EHLO trace\r\n", /^250 .*\r\n/m);
    },
    step: async (c) => {
      await c.exchange("MAIL FROM:<a@trace>\r\nRCPT TO:<u@trace>\r\nDATA\r\n", /^354 .*\r\n/m);
      await c.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", /^250 .*\r\n/m);
    },
    quit: (c) => c.exchange("QUIT\r\n", /^221 .*\r\n/m),
  },
  imap: {
    listener: "IMAP",
    open: async (c, index) => {
      await c.exchange("", /^\* OK .*\r\n/m);
      await c.exchange("a LOGIN u p\r\n", /^a OK .*\r\n/m);
      if (index === 0) {
        await c.exchange("b APPEND INBOX {20+}\r\nSubject: x\r\n\r\nhello\r\n", /^b OK .*\r\n/m);
      }
      await c.exchange("c SELECT INBOX\r\n", /^c OK .*\r\n/m);
    },
    step: (c, step) =>
      c.exchange(step % 2 ? "d NOOP\r\n" : "d FETCH 1 (FLAGS)\r\n", /^d OK .*\r\n/m),
    quit: (c) => c.exchange("z LOGOUT\r\n", /^z OK .*\r\n/m),
  },
  pop3: {
    listener: "POP3",
    // A maildrop is locked to one session: one user a client.
    open: async (c, index) => {
      await c.exchange("", /^\+OK.*\r\n/m);
      await c.exchange(`USER u${index}\r\n`, /^\+OK.*\r\n/m);
      await c.exchange("PASS p\r\n", /^\+OK.*\r\n/m);
    },
    step: (c, step) => c.exchange(step % 2 ? "NOOP\r\n" : "STAT\r\n", /^\+OK.*\r\n/m),
    quit: (c) => c.exchange("QUIT\r\n", /^\+OK.*\r\n/m),
  },
};

/** How the clients work around the close. */
export interface CloseTraceOptions {
  /** V8 flags added to the program's, e.g. `--trace-deopt`. */
  readonly v8Flags: readonly string[];
  readonly clients: number;
  /** Steps each client works before the close; the others work a tenth of it after. */
  readonly steps: number;
  /** Start the server with `--skip-warm-up` (its own connection then closes first). */
  readonly skipWarmUp: boolean;
}

/**
 * Starts a server, has `clients` clients of `protocol` work `steps` steps each, then the first
 * quits while the others go on; returns V8's output before the quit and from it to the end of
 * the others' work.
 */
export async function traceFirstClose(
  protocol: TracedProtocol,
  opts: CloseTraceOptions,
): Promise<{ before: string; after: string }> {
  const talk = CONVERSATIONS[protocol];
  const child = new Deno.Command("stdbuf", {
    args: [
      "-o0",
      Deno.execPath(),
      "run",
      "-A",
      V8_FLAGS_ARGUMENT,
      `--v8-flags=${opts.v8Flags.join(",")}`,
      MAIN,
    ],
    env: {
      SMTP_PORT: "0",
      IMAP_PORT: "0",
      POP3_PORT: "0",
      HTTP_PORT: "0",
      ELEKTROMAIL_SKIP_WARM_UP: opts.skipWarmUp ? "1" : "",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let trace = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) trace += chunk;
  })();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  while (!/\n\s+logging /.test(banner)) {
    const { value, done } = await stderr.read();
    assert.ok(!done, `server exited before listening:\n${banner}`);
    banner += value;
  }
  const draining = (async () => {
    while (!(await stderr.read()).done) { /* discard */ }
  })();
  // V8's lines of what came before arrive; after the others' last step, those of the close.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  try {
    const port = Number(new RegExp(`${talk.listener}\\s+\\S+:(\\d+)`).exec(banner)![1]);
    const clients = await Promise.all(Array.from({ length: opts.clients }, () => connect(port)));
    for (const [index, client] of clients.entries()) await talk.open(client, index);
    const work = async (client: TraceClient, steps: number) => {
      for (let step = 0; step < steps; step++) await talk.step(client, step);
    };
    await Promise.all(clients.map((client) => work(client, opts.steps)));
    await settle();
    const before = trace;
    await talk.quit(clients[0]);
    clients[0].close();
    await Promise.all(clients.slice(1).map((client) => work(client, opts.steps / 10)));
    await settle();
    const after = trace.slice(before.length);
    for (const client of clients.slice(1)) client.close();
    return { before, after };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
    await draining;
  }
}
