/**
 * COMPRESS=DEFLATE (RFC 4978), its effect on a bulk download: `FETCH 1:* BODY.PEEK[]` of the
 * deterministic corpus (bench/imap_corpus.ts), plain and compressed, against a server
 * subprocess. Prints the bytes on the wire and the wall time of each (best of `RUNS`).
 *
 * ```sh
 * deno run -A bench/compress_bench.ts [messages=1000] [runs=3]
 * ```
 *
 * The client inflates in this process, so the compressed time includes its own inflate cost,
 * as a real client's would.
 *
 * @module
 */

import { DeflatedConn } from "../tests/harness/deflate_conn.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { spawnServer } from "./spawn.ts";

const MESSAGES = Number(Deno.args[0] ?? 1000);
const RUNS = Number(Deno.args[1] ?? 3);
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

interface Conn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** Reads until a line starting with `tag ` ends the received text; returns the bytes read. */
async function until(conn: Conn, tag: string): Promise<number> {
  const buffer = new Uint8Array(256 * 1024);
  let tail = "\r\n";
  let total = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`closed before ${tag}`);
    total += n;
    tail = (tail + latin1.decode(buffer.subarray(Math.max(0, n - 4096), n))).slice(-8192);
    const at = tail.lastIndexOf(`\r\n${tag} `);
    if (at >= 0 && tail.indexOf("\r\n", at + 2) >= 0) return total;
  }
}

async function command(conn: Conn, tag: string, text: string): Promise<number> {
  await conn.write(encoder.encode(`${tag} ${text}\r\n`));
  return await until(conn, tag);
}

async function download(port: number, compress: boolean) {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  let conn: Conn = tcp;
  await conn.read(new Uint8Array(4096));
  await command(conn, "a", "LOGIN bench secret");
  let wire: () => number = () => 0;
  if (compress) {
    await command(conn, "z", "COMPRESS DEFLATE");
    const deflated = new DeflatedConn(tcp);
    conn = deflated;
    wire = () => deflated.wireIn;
  }
  await command(conn, "b", "SELECT INBOX");
  const wireBefore = wire();
  const start = performance.now();
  const plain = await command(conn, "c", "FETCH 1:* BODY.PEEK[]");
  const ms = performance.now() - start;
  conn.close();
  return { ms, plain, wire: compress ? wire() - wireBefore : plain };
}

async function fill(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.read(new Uint8Array(4096));
  await command(conn, "a", "LOGIN bench secret");
  let bytes = 0;
  for (let n = 0; n < MESSAGES; n++) {
    const message = corpusMessage(n);
    bytes += message.length;
    const head = encoder.encode(`m${n} APPEND INBOX {${message.length}+}\r\n`);
    const all = new Uint8Array(head.length + message.length + 2);
    all.set(head);
    all.set(message, head.length);
    all.set([13, 10], head.length + message.length);
    for (let at = 0; at < all.length;) at += await conn.write(all.subarray(at));
    await until(conn, `m${n}`);
  }
  conn.close();
  return bytes;
}

const server = await spawnServer({ POP3_PORT: "0", HTTP_PORT: "0" });
try {
  const corpus = await fill(server.imap);
  console.log(`corpus: ${MESSAGES} messages, ${(corpus / 1048576).toFixed(1)} MB`);
  for (const compress of [false, true]) {
    let best = { ms: Infinity, plain: 0, wire: 0 };
    for (let run = 0; run < RUNS; run++) {
      const result = await download(server.imap, compress);
      if (result.ms < best.ms) best = result;
    }
    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
    console.log(
      `${compress ? "COMPRESS DEFLATE" : "plain           "}: FETCH 1:* BODY.PEEK[] ` +
        `${mb(best.plain)} MB of responses, ${mb(best.wire)} MB on the wire ` +
        `(${(100 * best.wire / best.plain).toFixed(0)}%), ${best.ms.toFixed(0)} ms ` +
        `(${mb(best.plain / (best.ms / 1000))} MB/s of responses), best of ${RUNS}`,
    );
  }
} finally {
  await server.stop();
}
