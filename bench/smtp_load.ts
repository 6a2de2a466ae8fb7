/**
 * SMTP load benchmark, startup time and idle memory.
 *
 * ```sh
 * deno task bench                     # issue 13's run: 2,000 messages of ~2.2 KB over 4
 *                                     # connections, no pipelining, memory and SQLite
 * deno run -A bench/smtp_load.ts --messages 20000 --connections 8 --pipelining --store memory
 * deno run -A bench/smtp_load.ts --store sqlite --rounds 5 --startup-runs 0
 * deno run -A bench/smtp_load.ts --cpu-prof /tmp/prof  # V8 CPU profile of the server
 * deno run -A bench/smtp_load.ts --store none --idle-at 1,5,30  # startup and idle memory only
 * deno run -A bench/smtp_load.ts --store sqlite --messages 5000 --rounds 3 --startup-runs 0 \
 *   --imap-after 150                  # what an IMAP reader meets 150 ms after each burst
 * ```
 *
 * The server runs as a subprocess (`deno run -A main.ts`, as users run it) so that its RSS
 * and CPU time are its own and the client does not share its event loop. The client speaks
 * raw SMTP over TCP: each connection sends EHLO once, then its share of the messages, one
 * transaction each. Without `--pipelining` it waits for each reply before the next command
 * (`MAIL`, `RCPT`, `DATA`, then the message and its end marker: four round trips), as most
 * client libraries do; with it, RFC 2920 style, `MAIL RCPT DATA` go in one write and after
 * the 354 the message, the end marker and the next transaction's `MAIL RCPT DATA` in one.
 * Latency is per transaction: from writing its `MAIL` to reading the 250 after its data. The
 * messages are encoded before the clock starts, and the transactions start once every
 * connection has had its EHLO answered (before, a connection's first transactions waited
 * while the client encoded the other connections' messages: 8–14 ms, the round's slowest).
 * `--probe DIR` tells what held the server while the slow transactions waited (see
 * `attribute`). `--imap-after MS` times, `MS` ms after each round's last reply, a `SELECT
 * INBOX` and `FETCH 1:* (UID FLAGS)` on an IMAP connection logged in before the round: the
 * wait a reader meets right after a burst (e.g. the SQLite store's checkpoint once writes
 * paused).
 *
 * Server CPU time per message is measured besides the wall clock (the machine may be shared):
 * the server's threads' run time from `/proc/<pid>/task/<tid>/schedstat`, before and after
 * the timed run, divided by the messages.
 *
 * Startup: time from spawning the process to reading the 220 greeting on a fresh
 * connection, polled every millisecond (the server with the program's V8 flags, as `deno task
 * start` and the binary have them: lib/v8_flags.ts), compared with a trivial Deno TCP listener
 * started the same way (that difference is what the server adds to Deno's own start); idle RSS
 * is read 500 ms after the greeting. Then one more fresh server is left alone and its RSS,
 * split into anonymous (V8 heap, malloc) and file-backed (the deno binary's pages touched), is
 * read at each of `--idle-at` seconds after the greeting (default 1, 5 and 30).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";
import { Client } from "./imap_client.ts";
import { freePort, spawnServer } from "./spawn.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PROBE = new URL("./loop_probe.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

interface Options {
  messages: number;
  connections: number;
  /** Bytes of message data per message, before dot-stuffing. */
  size: number;
  pipelining: boolean;
  /** `sink`: a minimal Deno SMTP sink instead of the server, Deno's own floor. */
  stores: Array<"memory" | "sqlite" | "sink">;
  /** Seconds after the greeting at which one more fresh server's RSS is read (at rest). */
  idleAt: number[];
  /** Messages sent over one connection before the timed run (JIT, first delivery). */
  warmup: number;
  rounds: number;
  startupRuns: number;
  /** Directory for the server's V8 CPU profile; none when null. */
  cpuProf: string | null;
  /** Extra `deno run` flags for the server (`--v8-flags=...`). */
  denoFlags: string[];
  /**
   * Directory for the stall probe's files; none when null. The server then runs with V8's
   * `--trace-gc` and the event-loop lag probe (bench/loop_probe.ts), and each round ends with
   * what held the server's loop while a transaction waited (see {@linkcode attribute}).
   */
  probe: string | null;
  /** Ms after each round at which an IMAP SELECT and FETCH are timed; none when null. */
  imapAfter: number | null;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "2000" },
      connections: { type: "string", default: "4" },
      size: { type: "string", default: "2200" },
      pipelining: { type: "boolean", default: false },
      store: { type: "string", default: "both" },
      warmup: { type: "string", default: "200" },
      rounds: { type: "string", default: "1" },
      "startup-runs": { type: "string", default: "7" },
      "idle-at": { type: "string", default: "1,5,30" },
      "cpu-prof": { type: "string" },
      "deno-flag": { type: "string", multiple: true, default: [] },
      probe: { type: "string" },
      "imap-after": { type: "string" },
    },
  });
  const store = values.store;
  if (
    store !== "both" && store !== "memory" && store !== "sqlite" && store !== "sink" &&
    store !== "none"
  ) {
    throw new Error(`--store: memory, sqlite, both, sink or none (startup only), not ${store}`);
  }
  return {
    messages: Number(values.messages),
    connections: Number(values.connections),
    size: Number(values.size),
    pipelining: values.pipelining,
    stores: store === "both" ? ["memory", "sqlite"] : store === "none" ? [] : [store],
    idleAt: values["idle-at"].split(",").filter((text) => text !== "").map(Number),
    warmup: Number(values.warmup),
    rounds: Number(values.rounds),
    startupRuns: Number(values["startup-runs"]),
    cpuProf: values["cpu-prof"] ?? null,
    denoFlags: values["deno-flag"],
    probe: values.probe ?? null,
    imapAfter: values["imap-after"] === undefined ? null : Number(values["imap-after"]),
  };
}

