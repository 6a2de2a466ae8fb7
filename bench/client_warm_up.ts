/**
 * Warms the bench client's own code (bench/imap_client.ts) before anything is timed, against
 * a stub IMAP server in the client's process, so that V8 compiles the client's hot paths then
 * and not during the measured rows. Without it, the first-touch table's 5,000 APPEND replies
 * made `Client#readUntil` hot right at the burst's end, and V8's optimizing compile of it
 * (7–10 ms on one of the client's V8 threads) took a core while the server answered SELECT.
 * The server measured is not contacted: a fresh server stays fresh.
 *
 * @module
 */

import { Client } from "./imap_client.ts";

const encoder = new TextEncoder();

/**
 * The stub's reply to a command: an untagged line without a literal (skipped unread), one
 * with a literal (the path FETCH replies take: 1 MB, spanning socket reads, for a FETCH;
 * 5 bytes otherwise) and the tagged OK. Each path of the client's reader runs, so its
 * compiled code has the feedback of all of them.
 */
function reply(tag: string, command: string): Uint8Array {
  const size = command.includes(" FETCH ") ? 1024 * 1024 : 5;
  return encoder.encode(
    `* 1 EXISTS\r\n* 1 FETCH (UID 1 BODY[] {${size}}\r\n${"x".repeat(size)})\r\n` +
      `${tag} OK done\r\n`,
  );
}

/**
 * Serves one connection: a greeting, then a reply per command, skipping the bytes of
 * non-synchronizing literals (`{n+}`), until the client closes.
 */
async function serveStub(conn: Deno.Conn): Promise<void> {
  await conn.write(encoder.encode("* OK stub\r\n"));
  const latin1 = new TextDecoder("latin1");
  const buffer = new Uint8Array(256 * 1024);
  let pending = "";
  let skip = 0;
  /** The tag of the command being read, known from its first line. */
  let tag: string | null = null;
  let command = "";
  while (true) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return;
    let at = 0;
    const out: Uint8Array[] = [];
    while (at < n) {
      if (skip > 0) {
        const taken = Math.min(skip, n - at);
        skip -= taken;
        at += taken;
        continue;
      }
      const lf = buffer.indexOf(0x0a, at);
      const end = lf === -1 || lf >= n ? n : lf + 1;
      pending += latin1.decode(buffer.subarray(at, end));
      at = end;
      if (!pending.endsWith("\n")) continue;
      if (tag === null) {
        tag = pending.slice(0, pending.indexOf(" "));
        command = pending;
      }
      const literal = /\{(\d+)\+\}\r\n$/.exec(pending);
      if (literal) skip = Number(literal[1]);
      else {
        out.push(reply(tag, command));
        tag = null;
      }
      pending = "";
    }
    for (const bytes of out) await conn.write(bytes);
  }
}

/**
 * Runs a subprocess and reads its standard error through a stream, as bench/spawn.ts does
 * with the server's: the first time a process does that, V8 sees a prototype chain change
 * that the client's compiled code depends on, and throws that code away (measured with
 * `--trace-deopt`). Done first, it cannot undo the warm-up.
 */
async function spawnOnce(): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["--version"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (!(await reader.read()).done) { /* discard */ }
  await child.status;
}

/**
 * Runs the client's paths (connect, commands, queries, pipelined APPENDs with literals)
 * `rounds` times against an in-process stub, then closes it.
 *
 * @example
 * ```ts
 * await warmClient();
 * ```
 */
export async function warmClient(rounds = 4): Promise<void> {
  await spawnOnce();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) served.push(serveStub(conn).finally(() => conn.close()));
  })();
  const message = encoder.encode(
    "From: a@example.com\r\nSubject: warm-up\r\n\r\n" + "x".repeat(2000) + "\r\n",
  );
  const messages = Array.from({ length: 5000 }, () => message);
  try {
    for (let round = 0; round < rounds; round++) {
      const client = await Client.connect(listener.addr.port);
      for (let i = 0; i < 100; i++) await client.command("NOOP");
      await client.query("SEARCH ALL");
      for (let i = 0; i < 3; i++) await client.command("FETCH 1:* BODY.PEEK[]");
      await client.appendAll("INBOX", messages);
      client.close();
    }
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(served);
  }
}
