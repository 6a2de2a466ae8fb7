/**
 * What runs on each of the server's threads during the first commands after issue 13's APPEND
 * burst (round 14): starts a server with V8's lines unbuffered (`stdbuf -o0`'s preload, so
 * each line is stamped as V8 prints it), makes the login round trips and the burst as
 * `bench/imap_load.ts --cold` does, then at once SELECT INBOX, FETCH 1:* (UID FLAGS) and
 * STORE 1:* +FLAGS.SILENT (\Seen). For each command it prints its wall time and, per thread
 * (`comm:tid`), the CPU time and the time spent waiting for a CPU (run-queue delay), both from
 * /proc/<pid>/task/<tid>/schedstat (a running thread's counters lag by up to a scheduler tick);
 * then, per command, whether V8's incremental marking was on at its start and V8's events
 * during it, and the events from `--before` ms before the burst's end on, stamped in ms from
 * the burst's end.
 *
 * ```sh
 * POP3_PORT=0 HTTP_PORT=0 deno run -A bench/postburst_threads.ts \
 *   [--v8=--trace-gc-nvp,--trace-incremental-marking,--trace-opt] [--v8=<flag under test>] \
 *   [--before 20] [--raw] [--json]
 * ```
 *
 * `--before`: how many ms before the burst's end the event list starts; `--raw`: every line
 * of V8's output in that span too.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { warmClient } from "./client_warm_up.ts";
import { Client, rssMb } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { type Stamped, stamping } from "./burst_gc.ts";
import { spawnServer } from "./spawn.ts";

/** One thread's scheduler counters (ms): CPU time and time waiting on the run queue. */
interface ThreadTimes {
  readonly cpu: number;
  readonly wait: number;
}

