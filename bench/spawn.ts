/**
 * Starts `main.ts` as a subprocess for the load benchmarks, with SMTP and IMAP on free ports,
 * and waits for the banner.
 *
 * @module
 */

import { V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";
import { bundle, BUNDLE_DIR } from "../scripts/bundle.ts";
import { startPermissions } from "../scripts/start_task.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * `deno run` checks for a newer Deno in the background (a tokio thread, ~1 s after the start:
 * a DNS lookup of dl.deno.land, then the download), once a day on a host that reaches it and
 * at every start on one that does not, such as the benchmark host. There it landed on the
 * first commands after issue 13's APPEND burst (0.4 ms of CPU and a DNS round trip at ~1 s, on
 * SELECT or the flags FETCH in every run; round 14, bench/postburst_threads.ts): the server is
 * measured without it, as `deno task start` and scripts/action-start.sh start it (the compiled
 * program has no update check). `BENCH_DENO_UPDATE_CHECK=1` leaves it on.
 */
const UPDATE_CHECK: Record<string, string> = Deno.env.get("BENCH_DENO_UPDATE_CHECK") === "1"
  ? {}
  : { DENO_NO_UPDATE_CHECK: "1" };

/**
 * The bundle `deno task start` runs (dist/bundle/main.js), built first if it is stale: the
 * `script` for {@linkcode spawnServer} when a benchmark measures the server as users start it.
 */
export async function bundledMain(): Promise<string> {
  await bundle();
  return new URL(`../${BUNDLE_DIR}/main.js`, import.meta.url).pathname;
}

/** A running server subprocess. */
export interface SpawnedServer {
  readonly pid: number;
  readonly smtp: number;
  readonly imap: number;
  /** Every listener in the banner by name (`SMTP`, `SMTPS`, `HTTP`, …). */
  readonly ports: Readonly<Record<string, number>>;
  /** The startup banner. */
  readonly banner: string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Variables for the server alone from `BENCH_SERVER_ENV` (`NAME=value` entries apart by
 * whitespace), e.g. `BENCH_SERVER_ENV=GLIBC_TUNABLES=glibc.malloc.hugetlb=1`: not the client's.
 */
function serverEnv(): Record<string, string> {
  const entries = (Deno.env.get("BENCH_SERVER_ENV") ?? "").split(/\s+/).filter(Boolean);
  return Object.fromEntries(entries.map((entry) => {
    const at = entry.indexOf("=");
    if (at <= 0) throw new Error(`BENCH_SERVER_ENV: expected NAME=value, got ${entry}`);
    return [entry.slice(0, at), entry.slice(at + 1)];
  }));
}

/**
 * Starts the server with `env` added to the environment, and the program's permissions and V8
 * flags as `deno task start` and the compiled binary have them (deno.json, lib/v8_flags.ts;
 * not `-A`, which allows what the program's own permissions do not); `denoFlags` go to
 * `deno run` after those, before the script (e.g. `--cpu-prof`, `--v8-flags=...`: several
 * `--v8-flags` add up). With `stdoutFile`, the server's standard output (e.g. V8's
 * `--trace-gc` lines) is written there: a file name, or a stream that takes it as it comes
 * (bench/latency_stalls.ts stamps each line). `script` is what runs: `main.ts`, or e.g. the
 * bundle `deno task start` runs. `launcher` runs `deno` through another command that execs it
 * (e.g. `["stdbuf", "-oL"]`: V8's trace lines then come as they are written, not in blocks of
 * a piped standard output); the pid is still the server's.
 */
export async function spawnServer(
  env: Record<string, string> = {},
  denoFlags: readonly string[] = [],
  stdoutFile?: string | WritableStream<Uint8Array>,
  script: string = MAIN,
  launcher: readonly string[] = [],
): Promise<SpawnedServer> {
  // --no-config as `deno task start` runs it: no deno.json read (~1.5-2 MB less idle).
  const args = [
    "run",
    "--no-config",
    ...startPermissions(),
    V8_FLAGS_ARGUMENT,
    ...denoFlags,
    script,
  ];
  const child = new Deno.Command(launcher[0] ?? Deno.execPath(), {
    args: launcher.length > 0 ? [...launcher.slice(1), Deno.execPath(), ...args] : args,
    // Free ports for every listener: other servers may hold the default ones.
    env: {
      SMTP_PORT: "0",
      IMAP_PORT: "0",
      POP3_PORT: "0",
      HTTP_PORT: "0",
      ...UPDATE_CHECK,
      ...serverEnv(),
      ...env,
    },
    stdin: "null",
    stdout: stdoutFile ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  const output = stdoutFile
    ? child.stdout.pipeTo(
      typeof stdoutFile === "string" ? (await Deno.create(stdoutFile)).writable : stdoutFile,
    )
    : null;
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ports: { smtp: number; imap: number } | null = null;
  while (!ports) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before listening:\n${text}`);
    text += value;
    const smtp = /SMTP\s+\S+:(\d+)/.exec(text);
    const imap = /IMAP\s+\S+:(\d+)/.exec(text);
    if (smtp && imap && /\n\s+logging /.test(text)) {
      ports = { smtp: Number(smtp[1]), imap: Number(imap[1]) };
    }
  }
  const all: Record<string, number> = {};
  for (const match of text.matchAll(/^\s+([A-Z][A-Z0-9]*)\s+\S+:(\d+)$/gm)) {
    all[match[1]] = Number(match[2]);
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    pid: child.pid,
    ...ports,
    ports: all,
    banner: text,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await output;
    },
  };
}

/** A port free now (the kernel's pick for a listener opened and closed at once). */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}
