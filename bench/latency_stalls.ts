/**
 * Why SMTP transactions stall: runs bench/smtp_latency.c (with `DUMP`, one line a transaction)
 * against a fresh server, groups the transactions over `--threshold` ms that overlap in time
 * (with four connections on one event loop, a stall is nearly always all four at once) and says
 * for each group what the server's threads and the client were doing meanwhile.
 *
 * ```sh
 * deno run -A bench/latency_stalls.ts                       # one round of 2,000, memory store
 * deno run -A bench/latency_stalls.ts --store sqlite --server-log /tmp/server.txt  # all its lines
 * deno run -A bench/latency_stalls.ts --perf --top 8         # with the scheduler's view (root)
 * deno run -A bench/latency_stalls.ts --rounds 2 --round 2 --v8-flags=--turbofan
 * deno run -A bench/latency_stalls.ts --start-delay 3 --script dist/bundle/main.js
 * ```
 *
 * Always: V8's `--trace-gc` lines (the server line-buffered by `stdbuf -oL` when it is there),
 * stamped as they arrive and placed on the client's clock
 * (CLOCK_MONOTONIC; the client's first dump line pairs it with the wall clock), so a group
 * shows the scavenges and mark-compacts inside it; and how many slow transactions came in the
 * round's first 60 ms (cold code) and after. With `--perf` (Linux `perf`, root or
 * `perf_event_paranoid` ≤ 1), `perf record -e sched:sched_switch -e sched:sched_wakeup -a -k
 * mono` runs over the round, and each group gets: the main (JavaScript) thread's time on a
 * CPU, preempted (and by whom) and asleep (the event loop waiting for input; "in D": in the
 * kernel's uninterruptible sleep instead, a disk wait or a file system lock); the CPU time of
 * the server's other threads (V8's workers: compiler jobs, concurrent marking); and how long
 * the client, woken by a reply, waited for a CPU. Issue 13 round 10 found this way that the
 * first round's stalls are V8 tier-up on a 2-core host: the main thread preempted by V8's
 * compiler threads, the client left runnable for up to 3.7 ms behind them while the main
 * thread's core idled, and, in the first 60 ms, code not yet compiled.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { buildLatencyClient } from "./smtp_source.ts";
import { spawnServer } from "./spawn.ts";

/** Whether coreutils' `stdbuf` is on the PATH. */
async function hasStdbuf(): Promise<boolean> {
  try {
    return (await new Deno.Command("stdbuf", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** One transaction of the dump: its connection, start (CLOCK_MONOTONIC ms) and latency (ms). */
interface Transaction {
  conn: number;
  start: number;
  ms: number;
}

/** Overlapping slow transactions: from the first one's start to the last one's end. */
interface Stall {
  from: number;
  to: number;
  latencies: number[];
}

/** A line of the server's standard output and when it came (CLOCK_MONOTONIC ms). */
interface Stamped {
  at: number;
  text: string;
}

/** A thread on a CPU from `from` to `to`; `state` is how it left (`R`: preempted). */
interface Run {
  tid: string;
  comm: string;
  from: number;
  to: number;
  state: string;
  next: string;
}

/** The client woken at `at`, running again at `ran`. */
interface Wake {
  at: number;
  ran: number;
}

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "2000" },
      connections: { type: "string", default: "4" },
      size: { type: "string", default: "2200" },
      rounds: { type: "string", default: "1" },
      round: { type: "string" },
      threshold: { type: "string", default: "2" },
      top: { type: "string", default: "12" },
      store: { type: "string", default: "memory" },
      "start-delay": { type: "string", default: "0" },
      "v8-flags": { type: "string" },
      script: { type: "string" },
      perf: { type: "boolean", default: false },
      "server-log": { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  return {
    messages: Number(values.messages),
    connections: Number(values.connections),
    size: Number(values.size),
    rounds,
    /** The round analysed (1-based); the last by default. */
    round: Number(values.round ?? rounds),
    threshold: Number(values.threshold),
    top: Number(values.top),
    sqlite: values.store === "sqlite",
    startDelay: Number(values["start-delay"]),
    v8Flags: values["v8-flags"] ?? null,
    script: values.script ?? null,
    perf: values.perf,
    /** Where to write every line of the server's output, stamped on the round's clock. */
    serverLog: values["server-log"] ?? null,
  };
}

/** Parses the client's dump: the clock pair and the transactions. */
export function parseDump(text: string): { monoMinusReal: number; transactions: Transaction[] } {
  let monoMinusReal = NaN;
  const transactions: Transaction[] = [];
  for (const line of text.split("\n")) {
    const clock = /^# clock (\S+) (\S+)$/.exec(line);
    if (clock) monoMinusReal = Number(clock[1]) - Number(clock[2]);
    const tx = /^(\d+) (\S+) (\S+)$/.exec(line);
    if (tx) transactions.push({ conn: Number(tx[1]), start: Number(tx[2]), ms: Number(tx[3]) });
  }
  transactions.sort((a, b) => a.start - b.start);
  return { monoMinusReal, transactions };
}

/** Groups the transactions slower than `threshold` ms that overlap in time. */
export function stalls(transactions: readonly Transaction[], threshold: number): Stall[] {
  const groups: Stall[] = [];
  for (const { start, ms } of transactions) {
    if (ms <= threshold) continue;
    const last = groups.at(-1);
    if (last && start < last.to) {
      last.to = Math.max(last.to, start + ms);
      last.latencies.push(ms);
    } else {
      groups.push({ from: start, to: start + ms, latencies: [ms] });
    }
  }
  return groups;
}

/** A writable stream that stamps each line with the wall clock (ms) as it comes. */
function stamping(lines: Stamped[]): WritableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let rest = "";
  return new WritableStream({
    write(chunk) {
      const now = performance.timeOrigin + performance.now();
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) lines.push({ at: now, text });
    },
  });
}

/**
 * The GC lines of `--trace-gc` on the client's clock. V8 stamps them with ms since the
 * isolate started; the smallest gap between that and the arrival is the offset (the lines
 * arrive a little after, never before).
 */
function gcEvents(lines: readonly Stamped[], monoMinusReal: number): Stamped[] {
  const parsed = lines.flatMap(({ at, text }) => {
    const match = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (.*)$/.exec(text);
    return match ? [{ at: at + monoMinusReal, v8: Number(match[1]), text: match[2] }] : [];
  });
  const offset = Math.min(...parsed.map(({ at, v8 }) => at - v8));
  return parsed.map(({ v8, text }) => ({ at: offset + v8 + 0.5, text: text.slice(0, 100) }));
}

/** Parses `perf script -F comm,tid,cpu,time,event,trace` output. */
export function parseSched(text: string, client: string): { runs: Run[]; wakes: Wake[] } {
  const runs: Run[] = [];
  const wakes: Wake[] = [];
  const current = new Map<string, { tid: string; comm: string; from: number }>();
  let woken: number | null = null;
  const header = /^\s*(.*?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+): sched:(\w+): (.*)$/;
  const switched =
    /prev_comm=(.*?) prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)/;
  for (const line of text.split("\n")) {
    const m = header.exec(line);
    if (!m) continue;
    const [, , , cpu, seconds, event, rest] = m;
    const at = Number(seconds) * 1000;
    if (event === "sched_wakeup") {
      const target = /comm=(.*?) pid=(\d+)/.exec(rest);
      if (target?.[2] === client) woken ??= at;
      continue;
    }
    const s = switched.exec(rest);
    if (!s) continue;
    const [, prevComm, prevTid, state, nextComm, nextTid] = s;
    const was = current.get(cpu);
    if (was) {
      runs.push({ tid: prevTid, comm: prevComm, from: was.from, to: at, state, next: nextComm });
    }
    current.set(cpu, { tid: nextTid, comm: nextComm, from: at });
    if (nextTid === client && woken !== null) {
      wakes.push({ at: woken, ran: at });
      woken = null;
    }
  }
  return { runs, wakes };
}