const FILLER = "The quick brown fox jumps over the lazy dog, again and again and again.";

/**
 * The lines of message `n`, about `size` bytes, before dot-stuffing: a plain text message
 * whose body repeats a 72-character line, one of them beginning with a dot. Also what
 * bench/delivery_index.ts indexes.
 */
export function messageLines(n: number, size: number): string[] {
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
  let bytes = lines.join("\r\n").length + 2;
  for (let i = 0; bytes < size; i++) {
    const line = i === 13 ? "." + FILLER : FILLER;
    lines.push(line);
    bytes += line.length + 2;
  }
  return lines;
}

/** Message `n` of about `size` bytes as it goes on the wire, end marker excluded. */
function messageData(n: number, size: number): string {
  return messageLines(n, size).map((line) => line.startsWith(".") ? "." + line : line).join(
    "\r\n",
  ) + "\r\n";
}

/** Messages `first` … `first + count - 1` as they go on the wire, end marker included. */
export function encodeMessages(first: number, count: number, size: number): Uint8Array[] {
  return Array.from(
    { length: count },
    (_, i) => encoder.encode(messageData(first + i, size) + ".\r\n"),
  );
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

export interface Run {
  readonly port: number;
  readonly size: number;
  readonly pipelining: boolean;
  /**
   * With `--probe`: each transaction's `[MAIL sent, 250 to MAIL, 250 to RCPT, 354, 250 to
   * the data]`, wall clock ms (`performance.timeOrigin` + `performance.now()`), then the
   * connection's local port.
   */
  readonly trace?: number[][];
}

const mailCommand = "MAIL FROM:<load@example.com> SIZE=2200\r\n";
const rcptCommand = (n: number) => `RCPT TO:<bench+${n % 16}@example.com>\r\n`;

/**
 * One client connection sending `data` (message `first` and on, encoded ahead: the client's
 * own work stays out of the latencies); pushes per-transaction latencies (ms). With `ready`,
 * the connection waits for it after its EHLO, so that no transaction is timed while other
 * connections are still being opened.
 */
export async function client(
  run: Run,
  first: number,
  data: Uint8Array[],
  latencies: number[],
  ready?: () => Promise<void>,
) {
  const count = data.length;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: run.port });
  conn.setNoDelay(true);
  const replies = new ReplyReader(conn);
  expectCodes(await replies.next(1), [220], "greeting");
  await writeAll(conn, encoder.encode("EHLO bench.example\r\n"));
  expectCodes(await replies.next(1), [250], "EHLO");
  await ready?.();
  if (run.pipelining) await pipelined(conn, replies, first, data, latencies);
  else {
    const command = async (text: string, code: number, what: string) => {
      await writeAll(conn, encoder.encode(text));
      expectCodes(await replies.next(1), [code], what);
    };
    const origin = performance.timeOrigin;
    const port = (conn.localAddr as Deno.NetAddr).port;
    for (let i = 0; i < count; i++) {
      const n = first + i;
      const started = performance.now();
      await command(mailCommand, 250, `MAIL ${n}`);
      const mail = performance.now();
      await command(rcptCommand(n), 250, `RCPT ${n}`);
      const rcpt = performance.now();
      await command("DATA\r\n", 354, `DATA ${n}`);
      const dataStarts = performance.now();
      await writeAll(conn, data[i]);
      expectCodes(await replies.next(1), [250], `message ${n}`);
      const done = performance.now();
      latencies.push(done - started);
      run.trace?.push([...[started, mail, rcpt, dataStarts, done].map((t) => origin + t), port]);
    }
    await command("QUIT\r\n", 221, "QUIT");
  }
  conn.close();
}

