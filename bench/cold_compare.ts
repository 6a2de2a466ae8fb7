/**
 * Issue 13's first-touch table against Dovecot 2.3 on this machine: runs
 * `bench/imap_load.ts --cold` (one fresh client process each time) against a fresh
 * Elektromail and a fresh Dovecot (mdbox, its own config and mail under `--dir`, wiped before
 * each run), alternating, and prints the median of each row per server.
 *
 * ```sh
 * apt-get install -y dovecot-imapd       # Debian's Dovecot 2.3; run as root
 * deno run -A bench/cold_compare.ts --runs 3
 * deno run -A bench/cold_compare.ts --runs 3 --no-dovecot   # Elektromail only
 * deno run -A bench/cold_compare.ts --dovecot-rows /tmp/dovecot.json  # Dovecot's runs saved
 *                                      # there the first time, read from there after that
 * deno run -A bench/cold_compare.ts --deno-flag=--v8-flags=--trace-gc  # flags for our server
 * deno run -A bench/cold_compare.ts --client python   # the same rows with bench/imap_cold.py
 * deno run -A bench/cold_compare.ts --save-runs /tmp/runs.json  # every run's rows, as JSON
 * deno run -A bench/cold_compare.ts --start-delay 3  # our server left alone 3 s before the client
 * deno run -A bench/cold_compare.ts --store sqlite   # our server on a new SQLite file each run
 * deno run -A bench/cold_compare.ts --client python --condstore  # as imapflow: CONDSTORE on
 * deno run -A bench/cold_compare.ts --client python --server-log /tmp/s \
 *   --deno-flag=--v8-flags=--trace-gc   # our server's stdout of run N in /tmp/s.N
 * ```
 *
 * `--client python` runs the stdlib-Python client of the same sequence (bench/imap_cold.py,
 * `--python` names the interpreter, default `python3`) over the same corpus bytes, written once
 * to a file (bench/write_corpus.ts). Each run starts a fresh Elektromail as imap_load.ts does
 * (bench/spawn.ts, the program's V8 flags) only once the client has loaded the corpus, so the
 * first connection comes at once, as with the Deno client; a second table gives the Python
 * client's own CPU time per row (it must stay small next to the server's).
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ColdRow } from "./imap_cold.ts";
import { median } from "./imap_client.ts";
import { spawnServer } from "./spawn.ts";
import { writeCorpus } from "./write_corpus.ts";

const LOAD = new URL("./imap_load.ts", import.meta.url).pathname;
const PYTHON_CLIENT = new URL("./imap_cold.py", import.meta.url).pathname;

/**
 * One cold run's rows, and the client's own CPU time per row when it reports it (the Python
 * client does).
 */
interface ColdResult {
  readonly rows: ColdRow[];
  readonly clientCpuMs?: (number | null)[];
}

/**
 * The client side of a run: given the arguments naming the server (`--connect`, `--user`,
 * `--server-pid` / `--cpu-process`), runs the cold sequence against it. `start` starts the
 * server when the client is ready and returns those arguments and how to stop it.
 */
type ColdClient = (start: () => Promise<ServerUnderTest>) => Promise<ColdResult>;

/** A started server, as a client's arguments name it. */
interface ServerUnderTest {
  readonly target: string[];
  stop(): Promise<void>;
}

