/**
 * `FETCH 1:* BODY.PEEK[]` through real sockets, as its output path writes it: message bytes
 * passed to the socket as the stored arrays, small pieces gathered into buffers a listener's
 * connections share (lib/net/output_queue.ts), partial writes when the client is slow. Every
 * byte must arrive intact and in order, for a slow reader and a fast one at once, and while a
 * client does not read, the server must not read ahead more than its output bound (RFC 9051
 * 6.4.5, 7.5.2; STYLE.md practice 14).
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../../lib/bytes.ts";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { openMemoryStore, openSqliteStore, type Store } from "../../lib/store/mod.ts";
import { countFreed } from "../store/freed_count.ts";
import { tempDb } from "../store/temp_db.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * Sizes cycled through (19 MB in all): literals under and over the builder's copy limit (1 KiB)
 * and the transport's direct-write size (64 KiB), mostly gathered ones, so the writes a full
 * socket holds back are mostly of shared gather buffers.
 */
const SIZES = [300, 900, 1_500, 6_000, 20_000, 40_000, 63_000, 1_200, 30_000, 150_000];
const MESSAGES = 600;

/** Message `n`, `size` bytes, each line naming the message and the line, no NUL. */
function message(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const head = encoder.encode(`Subject: message ${n}\r\n\r\n`);
  bytes.set(head);
  let seed = n * 2654435761 >>> 0;
  let at = head.length;
  for (let line = 0; at < size; line++) {
    const label = encoder.encode(`${n}:${line}:`);
    bytes.set(label.subarray(0, size - at), at);
    at += label.length;
    for (let i = 0; i < 60 && at < size; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[at++] = 0x21 + (seed >>> 16) % 94;
    }
    if (at < size) bytes[at++] = 0x0d;
    if (at < size) bytes[at++] = 0x0a;
  }
  return bytes;
}

/** A client that reads responses with literals, fast or a little at a time. */
class LiteralReader {
  readonly #conn: Deno.TcpConn;
  readonly #readSize: number;
  readonly #pauseEvery: number;
  #buffer = new Uint8Array(0);
  #reads = 0;

