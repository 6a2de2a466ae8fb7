/**
 * Clients that do not read, against a server subprocess whose RSS is measured: the helpers of
 * the backpressure tests (issue 11 item 4). The server runs as `main.ts` in its own process so
 * that its memory is its own; the clients here flood it and never read its replies.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_TLS } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { loadTlsMaterial } from "../../lib/net/tls.ts";
import { type ServerProcess, spawnMain } from "../process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A certificate the server is given (`TLS_CERT`/`TLS_KEY`) and the clients trust. */
export const material = await loadTlsMaterial({
  tls: DEFAULT_TLS,
  dbPath: null,
  hostname: "localhost",
  bindAddr: "127.0.0.1",
  logger: quietLogger(),
});

/** Starts `main.ts`, with STARTTLS on both plain ports (node:net listeners) when `tls`. */
export function spawnServer(tls: boolean): Promise<ServerProcess> {
  return spawnMain(
    ["--smtp-port", "0", "--imap-port", "0"],
    tls ? { TLS_CERT: material.cert, TLS_KEY: material.key } : {},
  );
}

/** The resident set size of a process, in MB. */
export function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** The highest RSS seen over `ms`, sampled every 100 ms. */
export async function peakRssMb(pid: number, ms: number): Promise<number> {
  let peak = rssMb(pid);
  for (const end = Date.now() + ms; Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    peak = Math.max(peak, rssMb(pid));
  }
  return peak;
}

/**
 * Writes `chunk` again and again for `ms`, never reading; stops early when a write is still
 * pending at the end (the server stopped reading and the socket buffers are full). Returns
 * the bytes written.
 */
export async function flood(conn: Deno.Conn, chunk: Uint8Array, ms: number): Promise<number> {
  let sent = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), Math.max(0, end - Date.now()));
    });
    // A write left pending fails once the connection is closed; nothing to report then.
    const written = conn.write(chunk).then(() => false, () => true);
    const stop = await Promise.race([written, stalled]);
    clearTimeout(timer);
    if (stop) break;
    sent += chunk.length;
  }
  return sent;
}

/** `text` repeated to about 64 KiB. */
export function repeated(text: string): Uint8Array {
  return encoder.encode(text.repeat(Math.max(1, Math.floor(65536 / text.length))));
}

/** Reads until the text received matches `pattern`; returns that text. */
export async function readUntil(conn: Deno.Conn, pattern: RegExp): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  while (!pattern.test(text)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection closed before ${pattern}: ${text.slice(-300)}`);
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

export async function send(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** Switches a client connection to TLS (after the server's go-ahead). */
export async function startTls(conn: Deno.TcpConn): Promise<Deno.TlsConn> {
  const tls = await Deno.startTls(conn, { hostname: "localhost", caCerts: [material.cert] });
  await tls.handshake();
  return tls;
}

/** Reads everything until the server closes. */
export async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  while ((await conn.read(buffer).catch(() => null)) !== null) {
    // discard
  }
}

/** Runs `attack` and asserts the server's RSS grew by less than `limitMb` during it and after. */
export async function assertBoundedGrowth(
  server: ServerProcess,
  limitMb: number,
  attack: () => Promise<{ sent: number; close(): void }>,
): Promise<void> {
  const pid = server.child.pid;
  const before = rssMb(pid);
  const { sent, close } = await attack();
  const peak = await peakRssMb(pid, 1500);
  close();
  const after = await peakRssMb(pid, 1000);
  const figures = `RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB during, ` +
    `${after.toFixed(0)} MB after the disconnect; ${(sent / 1048576).toFixed(1)} MB sent`;
  console.log(`  ${figures}`);
  assert.ok(peak - before < limitMb, `the server grew by over ${limitMb} MB: ${figures}`);
  assert.ok(after - before < limitMb, `the memory stayed after the disconnect: ${figures}`);
}