async function pipelined(
  conn: Deno.Conn,
  replies: ReplyReader,
  first: number,
  data: Uint8Array[],
  latencies: number[],
): Promise<void> {
  const envelope = (n: number) => mailCommand + rcptCommand(n) + "DATA\r\n";
  let started = performance.now();
  await writeAll(conn, encoder.encode(envelope(first)));
  expectCodes(await replies.next(3), [250, 250, 354], "MAIL RCPT DATA");
  for (let i = 0; i < data.length; i++) {
    const n = first + i;
    const last = i === data.length - 1;
    await writeAll(conn, data[i]);
    await writeAll(conn, encoder.encode(last ? "QUIT\r\n" : envelope(n + 1)));
    const codes = await replies.next(last ? 2 : 4);
    const now = performance.now();
    latencies.push(now - started);
    started = now;
    expectCodes(codes, last ? [250, 221] : [250, 250, 250, 354], `message ${n}`);
  }
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memory(pid: number): { rss: number; peak: number; anon: number; file: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return {
    rss: kb("VmRSS") / 1024,
    peak: kb("VmHWM") / 1024,
    anon: kb("RssAnon") / 1024,
    file: kb("RssFile") / 1024,
  };
}

/** CPU time the process's live threads have run, in ms (Linux schedstat, ns resolution). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function load(store: "memory" | "sqlite" | "sink", opts: Options): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-bench-" });
  const env: Record<string, string> = store === "sqlite"
    ? { ELEKTROMAIL_DB: `${dir}/bench.db` }
    : {};
  const flags = [...opts.denoFlags];
  if (opts.cpuProf) flags.push("--cpu-prof", `--cpu-prof-dir=${opts.cpuProf}`);
  let probe: { loop: string; gc: string } | null = null;
  if (opts.probe) {
    await Deno.mkdir(opts.probe, { recursive: true });
    const stamp = `${store}-${Date.now()}`;
    probe = { loop: `${opts.probe}/${stamp}-loop.json`, gc: `${opts.probe}/${stamp}-gc.txt` };
    env.LOOP_PROBE_FILE = probe.loop;
    flags.push(`--preload=${PROBE}`, "--v8-flags=--trace-gc,--expose-gc");
  }
  const server = store === "sink"
    ? await spawnSink(dir, env, flags, probe?.gc)
    : await spawnServer(env, flags, probe?.gc);
  const traces: number[][][] = [];
  // Every round's messages, encoded before the first connection (see `client`): encoding
  // between two rounds would leave the server without clients for a moment, and the startup
  // warm-up (lib/imap/warm_up.ts) takes such moments for a step of its own.
  const per = Math.ceil(opts.messages / opts.connections);
  const rounds = Array.from({ length: opts.rounds }, (_, round) =>
    Array.from(
      { length: opts.connections },
      (_, c) =>
        encodeMessages(
          100_000 * (round + 1) + c * per,
          Math.min(per, opts.messages - c * per),
          opts.size,
        ),
    ));
  try {
    if (opts.warmup > 0) {
      await client(
        { port: server.smtp, size: opts.size, pipelining: opts.pipelining },
        0,
        encodeMessages(0, opts.warmup, opts.size),
        [],
      );
    }
    for (let round = 0; round < opts.rounds; round++) {
      const run: Run = {
        port: server.smtp,
        size: opts.size,
        pipelining: opts.pipelining,
        ...(probe && !opts.pipelining ? { trace: [] } : {}),
      };
      const latencies: number[] = [];
      const first = 100_000 * (round + 1);
      const datas = rounds[round];
      // The transactions start once every connection has had its EHLO answered.
      let waiting = opts.connections;
      const all = Promise.withResolvers<void>();
      const ready = () => {
        if (--waiting === 0) all.resolve();
        return all.promise;
      };
      const reader = opts.imapAfter === null || !("imap" in server)
        ? null
        : await Client.connect(server.imap);
      await reader?.command("LOGIN bench@example.com bench");
      const cpuBefore = cpuMs(server.pid);
      const started = performance.now();
      await Promise.all(
        Array.from(
          { length: opts.connections },
          (_, c) => client(run, first + c * per, datas[c], latencies, ready),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuMs(server.pid) - cpuBefore;
      latencies.sort((a, b) => a - b);
      const { rss, peak } = memory(server.pid);
      const ms = (p: number) => percentile(latencies, p).toFixed(2);
      console.log(
        `${store.padEnd(6)} ${latencies.length} msgs (${
          messageData(0, opts.size).length
        } B) over ${opts.connections} conns, ${opts.pipelining ? "pipelined" : "no pipelining"}: ${
          Math.round(latencies.length / seconds)
        } msgs/s, server CPU ${(cpu * 1000 / latencies.length).toFixed(0)} µs/msg, latency p50 ${
          ms(0.5)
        } p90 ${ms(0.9)} p99 ${ms(0.99)} max ${ms(1)} ms, server RSS ${rss.toFixed(1)} MB (peak ${
          peak.toFixed(1)
        } MB)`,
      );
      if (reader) {
        await new Promise((resolve) => setTimeout(resolve, opts.imapAfter!));
        const asked = performance.now();
        const exists = (await reader.query("SELECT INBOX")).find((line) => / EXISTS$/.test(line));
        await reader.command("FETCH 1:* (UID FLAGS)");
        console.log(
          `${store.padEnd(6)} ${opts.imapAfter} ms after the round: SELECT INBOX + FETCH 1:* ` +
            `(UID FLAGS) ${(performance.now() - asked).toFixed(1)} ms (${exists})`,
        );
        await reader.command("LOGOUT");
        reader.close();
      }
      if (run.trace) traces.push(run.trace);
    }
    if (probe) {
      Deno.kill(server.pid, "SIGUSR2");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
  // V8's trace is complete once the server has exited (its output is buffered).
  if (probe) {
    const loop = JSON.parse(await Deno.readTextFile(probe.loop));
    for (const [i, trace] of traces.entries()) {
      console.log(`${store} round ${i + 1}\n${attribute(trace, loop, probe.gc)}`);
    }
  }
}

/** A stretch the server's loop was held: a GC pause (from `--trace-gc`) or a probe gap. */
interface Stall {
  readonly start: number;
  readonly end: number;
  readonly what: string;
  /** Of a probe gap: ms the thread ran and ms it waited for a core. */
  readonly ran?: number;
  readonly waited?: number;
}

/**
 * What held the server while the slow transactions waited (`--probe`): for each transaction
 * over 2 ms, the reply that took longest and what overlapped its wait: a GC pause of V8's
 * trace (by kind; times there are whole ms, so ±1 ms), else a gap of the loop probe
 * (bench/loop_probe.ts) in which the server's thread mostly ran (a long task), mostly waited
 * for a core (another process had it) or mostly did neither (slept in a system call: disk
 * I/O), else nothing the server's loop shows (the client, the kernel). Also the round's GC pauses and loop gaps in all.
 */
function attribute(
  trace: number[][],
  loop: { anchor: number | null; gaps: number[][]; io: Record<string, number[]> },
  gcFile: string,
): string {
  const first = trace.reduce((min, t) => Math.min(min, t[0]), Infinity);
  const last = trace.reduce((max, t) => Math.max(max, t[4]), 0);
  const pauses: Stall[] = [];
  let offset: number | null = null;
  for (const line of Deno.readTextFileSync(gcFile).split("\n")) {
    const match = /\s(\d+) ms: ([A-Za-z( )-]+?) [\d.]+ \([\d.]+\) -> .*?, ([\d.]+) \/ [\d.]+ ms/
      .exec(line);
    if (!match) continue;
    const at = Number(match[1]);
    if (offset === null) {
      // The probe's own GC at startup is the anchor between the trace's clock and ours.
      if (loop.anchor !== null && line.includes("testing")) offset = loop.anchor - at;
      continue;
    }
    const end = at + offset;
    pauses.push({ start: end - Number(match[3]), end, what: match[2] });
  }
  const gaps: Stall[] = loop.gaps.map(([start, length, ran, waited]) => ({
    start,
    end: start + length,
    what: waited > length / 2
      ? "waited for a core"
      : length - ran - waited > length / 2
      ? "slept: I/O"
      : "ran",
    ran,
    waited,
  }));
  const inRound = (s: Stall) => s.end >= first && s.start <= last;
  const roundPauses = pauses.filter(inRound);
  const roundGaps = gaps.filter(inRound);
  const longest = (stalls: Stall[]) =>
    stalls.sort((a, b) => (b.end - b.start) - (a.end - a.start))[0];
  const causes = new Map<string, number>();
  const phases = ["MAIL", "RCPT", "DATA", "data"];
  const slowPhases = new Map<string, number>();
  // Each reply's wait split at the server's read and write: [in, work, out] summed over all
  // replies, and over the slowest reply of each slow transaction.
  const split = (t: number[], phase: number): number[] | null => {
    const io = loop.io[t[5]] ?? [];
    let write = -1;
    let read = -1;
    for (let i = 0; i < io.length; i += 2) {
      if (io[i] <= t[phase]) continue;
      if (io[i] >= t[phase + 1]) break;
      if (io[i + 1] < 0) write = io[i];
      else if (write < 0 && io[i + 1] > 0) read = io[i];
    }
    if (read < 0 || write < 0) return null;
    return [read - t[phase], write - read, t[phase + 1] - write];
  };
  const add = (sums: number[], parts: number[] | null) => {
    if (!parts) return;
    for (let i = 0; i < 3; i++) sums[i] += parts[i];
    sums[3]++;
  };
  const allSplit = [0, 0, 0, 0];
  const slowSplit = [0, 0, 0, 0];
  const dominant = new Map<string, number>();
  let slow = 0;
  const slowest: Array<{ ms: number; text: string }> = [];
  for (const t of trace) {
    for (let p = 0; p < 4; p++) add(allSplit, split(t, p));
    if (t[4] - t[0] <= 2) continue;
    slow++;
    let phase = 0;
    for (let p = 1; p < 4; p++) if (t[p + 1] - t[p] > t[phase + 1] - t[phase]) phase = p;
    slowPhases.set(phases[phase], (slowPhases.get(phases[phase]) ?? 0) + 1);
    const parts = split(t, phase);
    add(slowSplit, parts);
    if (parts) {
      const most = ["in", "server", "out"][parts.indexOf(Math.max(...parts))];
      dominant.set(most, (dominant.get(most) ?? 0) + 1);
    }
    const from = t[phase] - 1;
    const to = t[phase + 1] + 1;
    const overlaps = (s: Stall) => s.end >= from && s.start <= to;
    const pause = longest(roundPauses.filter(overlaps));
    const gap = longest(roundGaps.filter(overlaps));
    const cause = pause && pause.end - pause.start >= 0.5
      ? `GC ${pause.what}`
      : gap
      ? `loop gap (${gap.what}, ${gap.end - gap.start >= 5 ? ">=5" : "<5"} ms)`
      : "nothing seen in the server";
    causes.set(cause, (causes.get(cause) ?? 0) + 1);
    slowest.push({
      ms: t[4] - t[0],
      text: `${(t[4] - t[0]).toFixed(1)} ms at +${(t[0] - first).toFixed(0)} ms (${phases[phase]} ${
        (t[phase + 1] - t[phase]).toFixed(1)
      }${parts ? `: in ${parts.map((v) => v.toFixed(1)).join(" / ")} out` : ""}; ${
        pause
          ? `GC ${pause.what} ${(pause.end - pause.start).toFixed(1)}`
          : gap
          ? `gap ${(gap.end - gap.start).toFixed(1)} ran ${gap.ran!.toFixed(1)} waited ${
            gap.waited!.toFixed(1)
          }`
          : "-"
      })`,
    });
  }
  slowest.sort((a, b) => b.ms - a.ms);
  const sum = (stalls: Stall[], of = (s: Stall) => s.end - s.start) =>
    stalls.reduce((total, s) => total + of(s), 0);
  const max = (stalls: Stall[]) => stalls.reduce((m, s) => Math.max(m, s.end - s.start), 0);
  const kinds = new Map<string, Stall[]>();
  for (const p of roundPauses) kinds.set(p.what, [...(kinds.get(p.what) ?? []), p]);
  const list = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
  const means = (sums: number[]) =>
    sums[3] === 0 ? "-" : sums.slice(0, 3).map((v) => (v / sums[3]).toFixed(3)).join(" / ");
  return [
    `  ${slow} transactions over 2 ms; slowest reply ${list(slowPhases)}; ` +
    `during: ${list(causes) || "-"}`,
    `  slowest: ${slowest.slice(0, 8).map((t) => t.text).join(", ")}`,
    `  a reply's wait, mean ms in (client write to server read) / server (read to write) / ` +
    `out (write to client read): all ${means(allSplit)}; slowest of the slow ${
      means(slowSplit)
    } (mostly ${list(dominant) || "-"})`,
    `  in the round (${(last - first).toFixed(0)} ms): GC pauses ` +
    ([...kinds].map(([k, v]) =>
      `${v.length} ${k} (${sum(v).toFixed(1)} ms, max ${max(v).toFixed(2)})`
    ).join(", ") || "none") +
    `; loop gaps >= 1.5 ms ${roundGaps.length} (${sum(roundGaps).toFixed(1)} ms, max ${
      max(roundGaps).toFixed(1)
    }; thread ran ${sum(roundGaps, (s) => s.ran!).toFixed(1)} ms, waited for a core ${
      sum(roundGaps, (s) => s.waited!).toFixed(1)
    } ms, slept ${
      sum(roundGaps, (s) => s.end - s.start - s.ran! - s.waited!).toFixed(1)
    } ms; >= 5 ms: ${
      list(
        roundGaps.filter((s) => s.end - s.start >= 5).reduce(
          (m, s) => m.set(s.what, (m.get(s.what) ?? 0) + 1),
          new Map<string, number>(),
        ),
      ) || "none"
    })`,
  ].join("\n");
}

/**
 * A minimal SMTP sink on Deno (the role of Postfix's smtp-sink): a fixed reply per command
 * line, message data only searched for its end. What Deno's sockets cost on this machine
 * now, the floor the server's figures compare with.
 */
const SINK = `
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.env.get("SMTP_PORT")) });
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const replies = { DATA: encoder.encode("354 go\\r\\n"), QUIT: encoder.encode("221 bye\\r\\n") };
const ok = encoder.encode("250 2.0.0 OK\\r\\n");
async function serve(conn) {
  conn.setNoDelay(true);
  await conn.write(encoder.encode("220 sink ESMTP\\r\\n"));
  const buffer = new Uint8Array(65536);
  let data = false;
  let text = "";
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += latin1.decode(buffer.subarray(0, n));
    const out = [];
    while (true) {
      if (data) {
        const end = text.indexOf("\\r\\n.\\r\\n");
        if (end < 0) break;
        text = text.slice(end + 5);
        data = false;
        out.push(ok);
        continue;
      }
      const lf = text.indexOf("\\n");
      if (lf < 0) break;
      const verb = text.slice(0, 4).toUpperCase();
      text = text.slice(lf + 1);
      out.push(replies[verb] ?? ok);
      if (verb === "DATA") text = "\\r\\n" + text;
      data = verb === "DATA";
    }
    for (const reply of out) await conn.write(reply);
  }
  conn.close();
}
for await (const conn of listener) serve(conn).catch(() => {});
`;

async function spawnSink(
  dir: string,
  env: Record<string, string>,
  denoFlags: readonly string[],
  stdoutFile?: string,
): Promise<{ pid: number; smtp: number; stop(): Promise<void> }> {
  const script = `${dir}/sink.ts`;
  await Deno.writeTextFile(script, SINK);
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, script],
    env: { ...env, SMTP_PORT: String(port) },
    stdin: "null",
    stdout: stdoutFile ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
  const output = stdoutFile ? child.stdout.pipeTo((await Deno.create(stdoutFile)).writable) : null;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return {
    pid: child.pid,
    smtp: port,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await output;
    },
  };
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

