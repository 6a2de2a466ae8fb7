/**
 * POP3 on the SQLite store gives back the message bytes it read (`Store.releaseRaw`): STAT
 * and LIST read every message for its size, RETR and TOP read the one they send. Until then
 * each read left a buffer of the message's size to a later collection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { countFreed } from "../store/freed_count.ts";
import { tempDb } from "../store/temp_db.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A POP3 client over TCP that reads single-line and multi-line responses. */
async function pop3(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let buffered = "";
  const chunk = new Uint8Array(64 * 1024);
  /** Reads until `end` is in the buffer; returns what comes before it and its end. */
  const until = async (end: string): Promise<string> => {
    while (!buffered.includes(end)) {
      const n = await conn.read(chunk);
      if (n === null) throw new Error(`closed before ${JSON.stringify(end)}: ${buffered}`);
      buffered += decoder.decode(chunk.subarray(0, n));
    }
    const at = buffered.indexOf(end) + end.length;
    const text = buffered.slice(0, at);
    buffered = buffered.slice(at);
    return text;
  };
  const send = (line: string) => conn.write(encoder.encode(`${line}\r\n`));
  return {
    greeting: () => until("\r\n"),
    async line(command: string): Promise<string> {
      await send(command);
      return until("\r\n");
    },
    /** `command`'s multi-line answer, read only `delay` ms after it was sent. */
    async multi(command: string, delay = 0): Promise<string> {
      await send(command);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const status = await until("\r\n");
      assert.match(status, /^\+OK/, `${command}: ${status}`);
      return until("\r\n.\r\n");
    },
    close: () => conn.close(),
  };
}

/** Message `n`: a line that starts with a dot (stuffed on the wire) among ~8 KB of text. */
function message(n: number): string {
  return `Subject: m${n}\r\n\r\n` + `line ${n} of the body\r\n`.repeat(400) +
    `.dot ${n}\r\nend\r\n`;
}

/**
 * `texts` stored, the store closed and opened again (every read is then one of the database's,
 * not the bytes of the last append the store still holds), a server on it and a client logged
 * in; the count of the byte arrays given back.
 */
async function reopenedAndLoggedIn(path: string, texts: readonly string[]) {
  const writer = openSqliteStore(path);
  for (const text of texts) writer.append("u", "INBOX", encoder.encode(text));
  writer.close();
  const store = openSqliteStore(path);
  const freed = countFreed(store);
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  const client = await pop3(server.ports.pop3!);
  try {
    assert.match(await client.greeting(), /^\+OK/);
    assert.match(await client.line("USER u"), /^\+OK/);
    assert.match(await client.line("PASS p"), /^\+OK/);
  } catch (error) {
    client.close();
    await server.stop();
    throw error;
  }
  return { freed, server, client };
}

Deno.test("pop3: on the SQLite store STAT, LIST, RETR and TOP give back the bytes they read", async () => {
  await using db = await tempDb("pop3-release");
  const count = 12;
  const texts = Array.from({ length: count }, (_, i) => message(i + 1));
  const { freed, server, client } = await reopenedAndLoggedIn(db.path, texts);
  try {
    // Sizes are of the message as sent, before any dot is doubled (RFC 1939, 5).
    let total = 0;
    for (let n = 1; n <= count; n++) total += message(n).length;
    assert.equal(await client.line("STAT"), `+OK ${count} ${total}\r\n`);
    assert.equal(freed(), count, "each message read for its size, then given back");
    const list = await client.multi("LIST");
    assert.equal(list.split("\r\n").filter((line) => /^\d+ \d+$/.test(line)).length, count);
    for (let n = 1; n <= count; n++) {
      const body = await client.multi(`RETR ${n}`);
      assert.equal(body, message(n).replace(/^\./m, "..") + ".\r\n", `message ${n}`);
    }
    assert.equal(freed(), 2 * count, "each RETR gave back what it read");
    const top = await client.multi("TOP 3 1");
    assert.equal(top, "Subject: m3\r\n\r\nline 3 of the body\r\n.\r\n");
    assert.equal(freed(), 2 * count + 1);
    assert.match(await client.line("QUIT"), /^\+OK/);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("pop3: a message in wire form goes out as the bytes read, given back once they are written", async () => {
  await using db = await tempDb("pop3-release");
  // ~4 MB, no line-start dot and no bare LF: the chunks written are views of the read (no
  // copy), more than the socket and the output queue hold while the client does not read.
  const big = "Subject: big\r\n\r\n" +
    "a line of the body, nothing to stuff in it\r\n".repeat(100_000);
  const { freed, server, client } = await reopenedAndLoggedIn(db.path, [big]);
  try {
    assert.equal(await client.line("STAT"), `+OK 1 ${big.length}\r\n`);
    const before = freed();
    // The RETR's output waits in the queue while the client reads nothing for a while: bytes
    // given back before they were written would go out as nothing (or break the transport).
    const body = client.multi("RETR 1", 300);
    assert.equal(await body, big + ".\r\n");
    assert.match(await client.line("NOOP"), /^\+OK/);
    assert.equal(freed(), before + 1, "given back once written");
    assert.match(await client.line("QUIT"), /^\+OK/);
  } finally {
    client.close();
    await server.stop();
  }
});