/** The overlap of [a, b) with [from, to), in ms. */
function overlap(a: number, b: number, from: number, to: number): number {
  return Math.max(0, Math.min(b, to) - Math.max(a, from));
}

/** What the scheduler saw in [from, to): per thread class, and the main thread's states. */
function schedulerView(
  runs: readonly Run[],
  wakes: readonly Wake[],
  from: number,
  to: number,
  pid: string,
  serverTids: ReadonlySet<string>,
): string {
  const busy = new Map<string, number>();
  const main = runs.filter((run) => run.tid === pid).sort((a, b) => a.from - b.from);
  let running = 0;
  let preempted = 0;
  let asleep = 0;
  /** Asleep in state D: a disk wait or a kernel lock (an fsync's, say), not the event loop's. */
  let blocked = 0;
  const preemptors = new Map<string, number>();
  for (const run of runs) {
    const ms = overlap(from, to, run.from, run.to);
    if (ms === 0) continue;
    const name = run.tid === pid
      ? "main"
      : serverTids.has(run.tid)
      ? run.comm.replace("V8 DefaultWorke", "V8 worker")
      : run.tid === "0"
      ? "idle"
      : run.comm;
    busy.set(name, (busy.get(name) ?? 0) + ms);
  }
  for (let i = 0; i < main.length; i++) {
    running += overlap(from, to, main[i].from, main[i].to);
    const gapEnd = main[i + 1]?.from ?? main[i].to;
    const gap = overlap(from, to, main[i].to, gapEnd);
    if (main[i].state.startsWith("R")) {
      preempted += gap;
      preemptors.set(main[i].next, (preemptors.get(main[i].next) ?? 0) + gap);
    } else {
      asleep += gap;
      if (main[i].state.startsWith("D")) blocked += gap;
    }
  }
  const waited = wakes.reduce((sum, wake) => sum + overlap(from, to, wake.at, wake.ran), 0);
  const longest = Math.max(
    0,
    ...wakes.filter((w) => w.ran > from && w.at < to).map((w) => w.ran - w.at),
  );
  const by = [...preemptors].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]).map((
    [who, ms],
  ) => `${who} ${ms.toFixed(1)}`);
  const cpu = [...busy].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([who, ms]) =>
    `${who} ${ms.toFixed(1)}`
  );
  return `    main: on a CPU ${running.toFixed(1)}, preempted ${preempted.toFixed(1)}${
    by.length ? ` (${by.join(", ")})` : ""
  }, asleep ${asleep.toFixed(1)} (in D ${blocked.toFixed(1)}); client waited for a CPU ${
    waited.toFixed(1)
  } (longest ${longest.toFixed(2)})\n    CPU ms: ${cpu.join(", ")}`;
}

