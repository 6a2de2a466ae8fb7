/**
 * Idle memory of a fresh server, as the README's idle figures (issue 13's goal, "idle RSS at
 * most 45 MB") are measured: the server starts as `deno task start` runs it (the bundle, built
 * first if stale; the program's V8 flags, every port 0, no update check: bench/spawn.ts), is left
 * `--wait` seconds after its banner with no connection, and then the `Rss:` lines of its
 * `/proc/<pid>/smaps` are summed, by mapping (bench/idle_pages.ts's parsing): the `deno` binary's
 * code (`r-xp`), its read-only data (`r--p`) and its writable data (`rw-p`), unnamed memory
 * (`[anon]`: V8's heap, thread stacks, glibc's thread arenas), malloc's main heap (`[heap]`), and
 * the rest (libraries, Deno's cache files that SQLite maps). `--runs` fresh servers one after the
 * other; with `--alternate PATH`, a second build's runs alternate with them (A/B/A/B).
 *
 * The first start of a new bundle (or of changed sources under `--main`) idled ~15 MB higher,
 * nearly all of it `[anon]` (round 15, a copy of the bundle under a new path: 66.2 MB, then 49.5
 * and 48.9). Round 15 took it for V8 writing its code cache; round 17 found it is Deno's
 * analysis of modules it has not seen, which the process keeps (the same with
 * `--no-code-cache`, and gone after a `deno cache` of the bundle), and scripts/bundle.ts now
 * runs that `deno cache` on each new bundle. And the first server a bench process starts idled
 * ~0.6 MB higher in `[heap]` than the next ones even with the code cache written (cause not
 * found; the same measurement from a shell script did not show it). So each script is started
 * once first and that start is printed but not counted (`--no-throwaway` counts every start).
 * The server's CPU time (all its threads, from `/proc/<pid>/task/<tid>/schedstat`) at the
 * measurement is printed beside it: the start, the warm-up and the idle seconds.
 *
 * ```sh
 * deno run -A bench/idle_rss.ts                                   # 3 fresh servers, the bundle
 * deno run -A bench/idle_rss.ts --env ELEKTROMAIL_SKIP_WARM_UP=1
 * deno run -A bench/idle_rss.ts --store sqlite                    # a new SQLite file each run
 * deno run -A bench/idle_rss.ts --runs 4 --alternate ../old/dist/bundle/main.js
 * deno run -A bench/idle_rss.ts --main --wait 10                  # `deno run main.ts`
 * deno run -A bench/idle_rss.ts --deno-flag=--no-code-cache       # flags for `deno run`
 * deno run -A bench/idle_rss.ts --new-deno-dir [--analyse]       # each start a first start
 * ```
 *
 * `--new-deno-dir` gives each start a `DENO_DIR` of its own, new and empty, as on a CI runner
 * that does not cache it: Deno then analyses every module it loads in the server's process,
 * which keeps that memory (issue 13, round 17: ~16 MB for the bundle, ~25 for `main.ts`).
 * `--analyse` first runs `deno cache` into it, as `deno task start` does for each new bundle
 * and the Actions script for `main.ts` (scripts/bundle.ts `analyse`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { rssByMapping } from "./idle_pages.ts";
import { cpuMs, median } from "./imap_client.ts";
import { bundledMain, spawnServer } from "./spawn.ts";
import { analyse } from "../scripts/bundle.ts";

/** The columns of a run's line, in order; every other mapping counts as `other`. */
const GROUPS = ["deno r-xp", "deno r--p", "deno rw-p", "[anon]", "[heap]", "other"] as const;

type Group = typeof GROUPS[number];

/** One measured server: RSS in MB, in all and by group, and its CPU time in ms. */
interface Sample {
  readonly total: number;
  readonly groups: Readonly<Record<Group, number>>;
  readonly cpu: number;
}

/** How a server is started: the script, and the environment it gets. */
interface Start {
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /**
   * `deno run` flags after the program's V8 flags (e.g. `--no-code-cache`; the server runs with
   * `--no-config` already: bench/spawn.ts).
   */
  readonly denoFlags: readonly string[];
  /** A new SQLite database in a temporary directory for each start. */
  readonly sqlite: boolean;
  readonly waitMs: number;
  /** A new, empty `DENO_DIR` for each start. */
  readonly newDenoDir: boolean;
  /** With {@linkcode newDenoDir}: `deno cache` the script into it first. */
  readonly analyse: boolean;
}

/** Folds {@linkcode rssByMapping}'s mappings into {@linkcode GROUPS}. */
function grouped(mappings: ReadonlyArray<[string, number]>): Record<Group, number> {
  const groups = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<Group, number>;
  for (const [name, mb] of mappings) {
    const group = (GROUPS as readonly string[]).includes(name) ? name as Group : "other";
    groups[group] += mb;
  }
  return groups;
}