async function startup(runs: number, denoFlags: string[], idleAt: number[]): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-startup-" });
  const baseline = `${dir}/baseline.ts`;
  await Deno.writeTextFile(baseline, BASELINE);
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const measure = async (args: string[]) => {
    const times: number[] = [];
    const idle: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const run = await timeToGreeting(args);
      if (i > 0) { // the first run fills Deno's module cache
        times.push(run.ms);
        await new Promise((resolve) => setTimeout(resolve, 500));
        idle.push(memory(run.pid).rss);
      }
      await run.kill();
    }
    return { ms: median(times), idle: median(idle) };
  };
  try {
    const base = await measure(["run", "-A", baseline]);
    const server = await measure(["run", "-A", V8_FLAGS_ARGUMENT, ...denoFlags, MAIN]);
    console.log(
      `startup: spawn to 220 greeting, median of ${runs}: elektromail ${
        server.ms.toFixed(1)
      } ms, ` +
        `bare Deno listener ${base.ms.toFixed(1)} ms, difference ${
          (server.ms - base.ms).toFixed(1)
        } ms`,
    );
    console.log(
      `idle RSS, median: elektromail ${server.idle.toFixed(1)} MB (bare Deno listener ${
        base.idle.toFixed(1)
      } MB)`,
    );
    if (idleAt.length > 0) await idleOverTime([MAIN], denoFlags, idleAt);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * One more fresh server, left alone: its RSS (anonymous + file-backed, i.e. heap and malloc
 * vs the deno binary's pages it touched) at each of `seconds` after the greeting, so the
 * startup warm-up and what it leaves behind show.
 */
async function idleOverTime(args: string[], denoFlags: string[], seconds: number[]) {
  const run = await timeToGreeting(["run", "-A", V8_FLAGS_ARGUMENT, ...denoFlags, ...args]);
  const start = performance.now();
  const readings: string[] = [];
  try {
    for (const at of seconds) {
      await new Promise((resolve) => setTimeout(resolve, at * 1000 - (performance.now() - start)));
      const { rss, anon, file } = memory(run.pid);
      readings.push(
        `${at} s ${rss.toFixed(1)} MB (anon ${anon.toFixed(1)} + file ${file.toFixed(1)})`,
      );
    }
  } finally {
    await run.kill();
  }
  console.log(`idle RSS over time, after the greeting: ${readings.join(", ")}`);
}

if (import.meta.main) {
  const opts = options();
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);
  if (opts.startupRuns > 0) await startup(opts.startupRuns, opts.denoFlags, opts.idleAt);
  for (const store of opts.stores) await load(store, opts);
}