  constructor(conn: Deno.TcpConn, slow: boolean) {
    this.#conn = conn;
    // Slow: 4 KiB reads and a 2 ms pause every 16 of them, so the server meets a full socket.
    this.#readSize = slow ? 4096 : 256 * 1024;
    this.#pauseEvery = slow ? 16 : 0;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async write(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  /** One read of at most the read size into `into`; its byte count. */
  async #read(into: Uint8Array): Promise<number> {
    if (this.#pauseEvery && ++this.#reads % this.#pauseEvery === 0) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const n = await this.#conn.read(into.subarray(0, this.#readSize));
    if (n === null) throw new Error("the server closed the connection");
    return n;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(this.#readSize);
    const n = await this.#read(chunk);
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
  }

  /** The next line, without CRLF. */
  async line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf(0x0a);
      if (end > 0 && this.#buffer[end - 1] === 0x0d) {
        const line = latin1.decode(this.#buffer.subarray(0, end - 1));
        this.#buffer = this.#buffer.subarray(end + 1);
        return line;
      }
      await this.#fill();
    }
  }

  /** The next `n` bytes (read straight into the array returned once the buffer is used up). */
  async bytes(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let at = Math.min(n, this.#buffer.length);
    out.set(this.#buffer.subarray(0, at));
    this.#buffer = this.#buffer.subarray(at);
    while (at < n) at += await this.#read(out.subarray(at));
    return out;
  }

  /** Lines up to the one tagged `tag`, which must be OK. */
  async ok(tag: string): Promise<void> {
    for (;;) {
      const line = await this.line();
      if (line.startsWith(`${tag} `)) return assert.match(line, new RegExp(`^${tag} OK`));
    }
  }

  /** Reads a `FETCH 1:* BODY.PEEK[]` response and checks each message against `expected`. */
  async checkBodies(tag: string, expected: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < expected.length; i++) {
      const line = await this.line();
      assert.equal(line, `* ${i + 1} FETCH (BODY[] {${expected[i].length}}`);
      const body = await this.bytes(expected[i].length);
      // Compared as a whole only once a cheap check fails, so a failure names the offset.
      if (!sameBytes(body, expected[i])) {
        const at = body.findIndex((byte, k) => byte !== expected[i][k]);
        assert.fail(`message ${i + 1} differs at byte ${at} of ${body.length}`);
      }
      assert.equal(await this.line(), ")");
    }
    await this.ok(tag);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function login(port: number, slow: boolean): Promise<LiteralReader> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const client = new LiteralReader(conn, slow);
  await client.line();
  await client.write("a LOGIN stream secret\r\nb SELECT INBOX\r\n");
  await client.ok("a");
  await client.ok("b");
  return client;
}

/** Waits until `value()` has not changed for `quietMs`; returns it. */
async function settled(value: () => number, quietMs: number): Promise<number> {
  let last = -1;
  while (value() !== last) {
    last = value();
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
  return last;
}

Deno.test("FETCH BODY[] streaming: bounded read-ahead, every byte in order, slow and fast at once", async () => {
  await streaming(openMemoryStore());
});

Deno.test("FETCH BODY[] streaming, SQLite store: each message's bytes freed once written, every byte intact", async () => {
  await using db = await tempDb("stream");
  const store = openSqliteStore(db.path);
  // Bytes FETCH gave back to the store, freed (detached) only after they were written (the
  // last appended message's own bytes, which the store keeps, are not freed).
  const freed = countFreed(store);
  await streaming(store);
  assert.ok(freed() >= MESSAGES, `freed ${freed()} messages' bytes of ${2 * MESSAGES} read`);
});

/** Two clients fetch 600 messages (19 MB), one slowly; the first reads nothing for a while. */
async function streaming(store: Store): Promise<void> {
  // What FETCH reads of the store: how far it runs ahead of a client that does not read.
  let bytesRead = 0;
  const getRaw = store.getRaw.bind(store);
  store.getRaw = (user, mailbox, uid) => {
    const raw = getRaw(user, mailbox, uid);
    bytesRead += raw?.length ?? 0;
    return raw;
  };
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  const clients: LiteralReader[] = [];
  try {
    const expected = Array.from(
      { length: MESSAGES },
      (_, n) => message(n, SIZES[n % SIZES.length] + n),
    );
    const total = expected.reduce((sum, m) => sum + m.length, 0);
    const loader = await login(server.ports.imap, false);
    clients.push(loader);
    for (let n = 0; n < MESSAGES; n++) {
      const command = encoder.encode(`c${n} APPEND INBOX {${expected[n].length}+}\r\n`);
      await loader.write(concatBytes([command, expected[n], encoder.encode("\r\n")]));
      await loader.ok(`c${n}`);
    }
    const slow = await login(server.ports.imap, true);
    const fast = await login(server.ports.imap, false);
    clients.push(slow, fast);

    // The new mail is indexed; then a FETCH nobody reads yet.
    await settled(() => bytesRead, 200);
    bytesRead = 0;
    await slow.write("s FETCH 1:* BODY.PEEK[]\r\n");
    const ahead = await settled(() => bytesRead, 300);
    // The output bound (1 MiB queued, a 256 KiB flush, one message) plus the kernel's socket
    // buffers: far less than the mailbox, which an unbounded queue would read at once.
    assert.ok(ahead > 0, "the FETCH started");
    assert.ok(ahead < total / 2, `read ${ahead} of ${total} bytes for a client that reads none`);

    // Now the slow client reads while another fetches the same mail at full speed.
    await fast.write("f FETCH 1:* BODY.PEEK[]\r\n");
    await Promise.all([slow.checkBodies("s", expected), fast.checkBodies("f", expected)]);
  } finally {
    for (const client of clients) client.close();
    await server.stop();
  }
}

Deno.test("FETCH of several sections per message, SQLite store reopened: a message's bytes outlive its first large item", async () => {
  // Messages of ~300 KB, each a header and a text: its BODY[] alone passes the 256 KiB flush,
  // and after four of them a megabyte has been read, so the bytes read so far are given back
  // at that flush. The message being written still has BODY[TEXT] and BODYSTRUCTURE to go,
  // from the same bytes (a reopened store has no index cached: both read them).
  await using db = await tempDb("sections");
  const expected = Array.from({ length: 8 }, (_, n) => message(n, 290_000 + n * 1_000));
  const loading = openSqliteStore(db.path);
  for (const raw of expected) loading.append("stream", "INBOX", raw);
  loading.close();
  const store = openSqliteStore(db.path);
  const freed = countFreed(store);
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  const client = await login(server.ports.imap, false);
  try {
    await client.write("f FETCH 1:* (BODY.PEEK[] BODY.PEEK[TEXT] BODYSTRUCTURE)\r\n");
    for (let i = 0; i < expected.length; i++) {
      const raw = expected[i];
      const bodyAt = raw.indexOf(0x0a, raw.indexOf(0x0a) + 1) + 1;
      const text = raw.subarray(bodyAt);
      assert.equal(await client.line(), `* ${i + 1} FETCH (BODY[] {${raw.length}}`);
      assert.ok(sameBytes(await client.bytes(raw.length), raw), `message ${i + 1}'s BODY[]`);
      assert.equal(await client.line(), ` BODY[TEXT] {${text.length}}`);
      assert.ok(sameBytes(await client.bytes(text.length), text), `message ${i + 1}'s BODY[TEXT]`);
      assert.match(
        await client.line(),
        new RegExp(
          `^ BODYSTRUCTURE \\("text" "plain" .* ${text.length} \\d+ NIL NIL NIL NIL\\)\\)$`,
        ),
      );
    }
    await client.ok("f");
    assert.ok(freed() >= 8, `freed ${freed()} messages' bytes`);
  } finally {
    client.close();
    await server.stop();
    store.close();
  }
});
