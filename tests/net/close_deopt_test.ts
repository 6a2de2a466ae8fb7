/**
 * The first connection to close must not throw away the compiled code the other connections
 * run. The fields a close (or flow control) writes are written twice when a connection or a
 * session is made (lib/net/transport.ts, `SocketConnection`'s constructor, says why): V8 takes a
 * field written only once for a constant, compiles on that, and deoptimizes every function that
 * relied on it when the field is written again (issue 13: all four SMTP clients of a burst
 * stalled 3-5 ms when the first of them quit). V8 reports it under `--trace-deopt` as "dependent
 * field type constness changed".
 *
 * The server runs as a subprocess without its startup warm-up (whose own connection would close
 * first), with Maglev's invocation threshold low so the clients' path is compiled before the
 * close, and under `stdbuf -o0` so that V8's lines arrive as they are printed: those before the
 * close must show Maglev code, those after it no such deoptimization.
 *
 * @module
 */

import assert from "node:assert/strict";
import { V8_FLAGS_ARGUMENT } from "../../lib/v8_flags.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const hasStdbuf = (() => {
  try {
    return Deno.statSync("/usr/bin/stdbuf").isFile;
  } catch {
    return false;
  }
})();

/** A raw client: sends a command and reads until the reply matches. */
async function client(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(16 * 1024);
  return {
    async exchange(command: string, until: RegExp): Promise<void> {
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
type Client = Awaited<ReturnType<typeof client>>;

interface Conversation {
  listener: string;
  open(c: Client): Promise<void>;
  step(c: Client, n: number): Promise<void>;
  quit(c: Client): Promise<void>;
}

/** V8's lines before and after the first of three busy clients quits. */
async function aroundFirstClose(talk: Conversation): Promise<{ before: string; after: string }> {
  const child = new Deno.Command("stdbuf", {
    args: [
      "-o0",
      Deno.execPath(),
      "run",
      "-A",
      V8_FLAGS_ARGUMENT,
      "--v8-flags=--trace-opt,--trace-deopt,--invocation-count-for-maglev=50",
      MAIN,
    ],
    env: {
      SMTP_PORT: "0",
      IMAP_PORT: "0",
      POP3_PORT: "0",
      HTTP_PORT: "0",
      ELEKTROMAIL_SKIP_WARM_UP: "1",
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
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  try {
    const port = Number(new RegExp(`${talk.listener}\\s+\\S+:(\\d+)`).exec(banner)![1]);
    const clients = await Promise.all([0, 1, 2].map(() => client(port)));
    for (const c of clients) await talk.open(c);
    const run = (c: Client, steps: number) =>
      (async () => {
        for (let n = 0; n < steps; n++) await talk.step(c, n);
      })();
    await Promise.all(clients.map((c) => run(c, 300)));
    await settle();
    const before = trace;
    await talk.quit(clients[0]);
    clients[0].close();
    await Promise.all(clients.slice(1).map((c) => run(c, 100)));
    await settle();
    const after = trace.slice(before.length);
    for (const c of clients.slice(1)) c.close();
    return { before, after };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
    await draining;
  }
}

function assertNoDeoptAtClose({ before, after }: { before: string; after: string }): void {
  // The test means something only if the clients' path was Maglev code when the first quit.
  assert.match(before, /completed compiling .*#writeNext.*MAGLEV/);
  const deopts = after.split("\n").filter((line) => line.includes("constness changed"));
  assert.deepEqual(deopts, []);
}

Deno.test({
  name: "close: the first SMTP client's QUIT deoptimizes nothing the others run",
  ignore: !hasStdbuf,
  fn: async () => {
    assertNoDeoptAtClose(
      await aroundFirstClose({
        listener: "SMTP",
        open: async (c) => {
          await c.exchange("", /^220 .*\r\n/m);
          await c.exchange("EHLO test\r\n", /^250 .*\r\n/m);
        },
        step: async (c) => {
          await c.exchange("MAIL FROM:<a@test>\r\nRCPT TO:<u@test>\r\nDATA\r\n", /^354 .*\r\n/m);
          await c.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", /^250 .*\r\n/m);
        },
        quit: (c) => c.exchange("QUIT\r\n", /^221 .*\r\n/m),
      }),
    );
  },
});

Deno.test({
  name: "close: the first IMAP client's LOGOUT deoptimizes nothing the others run",
  ignore: !hasStdbuf,
  fn: async () => {
    assertNoDeoptAtClose(
      await aroundFirstClose({
        listener: "IMAP",
        open: async (c) => {
          await c.exchange("", /^\* OK .*\r\n/m);
          await c.exchange("a LOGIN u p\r\n", /^a OK .*\r\n/m);
          await c.exchange("b APPEND INBOX {20+}\r\nSubject: x\r\n\r\nhello\r\n", /^b OK .*\r\n/m);
          await c.exchange("c SELECT INBOX\r\n", /^c OK .*\r\n/m);
        },
        step: (c, n) =>
          c.exchange(n % 2 ? "d NOOP\r\n" : "d FETCH 1:* (FLAGS)\r\n", /^d OK .*\r\n/m),
        quit: (c) => c.exchange("z LOGOUT\r\n", /^z OK .*\r\n/m),
      }),
    );
  },
});