/** The last stdout line of a client, parsed as its rows (JSON). */
function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** A Dovecot 2.3 config for one static user, no TLS, mdbox under `dir`. */
function dovecotConfig(dir: string, port: number): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = mdbox:${dir}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 100
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = password=pw
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
namespace inbox {
  inbox = yes
  separator = /
}
`;
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/** One `imap_load.ts --cold --json` run in its own process. */
async function coldRun(args: string[]): Promise<ColdRow[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LOAD, "--cold", "--json", ...args],
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`imap_load.ts ${args.join(" ")} failed`);
  return lastJson(new TextDecoder().decode(output.stdout));
}

/**
 * The Deno client (`imap_load.ts --cold`): the server is started first (the client loads its
 * corpus and warms its own code after that, as against Dovecot).
 */
function denoClient(args: string[]): ColdClient {
  return async (start) => {
    const server = await start();
    try {
      return { rows: await coldRun([...args, ...server.target]) };
    } finally {
      await server.stop();
    }
  };
}

/**
 * The Python client (bench/imap_cold.py `--target-from-stdin`): it loads the corpus file and
 * says `ready`; only then is the server started and named to it on its stdin.
 */
function pythonClient(python: string, args: string[]): ColdClient {
  return async (start) => {
    const child = new Deno.Command(python, {
      args: [PYTHON_CLIENT, "--json", "--target-from-stdin", ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    const read = async () => {
      const { value, done } = await reader.read();
      stdout += value ?? "";
      return !done;
    };
    let server: ServerUnderTest | null = null;
    try {
      while (!stdout.startsWith("ready\n")) {
        if (!await read()) throw new Error(`imap_cold.py exited before it was ready`);
      }
      server = await start();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(server.target.join(" ") + "\n"));
      await writer.close();
      while (await read()) { /* the rest of stdout */ }
      if (!(await child.status).success) throw new Error(`imap_cold.py ${args.join(" ")} failed`);
    } catch (error) {
      try {
        child.kill("SIGTERM");
      } catch { /* it has exited */ }
      throw error;
    } finally {
      await server?.stop();
    }
    const lines = stdout.trim().split("\n");
    const { clientCpuMs } = JSON.parse(lines[lines.length - 2]);
    return { rows: lastJson(stdout), clientCpuMs };
  };
}

/** A fresh Elektromail, started as imap_load.ts starts one (bench/spawn.ts). */
async function startElektromail(
  denoFlags: readonly string[],
  delaySeconds: number,
  store: string,
  logFile?: string,
): Promise<ServerUnderTest> {
  // --store sqlite: a new database file each run (imap_load.ts does the same for the Deno client).
  const dbDir = store === "sqlite" ? await Deno.makeTempDir() : null;
  const env: Record<string, string> = dbDir ? { ELEKTROMAIL_DB: `${dbDir}/bench.db` } : {};
  const server = await spawnServer(env, denoFlags, logFile);
  // As imap_load.ts --start-delay: its startup warm-up over before the first connection.
  await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
  return {
    target: ["--connect", `127.0.0.1:${server.imap}`, "--server-pid", String(server.pid)],
    stop: async () => {
      await server.stop();
      if (dbDir) await Deno.remove(dbDir, { recursive: true });
    },
  };
}

/** Starts a fresh Dovecot (empty mail) for one run of `client`. */
function dovecotRun(
  binary: string,
  dir: string,
  port: number,
  client: ColdClient,
): Promise<ColdResult> {
  return client(() => startDovecot(binary, dir, port));
}

/** Starts a fresh Dovecot (empty mail, its own config under `dir`) and waits for its port. */
async function startDovecot(binary: string, dir: string, port: number): Promise<ServerUnderTest> {
  await Deno.remove(`${dir}/mail`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/mail`, { recursive: true });
  // The mail processes run as the dovecot user (mail_uid).
  const chown = await new Deno.Command("chown", { args: ["dovecot:dovecot", `${dir}/mail`] })
    .output();
  if (!chown.success) throw new Error(`Cannot chown ${dir}/mail to dovecot`);
  await Deno.writeTextFile(`${dir}/dovecot.conf`, dovecotConfig(dir, port));
  const child = new Deno.Command(binary, {
    args: ["-F", "-c", `${dir}/dovecot.conf`],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  try {
    await waitForPort(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    target: ["--connect", `127.0.0.1:${port}`, "--user", "u", "--cpu-process", `imap@${child.pid}`],
    stop,
  };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      messages: { type: "string", default: "5000" },
      logins: { type: "string", default: "200" },
      dovecot: { type: "boolean", default: true },
      "dovecot-binary": { type: "string", default: "/usr/sbin/dovecot" },
      "deno-flag": { type: "string", multiple: true, default: [] },
      "start-delay": { type: "string", default: "0" },
      dir: { type: "string", default: "/tmp/elektromail-cold-dovecot" },
      port: { type: "string", default: "14243" },
      "dovecot-rows": { type: "string" },
      client: { type: "string", default: "deno" },
      python: { type: "string", default: "python3" },
      "save-runs": { type: "string" },
      "server-log": { type: "string" },
      store: { type: "string", default: "memory" },
      condstore: { type: "boolean", default: false },
    },
    allowNegative: true,
  });
  if (values.client !== "deno" && values.client !== "python") {
    throw new Error(`Cannot run client ${values.client}: it is deno or python`);
  }
  if (values.condstore && values.client !== "python") {
    throw new Error("--condstore is bench/imap_cold.py's: add --client python");
  }
  const args = ["--messages", values.messages, "--logins", values.logins];
  const ours: ColdRow[][] = [];
  const theirs: ColdRow[][] = [];
  /** The client's own CPU per row (Python client), against each server. */
  const ownCpu: { ours: (number | null)[][]; theirs: (number | null)[][] } = {
    ours: [],
    theirs: [],
  };
  // The Python client sends the Deno client's corpus, from a file written once.
  const corpusFile = values.client === "python" ? await Deno.makeTempFile() : null;
  if (corpusFile) await writeCorpus(corpusFile, Number(values.messages));
  const pythonArgs = [
    ...args,
    ...["--corpus", corpusFile ?? ""],
    ...(values.condstore ? ["--condstore"] : []),
  ];
  // --dovecot-rows FILE: Dovecot's runs are read from FILE when it exists (written after a
  // run otherwise), so Elektromail's figures can be compared again without running Dovecot.
  const saved = values["dovecot-rows"];
  const reuse = saved !== undefined && await Deno.stat(saved).then(() => true, () => false);
  if (reuse) theirs.push(...JSON.parse(await Deno.readTextFile(saved!)));
  if (values.store !== "memory" && values.store !== "sqlite") {
    throw new Error(`Cannot run store ${values.store}: it is memory or sqlite`);
  }
  const ourArgs = [
    ...args,
    ...["--store", values.store],
    ...values["deno-flag"].map((flag) => `--deno-flag=${flag}`),
    ...["--start-delay", values["start-delay"]],
  ];
  const loads: number[] = [];
  try {
    for (let run = 0; run < Number(values.runs); run++) {
      // Alternating which goes first, so neither always meets the same moment of a noisy host.
      const order = run % 2 === 0 ? ["ours", "theirs"] : ["theirs", "ours"];
      for (const which of order) {
        loads.push(Deno.loadavg()[0]);
        if (which === "ours") {
          if (corpusFile) {
            const result = await pythonClient(values.python, pythonArgs)(() =>
              startElektromail(
                values["deno-flag"],
                Number(values["start-delay"]),
                values.store,
                values["server-log"] && `${values["server-log"]}.${run}`,
              )
            );
            ours.push(result.rows);
            ownCpu.ours.push(result.clientCpuMs ?? []);
          } else ours.push(await coldRun(ourArgs));
        } else if (values.dovecot && !reuse) {
          const client = corpusFile ? pythonClient(values.python, pythonArgs) : denoClient(args);
          const result = await dovecotRun(
            values["dovecot-binary"],
            values.dir,
            Number(values.port),
            client,
          );
          theirs.push(result.rows);
          ownCpu.theirs.push(result.clientCpuMs ?? []);
        }
      }
    }
  } finally {
    if (corpusFile) await Deno.remove(corpusFile);
  }
  if (saved !== undefined && !reuse) await Deno.writeTextFile(saved, JSON.stringify(theirs));
  // --save-runs FILE: every run's rows (not only the medians), to see how a row spreads.
  if (values["save-runs"]) {
    await Deno.writeTextFile(values["save-runs"], JSON.stringify({ ours, theirs, ownCpu }));
  }
  const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  console.log(
    `${values.client} client${values.condstore ? " with CONDSTORE" : ""}, ${values.store} store, ` +
      `${values.runs} runs each, medians, ` +
      `${navigator.hardwareConcurrency} CPUs, ${load}`,
  );
  console.log(
    "| command | Dovecot | Elektromail | ratio | Dovecot CPU | Elektromail CPU | CPU ratio |\n" +
      "| --- | --- | --- | --- | --- | --- | --- |",
  );
  ours[0].forEach(([label, text], row) => {
    const mine = median(ours.map((rows) => rows[row][2]));
    // JSON has no NaN: a row without a CPU figure comes back as null.
    const cpu = median(ours.map((rows) => rows[row][3] ?? NaN));
    const unit = text.replace(/^[\d.]+ /, "");
    const other = theirs.length > 0 && theirs[0][row]?.[0] === label
      ? median(theirs.map((rows) => rows[row][2]))
      : NaN;
    const digits = unit === "ms" ? 2 : 0;
    const ratio = Number.isNaN(other) ? "" : (mine / other).toFixed(2);
    const cell = (value: number) => Number.isNaN(value) ? "–" : `${value.toFixed(digits)} ${unit}`;
    const otherCpu = theirs.length > 0 && theirs[0][row]?.[0] === label
      ? median(theirs.map((rows) => rows[row][3] ?? NaN))
      : NaN;
    const cpuCell = (value: number) => Number.isNaN(value) ? "" : `${value.toFixed(2)} ms`;
    const cpuRatio = Number.isNaN(cpu) || Number.isNaN(otherCpu) ? "" : (cpu / otherCpu).toFixed(2);
    console.log(
      `| ${label} | ${cell(other)} | ${cell(mine)} | ${ratio} | ${cpuCell(otherCpu)} | ` +
        `${cpuCell(cpu)} | ${cpuRatio} |`,
    );
  });
  if (ownCpu.ours.length > 0) printClientCpu(ours[0], ownCpu);
}

/** The client's own CPU time per row (medians), against each server. */
function printClientCpu(
  rows: readonly ColdRow[],
  ownCpu: { ours: (number | null)[][]; theirs: (number | null)[][] },
): void {
  const cell = (runs: (number | null)[][], row: number) => {
    const value = runs.length > 0 ? median(runs.map((cpu) => cpu[row] ?? NaN)) : NaN;
    return Number.isNaN(value) ? "" : `${value.toFixed(2)} ms`;
  };
  console.log(
    "\nThe client's own CPU time (process_time) per row, medians:\n" +
      "| command | against Dovecot | against Elektromail |\n| --- | --- | --- |",
  );
  rows.forEach(([label], row) => {
    console.log(`| ${label} | ${cell(ownCpu.theirs, row)} | ${cell(ownCpu.ours, row)} |`);
  });
}

if (import.meta.main) await main();
