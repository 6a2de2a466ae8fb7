/**
 * The V8 collections around issue 13's APPEND burst and the SELECT right after it: starts a
 * server with `--trace-gc-nvp`, makes `--logins` connect + LOGIN + LOGOUT round trips as
 * bench/imap_cold.ts does, APPENDs the corpus (pipelined), then at once SELECT INBOX
 * and FETCH 1:* (UID FLAGS), and prints each mark-compact from the burst's start on (its time
 * from the burst's last APPEND OK, its pause and evacuation), the scavenges' count and
 * total pause, and SELECT's wall and server CPU time. `--script` runs another checkout's
 * main.ts (an A/B against an old revision).
 *
 * Two limits of the figures (issue 13, round 11): V8 writes its lines through a buffered
 * stdout, so they are placed on this process's clock by the earliest-arriving one (a
 * collection's place is good to a few ms, and `near` and `pauseOnSelectMs` with it); and the
 * scheduler's CPU counter of a thread that is running when it is read lags by up to a tick,
 * so `selectCpuMs` and `selectThreads` of a sub-millisecond SELECT can exceed its wall time.
 *
 * ```sh
 * POP3_PORT=0 HTTP_PORT=0 deno run -A bench/burst_gc.ts [--messages 5000] [--logins 200] [--script ../old/main.ts] [--json]
 * BURST_GC_V8_FLAGS=--trace-incremental-marking deno run -A bench/burst_gc.ts --trace-file /tmp/gc.txt
 *   # more V8 flags for the server; every line of its output, stamped in ms from the burst's end
 * BURST_GC_DENO_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" deno run -A bench/burst_gc.ts
 *   # more `deno run` flags for the server
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client, cpuMs, rssMb } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { spawnServer } from "./spawn.ts";

/** Each thread's CPU time (ms, the scheduler's counter) by `name:tid`. */
function threadCpu(pid: number): Map<string, number> {
  const result = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${task.name}`;
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      const ns = Number(Deno.readTextFileSync(`${dir}/schedstat`).split(" ")[0]);
      result.set(`${name}:${task.name}`, ns / 1e6);
    } catch { /* the thread ended */ }
  }
  return result;
}

/**
 * The threads that ran between two {@linkcode threadCpu} readings, most first (ms). The
 * counter of a thread running at the reading lags by up to a scheduler tick.
 */
function busyThreads(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after].map(([key, ms]) => [key, ms - (before.get(key) ?? 0)] as const)
    .filter(([, ms]) => ms > 0.05).sort((a, b) => b[1] - a[1])
    .map(([key, ms]) => `${key}=${ms.toFixed(2)}`);
}

/** A line of the server's output and when it came (`performance.now()`). */
export interface Stamped {
  readonly at: number;
  readonly text: string;
}

/** A writable stream that stamps each line with `performance.now()` as it comes. */
export function stamping(lines: Stamped[]): WritableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let rest = "";
  return new WritableStream({
    write(chunk) {
      const now = performance.now();
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) lines.push({ at: now, text });
    },
  });
}

/** One `--trace-gc-nvp` record, placed on this process's clock (its end). */
interface GcRecord {
  readonly at: number;
  readonly kind: string;
  readonly pause: number;
  readonly evacuate: number;
  readonly promoted: number;
}

/**
 * The GC records on this process's clock: V8 stamps lines with ms since the isolate started;
 * the smallest gap between that and the arrival is the offset (lines arrive after, never
 * before).
 */
function gcRecords(lines: readonly Stamped[]): GcRecord[] {
  const parsed = lines.flatMap(({ at, text }) => {
    const match = /^\[\d+:0x[0-9a-f]+(?::\d+)?\]\s+(\d+) ms: GC: (\{.*\})$/.exec(text);
    return match ? [{ at, v8: Number(match[1]), json: JSON.parse(match[2]) }] : [];
  });
  const offset = Math.min(...parsed.map(({ at, v8 }) => at - v8));
  return parsed.map(({ v8, json }) => ({
    at: offset + v8 + json.pause,
    kind: json.gc,
    pause: json.pause,
    evacuate: json.evacuate ?? 0,
    promoted: json.promoted ?? 0,
  }));
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      script: { type: "string" },
      json: { type: "boolean", default: false },
      logins: { type: "string", default: "200" },
      "trace-file": { type: "string" },
    },
  });
  const corpus = Array.from({ length: Number(values.messages) }, (_, n) => corpusMessage(n));
  const lines: Stamped[] = [];
  const server = await spawnServer(
    {},
    [
      "--v8-flags=--trace-gc-nvp",
      ...(Deno.env.get("BURST_GC_V8_FLAGS")
        ? [`--v8-flags=${Deno.env.get("BURST_GC_V8_FLAGS")}`]
        : []),
      ...(Deno.env.get("BURST_GC_DENO_FLAGS")?.split(" ").filter((flag) => flag !== "") ?? []),
    ],
    stamping(lines),
    values.script ? new URL(values.script, `file://${Deno.cwd()}/`).pathname : undefined,
  );
  // As bench/imap_cold.ts: connect + LOGIN + LOGOUT round trips first, then the burst on one
  // connection.
  for (let i = 0; i < Number(values.logins); i++) {
    const login = await Client.connect(server.imap);
    await login.command("LOGIN bench pw");
    await login.command("LOGOUT");
    login.close();
  }
  const c = await Client.connect(server.imap);
  await c.command("LOGIN bench pw");
  const burstStart = performance.now();
  await c.appendAll("INBOX", corpus);
  const burstEnd = performance.now();
  // The server's clock at the burst's end (its `performance.timeOrigin` differs from ours):
  // where a --cpu-prof profile's SELECT is.
  const burstEndEpochMs = performance.timeOrigin + burstEnd;
  const cpuBefore = cpuMs(server.pid);
  const threadsBefore = threadCpu(server.pid);
  await c.command("SELECT INBOX");
  const selectEnd = performance.now();
  const selectCpu = cpuMs(server.pid) - cpuBefore;
  const selectThreads = busyThreads(threadsBefore, threadCpu(server.pid));
  await c.command("FETCH 1:* (UID FLAGS)");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rss = rssMb(server.pid);
  await c.command("LOGOUT");
  c.close();
  await server.stop();
  if (values["trace-file"]) {
    // The raw lines on this process's clock, from the burst's end (ms), for a closer look.
    const text = lines.map(({ at, text }) => `${(at - burstEnd).toFixed(1)} ${text}`).join("\n");
    await Deno.writeTextFile(values["trace-file"], text);
  }
  const records = gcRecords(lines).filter((r) => r.at >= burstStart);
  const marks = records.filter((r) => r.kind !== "s" && r.kind !== "mms");
  const during = records.filter((r) => r.kind === "s" && r.at <= burstEnd);
  const onSelect = marks.filter((r) => r.at > burstEnd && r.at - r.pause < selectEnd);
  const result = {
    appendRate: Math.round(corpus.length / ((burstEnd - burstStart) / 1000)),
    selectMs: +(selectEnd - burstEnd).toFixed(3),
    selectCpuMs: +selectCpu.toFixed(3),
    /** The server's threads that ran during SELECT, with their CPU time (ms). */
    selectThreads,
    markCompacts: marks.map((r) => ({
      atMs: Math.round(r.at - burstEnd),
      pause: r.pause,
      evacuate: r.evacuate,
      promotedKb: Math.round(r.promoted / 1024),
    })),
    markCompactPauseMs: +marks.reduce((sum, r) => sum + r.pause, 0).toFixed(2),
    pauseOnSelectMs: +onSelect.reduce((sum, r) => sum + r.pause, 0).toFixed(2),
    /** Every collection ending from 20 ms before the last APPEND OK to SELECT's reply. */
    near: records.filter((r) => r.at > burstEnd - 20 && r.at - r.pause < selectEnd).map((r) =>
      `${r.kind}@${(r.at - burstEnd).toFixed(1)}:${r.pause}`
    ),
    scavengesDuringBurst: during.length,
    scavengeMsDuringBurst: +during.reduce((sum, r) => sum + r.pause, 0).toFixed(1),
    rssMb: +rss.toFixed(1),
    burstEndEpochMs: Math.round(burstEndEpochMs),
    /** This process's clock (`performance.now()`) at the burst's end and SELECT's reply. */
    clientBurstEnd: +burstEnd.toFixed(1),
    clientSelectEnd: +selectEnd.toFixed(1),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `APPEND ${result.appendRate} msgs/s; SELECT ${result.selectMs} ms (server CPU ` +
        `${result.selectCpuMs} ms, GC pause on it ${result.pauseOnSelectMs} ms); RSS ${result.rssMb} MB`,
    );
    console.log(
      `scavenges during the burst: ${result.scavengesDuringBurst}, ${result.scavengeMsDuringBurst} ms`,
    );
    for (const m of result.markCompacts) {
      console.log(
        `mark-compact at ${m.atMs} ms from the last APPEND OK: pause ${m.pause} ms, ` +
          `evacuate ${m.evacuate} ms, promoted ${m.promotedKb} KB`,
      );
    }
  }
}

if (import.meta.main) await main();
