/**
 * SMTP load benchmark, startup time and idle memory.
 *
 * ```sh
 * deno task bench                                   # defaults below, both stores
 * deno run -A bench/smtp_load.ts --messages 20000 --connections 8 --store memory
 * ```
 *
 * The server runs as a subprocess (`deno run -A main.ts`, as users run it) so that its RSS
 * is its own and the client does not share its event loop. The client speaks raw SMTP over
 * TCP: each connection sends EHLO once, then its share of the messages, one transaction
 * each, pipelined RFC 2920 style: `MAIL`, `RCPT` and `DATA` in one write, then after the
 * 354 the message, the end marker and the next transaction's `MAIL RCPT DATA` in one write.
 * Latency is per transaction: from writing its `MAIL` to reading the 250 after its data.
 *
 * Startup: time from spawning the process to reading the 220 greeting on a fresh
 * connection, polled every millisecond, compared with a trivial Deno TCP listener started
 * the same way (that difference is what the server adds to Deno's own start).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { spawnServer } from "./spawn.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

interface Options {
  messages: number;
  connections: number;
  stores: Array<"memory" | "sqlite">;
  startupRuns: number;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "20000" },
      connections: { type: "string", default: "8" },
      store: { type: "string", default: "both" },
      "startup-runs": { type: "string", default: "7" },
    },
  });
  const store = values.store;
  return {
    messages: Number(values.messages),
    connections: Number(values.connections),
    stores: store === "both" ? ["memory", "sqlite"] : [store as "memory" | "sqlite"],
    startupRuns: Number(values["startup-runs"]),
  };
}

/** A ~2 KB message with a dot-stuffed line, as it goes on the wire. */
function messageData(n: number): string {
  const lines = [
    "From: Load Test <load@example.com>",
    "To: bench@example.com",
    `Subject: load test message ${n}`,
    `Message-ID: <load-${n}@example.com>`,
    "Date: Wed, 25 Nov 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
  ];
  const filler = "The quick brown fox jumps over the lazy dog, again and again and again.";
  for (let i = 0; i < 26; i++) lines.push(i === 13 ? ".." + filler : filler);
  return lines.join("\r\n") + "\r\n";
}

