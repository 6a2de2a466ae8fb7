/**
 * SMTP throughput with Postfix's `smtp-source` as the client, the measurement issue 13's
 * SMTP line was taken with: a C client costs far less CPU than the Deno one in
 * `smtp_load.ts`, so on a 2-core machine the server, not the client, sets the rate.
 *
 * ```sh
 * apt-get install postfix        # smtp-source and smtp-sink (nothing is started)
 * deno run -A bench/smtp_source.ts                      # 2,000 msgs, 4 connections, 3 rounds
 * deno run -A bench/smtp_source.ts --messages 10000 --rounds 5 --store memory
 * deno run -A bench/smtp_source.ts --store memory --warm-up 20000   # after V8's TurboFan tier-up
 * deno run -A bench/smtp_source.ts --store memory --v8-flags=--invocation-count-for-turbofan=500
 * deno run -A bench/smtp_source.ts --client latency --warm-up 0 --rounds 5   # latency, fresh server
 * deno run -A bench/smtp_source.ts --bundle   # the server as `deno task start` runs it
 * ```
 *
 * Each round runs `smtp-source -d -s <connections> -m <messages> -l <size>` (one message per
 * transaction, no pipelining, connections kept: `-d`) against Postfix's `smtp-sink` and then
 * against a fresh server per store (`deno run -A main.ts`, as `deno run <URL>` and the Actions
 * script start it; `--bundle`: dist/bundle/main.js, as `deno task start` and the compiled
 * binary do), and prints messages per second
 * and the server's CPU per message (all its threads, from schedstat). A warm-up round of the
 * same size runs first on each server (`--warm-up N`: N messages instead), so the figures are the warm ones; the first-touch
 * figures are `cold_compare.ts`'s. The program runs V8 without TurboFan (lib/v8_flags.ts), so
 * warm is Maglev's code; with `--v8-flags=--turbofan` (V8's default) TurboFan takes the
 * per-message functions (lib/imap/warm.ts, lib/mail/*, lib/smtp/*) at some 16,000–20,000
 * messages (`--trace-opt`), which `--warm-up 20000` measures after.
 * `--v8-flags=...` is added to the server's own (lib/v8_flags.ts) to compare V8 flags. Last, each store's median rate as a ratio to smtp-sink's,
 * beside issue 13's goal as the same ratio (the sink is the yardstick that moves with the
 * machine).
 *
 * `--client latency` runs bench/smtp_latency.c instead (compiled with `cc -O2` into a temporary
 * directory): the same conversation, also in C, which also times each transaction (its `MAIL`
 * to the `250` after its data) and prints p50, p90, p99 and the longest. It is the tail as a
 * client that takes almost none of the two cores sees it; bench/smtp_load.ts's Deno client
 * adds its own JIT and GC to it. `--warm-up 0` measures a fresh server's first rounds, at once
 * or `--start-delay S` seconds after it started.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cpuMs, median } from "./imap_client.ts";
import { bundledMain, freePort, spawnServer } from "./spawn.ts";

type Target = "sink" | "memory" | "sqlite";

interface Options {
  messages: number;
  connections: number;
  size: number;
  rounds: number;
  /** Messages in the warm-up round. */
  warmUp: number;
  /** Extra `deno run` flags for the server (`--v8-flags=...`), none when empty. */
  denoFlags: string[];
  targets: Target[];
  /** Seconds between a server's start and its first client (its startup warm-up's time). */
  startDelay: number;
  /** `source`: Postfix's smtp-source; `latency`: bench/smtp_latency.c, which also times. */
  client: "source" | "latency";
  /** The server from the bundle `deno task start` runs (dist/bundle/main.js), not main.ts. */
  bundle: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "2000" },
      connections: { type: "string", default: "4" },
      size: { type: "string", default: "2200" },
      rounds: { type: "string", default: "3" },
      store: { type: "string", default: "all" },
      "warm-up": { type: "string" },
      "v8-flags": { type: "string" },
      client: { type: "string", default: "source" },
      "start-delay": { type: "string", default: "0" },
      bundle: { type: "boolean", default: false },
    },
  });
  const client = values.client;
  if (client !== "source" && client !== "latency") {
    throw new Error(`--client: source or latency, not ${client}`);
  }
  const store = values.store;
  const targets: Target[] = store === "all"
    ? ["sink", "memory", "sqlite"]
    : store === "sink" || store === "memory" || store === "sqlite"
    ? [store]
    : (() => {
      throw new Error(`--store: all, sink, memory or sqlite, not ${store}`);
    })();
  return {
    messages: Number(values.messages),
    connections: Number(values.connections),
    size: Number(values.size),
    rounds: Number(values.rounds),
    warmUp: Number(values["warm-up"] ?? values.messages),
    denoFlags: values["v8-flags"] ? [`--v8-flags=${values["v8-flags"]}`] : [],
    targets,
    client,
    startDelay: Number(values["start-delay"]),
    bundle: values.bundle,
  };
}

/** What one run of the client measured; the latencies only with `--client latency`. */
interface Run {
  seconds: number;
  /** Milliseconds: p50, p90, p99 and the longest transaction. */
  latency: { p50: number; p90: number; p99: number; max: number } | null;
}