/** Starts a server, leaves it idle, and reads its memory and CPU time before stopping it. */
async function measure(start: Start): Promise<Sample> {
  const dir = start.sqlite ? await Deno.makeTempDir({ prefix: "idle_rss" }) : null;
  const denoDir = start.newDenoDir ? await Deno.makeTempDir({ prefix: "idle_rss_deno" }) : null;
  const env = {
    ...start.env,
    ...(dir ? { ELEKTROMAIL_DB: `${dir}/idle.db` } : {}),
    ...(denoDir ? { DENO_DIR: denoDir } : {}),
  };
  try {
    if (denoDir && start.analyse) {
      const script = new URL(start.script, `file://${Deno.cwd()}/`);
      if (!await analyse(script, { DENO_DIR: denoDir })) throw new Error("deno cache failed");
    }
    const server = await spawnServer(env, start.denoFlags, undefined, start.script);
    try {
      await new Promise((resolve) => setTimeout(resolve, start.waitMs));
      const mappings = await rssByMapping(
        server.pid,
        await Deno.readLink(`/proc/${server.pid}/exe`),
      );
      const cpu = cpuMs(server.pid);
      const groups = grouped(mappings);
      const total = mappings.reduce((sum, [, mb]) => sum + mb, 0);
      return { total, groups, cpu };
    } finally {
      await server.stop();
    }
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true });
    if (denoDir) await Deno.remove(denoDir, { recursive: true });
  }
}

/** A run's line of the table. */
function row(label: string, run: string, sample: Sample): string {
  const groups = GROUPS.map((g) => sample.groups[g].toFixed(1));
  return `| ${label} | ${run} | ${sample.total.toFixed(1)} | ${groups.join(" | ")} | ${
    sample.cpu.toFixed(0)
  } |`;
}

/** `min–max (median m)` of a column's totals. */
function spread(samples: readonly Sample[]): string {
  const totals = samples.map((s) => s.total);
  return `${Math.min(...totals).toFixed(1)}–${Math.max(...totals).toFixed(1)} MB (median ${
    median(totals).toFixed(1)
  }, ${samples.length} runs)`;
}

/** `K=V` arguments as an environment. */
function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`Cannot read --env ${pair}: expected NAME=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      wait: { type: "string", default: "6" },
      script: { type: "string" },
      main: { type: "boolean", default: false },
      alternate: { type: "string" },
      env: { type: "string", multiple: true, default: [] },
      "deno-flag": { type: "string", multiple: true, default: [] },
      store: { type: "string", default: "memory" },
      "no-throwaway": { type: "boolean", default: false },
      "new-deno-dir": { type: "boolean", default: false },
      analyse: { type: "boolean", default: false },
    },
  });
  if (values.script !== undefined && values.main) {
    console.error("bench/idle_rss.ts: --script and --main name two scripts; give one");
    Deno.exit(2);
  }
  if (values.store !== "memory" && values.store !== "sqlite") {
    console.error(`bench/idle_rss.ts: --store is memory or sqlite, not ${values.store}`);
    Deno.exit(2);
  }
  let script = values.script;
  if (script === undefined) {
    script = values.main ? new URL("../main.ts", import.meta.url).pathname : await bundledMain();
  }
  const columns = [{ label: "A", script }];
  if (values.alternate !== undefined) columns.push({ label: "B", script: values.alternate });
  const env = parseEnv(values.env);
  const common = {
    env,
    denoFlags: values["deno-flag"],
    sqlite: values.store === "sqlite",
    waitMs: Number(values.wait) * 1000,
    newDenoDir: values["new-deno-dir"],
    analyse: values.analyse,
  };
  if (common.analyse && !common.newDenoDir) {
    console.error("bench/idle_rss.ts: --analyse goes with --new-deno-dir");
    Deno.exit(2);
  }
  const runs = Number(values.runs);

  console.log(
    `idle RSS, ${runs} fresh server(s) per script, ${values.wait} s after the banner, ` +
      `no connection; deno ${Deno.version.deno}; store ${values.store}` +
      (Object.keys(env).length > 0 ? `; env ${values.env.join(" ")}` : "") +
      (common.denoFlags.length > 0 ? `; deno run ${common.denoFlags.join(" ")}` : "") +
      (common.newDenoDir ? `; a new DENO_DIR each start${common.analyse ? ", analysed" : ""}` : ""),
  );
  for (const { label, script } of columns) console.log(`${label}: ${script}`);
  console.log(
    values["no-throwaway"]
      ? "every start counted (--no-throwaway): a script's first start writes V8's code cache"
      : "each script started once first, not counted (a first start writes V8's code cache)",
  );
  console.log(`| script | run | total MB | ${GROUPS.join(" | ")} | server CPU ms |`);
  console.log(`| --- | --- | --- |${GROUPS.map(() => " --- |").join("")} --- |`);
  if (!values["no-throwaway"]) {
    for (const { label, script } of columns) {
      console.log(row(label, "throwaway", await measure({ script, ...common })));
    }
  }
  const samples = columns.map(() => [] as Sample[]);
  for (let run = 1; run <= runs; run++) {
    for (const [c, { label, script }] of columns.entries()) {
      const sample = await measure({ script, ...common });
      samples[c].push(sample);
      console.log(row(label, String(run), sample));
    }
  }
  for (const [c, { label }] of columns.entries()) {
    console.log(`${label}: total ${spread(samples[c])}`);
  }
}