/** Reads SMTP replies from a connection; resolves final reply codes in order. */
class ReplyReader {
  #conn: Deno.Conn;
  #text = "";
  #codes: number[] = [];
  #buffer = new Uint8Array(64 * 1024);
  #decoder = new TextDecoder("latin1");

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next `count` final reply codes. */
  async next(count: number): Promise<number[]> {
    while (this.#codes.length < count) {
      const n = await this.#conn.read(this.#buffer);
      if (n === null) throw new Error("server closed the connection");
      this.#text += this.#decoder.decode(this.#buffer.subarray(0, n));
      let end: number;
      while ((end = this.#text.indexOf("\r\n")) >= 0) {
        const line = this.#text.slice(0, end);
        this.#text = this.#text.slice(end + 2);
        if (line[3] !== "-") this.#codes.push(Number(line.slice(0, 3)));
      }
    }
    return this.#codes.splice(0, count);
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function expectCodes(got: number[], want: number[], what: string): void {
  if (got.join() !== want.join()) throw new Error(`${what}: got ${got}, want ${want}`);
}

/** One client connection sending `count` messages; pushes per-transaction latencies (ms). */
async function client(port: number, first: number, count: number, latencies: number[]) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const replies = new ReplyReader(conn);
  expectCodes(await replies.next(1), [220], "greeting");
  await writeAll(conn, encoder.encode("EHLO bench.example\r\n"));
  expectCodes(await replies.next(1), [250], "EHLO");
  const envelope = (n: number) =>
    `MAIL FROM:<load@example.com> SIZE=2200\r\nRCPT TO:<bench+${n % 16}@example.com>\r\nDATA\r\n`;
  let started = performance.now();
  await writeAll(conn, encoder.encode(envelope(first)));
  expectCodes(await replies.next(3), [250, 250, 354], "MAIL RCPT DATA");
  for (let i = 0; i < count; i++) {
    const n = first + i;
    const last = i === count - 1;
    const next = last ? "QUIT\r\n" : envelope(n + 1);
    await writeAll(conn, encoder.encode(messageData(n) + ".\r\n" + next));
    const codes = await replies.next(last ? 2 : 4);
    const now = performance.now();
    latencies.push(now - started);
    started = now;
    expectCodes(codes, last ? [250, 221] : [250, 250, 250, 354], `message ${n}`);
  }
  conn.close();
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function load(store: "memory" | "sqlite", opts: Options): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-bench-" });
  const env: Record<string, string> = store === "sqlite"
    ? { ELEKTROMAIL_DB: `${dir}/bench.db` }
    : {};
  const server = await spawnServer(env);
  try {
    // Warm-up: JIT, first-delivery mailbox creation.
    await client(server.smtp, 0, 200, []);
    const latencies: number[] = [];
    const per = Math.ceil(opts.messages / opts.connections);
    const started = performance.now();
    await Promise.all(
      Array.from(
        { length: opts.connections },
        (_, c) =>
          client(server.smtp, 1000 + c * per, Math.min(per, opts.messages - c * per), latencies),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const { rss, peak } = memory(server.pid);
    console.log(
      `${store.padEnd(6)} ${latencies.length} msgs (${
        messageData(0).length
      } B) over ${opts.connections} conns: ` +
        `${Math.round(latencies.length / seconds)} msgs/s, latency median ${
          percentile(latencies, 0.5).toFixed(2)
        } ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, server RSS ${
          rss.toFixed(1)
        } MB (peak ${peak.toFixed(1)} MB)`,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Spawns `args` with SMTP_PORT set and returns ms until a 220 greeting arrives. */
async function timeToGreeting(
  args: string[],
): Promise<{ ms: number; pid: number; kill(): Promise<void> }> {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { SMTP_PORT: String(port), IMAP_PORT: "0" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const buffer = new Uint8Array(512);
  while (true) {
    let conn: Deno.Conn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    const n = await conn.read(buffer);
    conn.close();
    if (n && new TextDecoder().decode(buffer.subarray(0, 3)) === "220") break;
  }
  return {
    ms: performance.now() - started,
    pid: child.pid,
    kill: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

const BASELINE = `
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.env.get("SMTP_PORT")) });
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
for await (const conn of listener) {
  await conn.write(new TextEncoder().encode("220 baseline\\r\\n"));
  conn.close();
}
`;

async function startup(runs: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-startup-" });
  const baseline = `${dir}/baseline.ts`;
  await Deno.writeTextFile(baseline, BASELINE);
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const measure = async (args: string[]) => {
    const times: number[] = [];
    let idle = 0;
    for (let i = 0; i <= runs; i++) {
      const run = await timeToGreeting(args);
      if (i > 0) times.push(run.ms); // the first run fills Deno's module cache
      if (i === runs) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        idle = memory(run.pid).rss;
      }
      await run.kill();
    }
    return { ms: median(times), idle };
  };
  try {
    const base = await measure(["run", "-A", baseline]);
    const server = await measure(["run", "-A", MAIN]);
    console.log(
      `startup: spawn to 220 greeting, median of ${runs}: elektromail ${
        server.ms.toFixed(1)
      } ms, ` +
        `bare Deno listener ${base.ms.toFixed(1)} ms, difference ${
          (server.ms - base.ms).toFixed(1)
        } ms`,
    );
    console.log(
      `idle RSS: elektromail ${server.idle.toFixed(1)} MB (bare Deno listener ${
        base.idle.toFixed(1)
      } MB)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const opts = options();
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);
  await startup(opts.startupRuns);
  for (const store of opts.stores) await load(store, opts);
}
