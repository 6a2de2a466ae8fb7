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
 * ```
 *
 * Each round runs `smtp-source -d -s <connections> -m <messages> -l <size>` (one message per
 * transaction, no pipelining, connections kept: `-d`) against Postfix's `smtp-sink` and then
 * against a fresh server per store (`deno run -A main.ts`), and prints messages per second
 * and the server's CPU per message (all its threads, from schedstat). A warm-up round of the
 * same size runs first on each server (`--warm-up N`: N messages instead), so the figures are the warm ones; the first-touch
 * figures are `cold_compare.ts`'s. Warm is not yet V8's top tier: the per-message functions
 * (lib/imap/warm.ts, lib/mail/*, lib/smtp/*) run Maglev code until some 16,000–20,000 messages,
 * when TurboFan takes them (`--trace-opt`); `--warm-up 20000` measures after that.
 * `--v8-flags=...` is added to the server's own (lib/v8_flags.ts) to compare V8 flags. Last, each store's median rate as a ratio to smtp-sink's,
 * beside issue 13's goal as the same ratio (the sink is the yardstick that moves with the
 * machine).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { cpuMs, median } from "./imap_client.ts";
import { spawnServer } from "./spawn.ts";

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
    },
  });
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
  };
}

/** Runs smtp-source once against `port`; returns the wall time in seconds. */
async function source(port: number, opts: Options, messages = opts.messages): Promise<number> {
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
  return (performance.now() - started) / 1000;
}

interface Running {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
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
  const server = await spawnServer(env, opts.denoFlags);
  return { pid: server.pid, port: server.smtp, stop: () => server.stop() };
}

async function main(): Promise<void> {
  const opts = options();
  console.log(
    `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; smtp-source -d -s ${opts.connections} -m ${opts.messages} -l ${opts.size}; warm-up ${opts.warmUp} messages${
      opts.denoFlags.length ? `; server ${opts.denoFlags.join(" ")}` : ""
    }`,
  );
  const rates = new Map<Target, number[]>();
  for (const target of opts.targets) {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-source-" });
    const running = await start(target, dir, opts);
    try {
      if (opts.warmUp > 0) await source(running.port, opts, opts.warmUp);
      for (let round = 0; round < opts.rounds; round++) {
        const before = cpuMs(running.pid);
        const seconds = await source(running.port, opts);
        const cpu = cpuMs(running.pid) - before;
        rates.set(target, [...rates.get(target) ?? [], opts.messages / seconds]);
        console.log(
          `${target.padEnd(6)} ${Math.round(opts.messages / seconds)} msgs/s, server CPU ${
            (cpu * 1000 / opts.messages).toFixed(0)
          } µs/msg`,
        );
      }
    } finally {
      await running.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }
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