/** Runs the client once against `port`: smtp-source, or the latency client built at `latency`. */
async function source(
  port: number,
  opts: Options,
  latency: string | null,
  messages = opts.messages,
): Promise<Run> {
  if (latency) return await timed(latency, port, opts, messages);
  const started = performance.now();
  const { code, stderr } = await new Deno.Command("smtp-source", {
    args: [
      "-d",
      "-s",
      String(opts.connections),
      "-m",
      String(messages),
      "-l",
      String(opts.size),
      "-f",
      "bench@source.test",
      "-t",
      "user@bench.test",
      `127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`smtp-source failed: ${new TextDecoder().decode(stderr)}`);
  return { seconds: (performance.now() - started) / 1000, latency: null };
}

/** Compiles bench/smtp_latency.c into `dir`; returns the program's path. */
export async function buildLatencyClient(dir: string): Promise<string> {
  const program = `${dir}/smtp_latency`;
  const { code, stderr } = await new Deno.Command("cc", {
    args: ["-O2", "-o", program, new URL("./smtp_latency.c", import.meta.url).pathname],
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`Cannot build smtp_latency.c: ${new TextDecoder().decode(stderr)}`);
  }
  return program;
}

/** Runs the latency client once and reads its line of figures. */
async function timed(program: string, port: number, opts: Options, messages: number): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args: [
      "127.0.0.1",
      String(port),
      String(opts.connections),
      String(messages),
      String(opts.size),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  const figures = /seconds (\S+) p50 (\S+) p90 (\S+) p99 (\S+) max (\S+)/.exec(text);
  if (code !== 0 || !figures) {
    throw new Error(`smtp_latency failed: ${text}${new TextDecoder().decode(stderr)}`);
  }
  const [seconds, p50, p90, p99, max] = figures.slice(1).map(Number);
  return { seconds, latency: { p50, p90, p99, max } };
}

interface Running {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

async function startSink(): Promise<Running> {
  const port = freePort();
  const child = new Deno.Command("smtp-sink", {
    // -u: smtp-sink refuses to run as root without a user to drop to.
    args: ["-u", "nobody", `127.0.0.1:${port}`, "1000"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return {
    pid: child.pid,
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function start(target: Target, dir: string, opts: Options): Promise<Running> {
  if (target === "sink") return await startSink();
  const env: Record<string, string> = target === "sqlite"
    ? { ELEKTROMAIL_DB: `${dir}/bench.db` }
    : {};
  const server = await spawnServer(
    env,
    opts.denoFlags,
    undefined,
    opts.bundle ? await bundledMain() : undefined,
  );
  return { pid: server.pid, port: server.smtp, stop: () => server.stop() };
}

async function main(): Promise<void> {
  const opts = options();
  console.log(
    `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; ${
      opts.client === "latency" ? "smtp_latency.c" : "smtp-source"
    } -d -s ${opts.connections} -m ${opts.messages} -l ${opts.size}; warm-up ${opts.warmUp} messages${
      opts.denoFlags.length ? `; server ${opts.denoFlags.join(" ")}` : ""
    }`,
  );
  const rates = new Map<Target, number[]>();
  const clientDir = await Deno.makeTempDir({ prefix: "elektromail-latency-" });
  const latency = opts.client === "latency" ? await buildLatencyClient(clientDir) : null;
  for (const target of opts.targets) {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-source-" });
    const running = await start(target, dir, opts);
    await new Promise((resolve) => setTimeout(resolve, opts.startDelay * 1000));
    try {
      if (opts.warmUp > 0) await source(running.port, opts, latency, opts.warmUp);
      for (let round = 0; round < opts.rounds; round++) {
        const before = cpuMs(running.pid);
        const { seconds, latency: times } = await source(running.port, opts, latency);
        const cpu = cpuMs(running.pid) - before;
        rates.set(target, [...rates.get(target) ?? [], opts.messages / seconds]);
        const tail = times
          ? `, latency p50 ${times.p50.toFixed(2)} p90 ${times.p90.toFixed(2)} p99 ${
            times.p99.toFixed(2)
          } max ${times.max.toFixed(2)} ms`
          : "";
        console.log(
          `${target.padEnd(6)} ${Math.round(opts.messages / seconds)} msgs/s, server CPU ${
            (cpu * 1000 / opts.messages).toFixed(0)
          } µs/msg${tail}`,
        );
      }
    } finally {
      await running.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
  await Deno.remove(clientDir, { recursive: true });
  const sink = rates.get("sink");
  if (!sink) return;
  for (const [target, goal] of GOALS) {
    const rate = rates.get(target);
    if (!rate) continue;
    const ratio = median(rate) / median(sink);
    console.log(
      `${target.padEnd(6)} median ${Math.round(median(rate))} msgs/s = ${
        ratio.toFixed(2)
      } of smtp-sink's ${Math.round(median(sink))} (issue 13's goal as a ratio: ${
        goal.toFixed(3)
      })`,
    );
  }
}

/**
 * Issue 13's SMTP goals as ratios to smtp-sink in the same run: 10,000 (memory) and 3,000
 * (SQLite) msgs/s where smtp-sink did 26,663 on the machine the issue was measured on.
 */
const GOALS: ReadonlyArray<[Target, number]> = [["memory", 10_000 / 26_663], [
  "sqlite",
  3_000 / 26_663,
]];

if (import.meta.main) await main();