/** Every thread's counters by `name:tid`. */
function threadTimes(pid: number): Map<string, ThreadTimes> {
  const result = new Map<string, ThreadTimes>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${task.name}`;
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      const [cpu, wait] = Deno.readTextFileSync(`${dir}/schedstat`).split(" ").map(Number);
      result.set(`${name}:${task.name}`, { cpu: cpu / 1e6, wait: wait / 1e6 });
    } catch { /* the thread ended */ }
  }
  return result;
}

/** The threads that ran or waited between two readings: `name:tid cpu/wait` (ms). */
function delta(before: Map<string, ThreadTimes>, after: Map<string, ThreadTimes>): string[] {
  const rows: [string, number, number][] = [];
  for (const [key, now] of after) {
    const then = before.get(key) ?? { cpu: 0, wait: 0 };
    const cpu = now.cpu - then.cpu;
    const wait = now.wait - then.wait;
    if (cpu > 0.02 || wait > 0.02) rows.push([key, cpu, wait]);
  }
  return rows.sort((a, b) => b[1] - a[1]).map(([key, cpu, wait]) =>
    `${key} ${cpu.toFixed(2)}/${wait.toFixed(2)}`
  );
}

/**
 * V8's events in one stamped line, shortened: a collection (`--trace-gc-nvp`: kind, pause and
 * reason), the start or end of incremental marking (`--trace-incremental-marking`, with the
 * V8 and global sizes against their limits), or a finished Maglev job (`--trace-opt`: the
 * function and the job's ms). Null for other lines.
 */
function event(text: string): string | null {
  const gc = /GC: \{"pause":([\d.]+),.*"gc":"(\w+)".*"reason":"([^"]*)"/.exec(text);
  if (gc) return `${gc[2]} ${gc[1]} ms (${gc[3]})`;
  const start =
    /\[IncrementalMarking\] Start \((\w+)\): .* v8: (\d+MB) \/ \d+MB \/ (\d+MB).* global: (\d+MB) \/ \d+MB \/ (\d+MB)/
      .exec(text);
  if (start) {
    return `marking start (${start[1]}) v8 ${start[2]}/${start[3]} global ${start[4]}/${start[5]}`;
  }
  if (/\[IncrementalMarking\] Stopping/.test(text)) return "marking done";
  const job = /completed compiling .*<JSFunction ([^ >]*).*took [\d.]+, ([\d.]+), [\d.]+ ms/.exec(
    text,
  );
  if (job) return `maglev ${job[1] || "(anonymous)"} ${job[2]} ms`;
  return null;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      logins: { type: "string", default: "200" },
      v8: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      before: { type: "string", default: "20" },
      raw: { type: "boolean", default: false },
    },
  });
  const corpus = Array.from({ length: Number(values.messages) }, (_, n) => corpusMessage(n));
  await warmClient();
  const lines: Stamped[] = [];
  const server = await spawnServer(
    // coreutils' stdbuf: V8 prints through C stdio, which this makes unbuffered.
    { LD_PRELOAD: "/usr/libexec/coreutils/libstdbuf.so", _STDBUF_O: "0" },
    values.v8.map((flags) => `--v8-flags=${flags}`),
    stamping(lines),
  );
  for (let i = 0; i < Number(values.logins); i++) {
    const login = await Client.connect(server.imap);
    await login.command("LOGIN bench pw");
    await login.command("LOGOUT");
    login.close();
  }
  const c = await Client.connect(server.imap);
  await c.command("LOGIN bench pw");
  const threadsAtStart = threadTimes(server.pid);
  const burstStart = performance.now();
  await c.appendAll("INBOX", corpus);
  const burstEnd = performance.now();
  const commands = ["SELECT INBOX", "FETCH 1:* (UID FLAGS)", "STORE 1:* +FLAGS.SILENT (\\Seen)"];
  const results: { command: string; startMs: number; ms: number; threads: string[] }[] = [];
  let before = threadTimes(server.pid);
  const burstThreads = delta(threadsAtStart, before);
  for (const command of commands) {
    const start = performance.now();
    await c.command(command);
    const end = performance.now();
    const after = threadTimes(server.pid);
    results.push({
      command,
      startMs: +(start - burstEnd).toFixed(2),
      ms: +(end - start).toFixed(3),
      threads: delta(before, after),
    });
    before = after;
  }
  const lastEnd = performance.now();
  const rss = rssMb(server.pid);
  await c.command("LOGOUT");
  c.close();
  await server.stop();
  const trace = lines.filter(({ at }) => at > burstEnd - Number(values.before) && at <= lastEnd + 1)
    .map(({ at, text }) => `${(at - burstEnd).toFixed(2)} ${text}`);
  // Each command's window with V8's events in it, and whether marking was on at its start.
  const events = lines.flatMap(({ at, text }) => {
    const what = event(text);
    return what ? [{ at: at - burstEnd, what }] : [];
  });
  const summary = results.map(({ command, startMs, ms }) => {
    const before = events.filter(({ at }) => at < startMs);
    const starts = before.filter(({ what }) => what.startsWith("marking start")).length;
    const ends = before.filter(({ what }) => / \(finalize|marking done/.test(what)).length;
    const marking = before.findLast(({ what }) => what.startsWith("marking"));
    return {
      command,
      ms,
      markingOn: marking?.what.startsWith("marking start") ?? false,
      markingStarts: starts,
      markingEnds: ends,
      during: events.filter(({ at }) => at >= startMs && at <= startMs + ms + 0.3)
        .map(({ at, what }) => `+${at.toFixed(2)} ${what}`),
    };
  });
  const result = {
    appendRate: Math.round(corpus.length / ((burstEnd - burstStart) / 1000)),
    threadCount: before.size,
    burstThreads,
    results,
    rssMb: +rss.toFixed(1),
    summary,
    trace,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `APPEND ${result.appendRate} msgs/s, ${result.threadCount} threads, RSS ${result.rssMb} MB`,
  );
  console.log(`burst (cpu/wait ms): ${burstThreads.join(", ")}`);
  for (const r of results) {
    console.log(`+${r.startMs} ${r.command}: ${r.ms} ms; ${r.threads.join(", ")}`);
  }
  for (const s of summary) {
    console.log(
      `${s.command}: ${s.ms} ms; marking ${s.markingOn ? "on" : "off"} at its start; ` +
        `events: ${s.during.join("; ") || "none"}`,
    );
  }
  const all = events.filter(({ at }) => at > -Number(values.before));
  for (const { at, what } of all) console.log(`${at.toFixed(2)} ${what}`);
  if (values.raw) { for (const line of trace) console.log(line); }
}

if (import.meta.main) await main();