async function main(): Promise<void> {
  const opts = options();
  const dir = await Deno.makeTempDir({ prefix: "elektromail-stalls-" });
  const program = await buildLatencyClient(dir);
  const lines: Stamped[] = [];
  const flags = [`--v8-flags=--trace-gc${opts.v8Flags ? `,${opts.v8Flags}` : ""}`];
  const server = await spawnServer(
    opts.sqlite ? { ELEKTROMAIL_DB: `${dir}/bench.db` } : {},
    flags,
    stamping(lines),
    opts.script ? new URL(`../${opts.script}`, import.meta.url).pathname : undefined,
    // Piped, the server's standard output is written in 4 KB blocks: V8's GC lines came late
    // and were placed in the wrong groups (round 17). Line-buffered, each comes as written.
    await hasStdbuf() ? ["stdbuf", "-oL"] : [],
  );
  let perf: Deno.ChildProcess | null = null;
  let serverTids = new Set<string>();
  let dump = "";
  try {
    await new Promise((resolve) => setTimeout(resolve, opts.startDelay * 1000));
    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.perf && round === opts.round) {
        perf = new Deno.Command("perf", {
          args: [
            "record",
            "-q",
            "-e",
            "sched:sched_switch",
            "-e",
            "sched:sched_wakeup",
            "-a",
            "-k",
            "mono",
            "-o",
            `${dir}/perf.data`,
          ],
          stdout: "null",
          stderr: "null",
        }).spawn();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const client = new Deno.Command(program, {
        args: [
          "127.0.0.1",
          String(server.smtp),
          String(opts.connections),
          String(opts.messages),
          String(opts.size),
        ],
        env: { DUMP: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (round === opts.round) {
        serverTids = new Set([...Deno.readDirSync(`/proc/${server.pid}/task`)].map((t) => t.name));
      }
      const { stdout, stderr } = await client.output();
      console.log(`round ${round}: ${new TextDecoder().decode(stdout).trim()}`);
      if (round === opts.round) dump = new TextDecoder().decode(stderr);
      if (perf && round === opts.round) {
        perf.kill("SIGINT");
        await perf.status;
      }
    }
  } finally {
    await server.stop();
  }
  const { monoMinusReal, transactions } = parseDump(dump);
  const t0 = transactions[0].start;
  const groups = stalls(transactions, opts.threshold);
  const gc = gcEvents(lines, monoMinusReal);
  const early = transactions.filter((t) => t.ms > opts.threshold && t.start - t0 < 60).length;
  if (opts.serverLog) {
    // Stamped as they arrived (a little after V8's own stamp), in ms from the round's start.
    await Deno.writeTextFile(
      opts.serverLog,
      lines.map(({ at, text }) => `${(at + monoMinusReal - t0).toFixed(1)} ${text}\n`).join(""),
    );
  }
  const late = transactions.filter((t) => t.ms > opts.threshold && t.start - t0 >= 60).length;
  console.log(
    `round ${opts.round}: ${transactions.length} transactions, ${
      early + late
    } over ${opts.threshold} ms ` +
      `(${early} started in the first 60 ms, ${late} after) in ${groups.length} groups; ` +
      `p99 is the ${Math.ceil(transactions.length / 100)}th slowest`,
  );
  let sched: { runs: Run[]; wakes: Wake[] } | null = null;
  if (perf) {
    const script = await new Deno.Command("perf", {
      args: ["script", "-i", `${dir}/perf.data`, "-F", "comm,tid,cpu,time,event,trace"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(script.stdout);
    const client = /^\s*smtp_latency\s+(\d+)/m.exec(text)?.[1] ?? "";
    sched = parseSched(text, client);
    const end = transactions.at(-1)!.start + transactions.at(-1)!.ms;
    console.log(`whole round (${(end - t0).toFixed(0)} ms):`);
    console.log(schedulerView(sched.runs, sched.wakes, t0, end, String(server.pid), serverTids));
  }
  const shown = [...groups].sort((a, b) =>
    b.latencies.length - a.latencies.length || b.to - b.from - (a.to - a.from)
  )
    .slice(0, opts.top).sort((a, b) => a.from - b.from);
  for (const group of shown) {
    console.log(
      `\nat ${(group.from - t0).toFixed(1)} ms, ${
        (group.to - group.from).toFixed(1)
      } ms: ${group.latencies.length} slow (${
        group.latencies.map((ms) => ms.toFixed(1)).join(" ")
      })`,
    );
    for (const { at, text } of gc) {
      if (at >= group.from - 1 && at <= group.to) {
        console.log(`    GC at ${(at - t0).toFixed(1)}: ${text}`);
      }
    }
    if (sched) {
      console.log(
        schedulerView(
          sched.runs,
          sched.wakes,
          group.from,
          group.to,
          String(server.pid),
          serverTids,
        ),
      );
    }
  }
  await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await main();
