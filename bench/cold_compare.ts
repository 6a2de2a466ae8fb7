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
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ColdRow } from "./imap_cold.ts";
import { median } from "./imap_client.ts";

const LOAD = new URL("./imap_load.ts", import.meta.url).pathname;

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
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Starts a fresh Dovecot (empty mail), runs the cold sequence against it, stops it. */
async function dovecotRun(binary: string, dir: string, port: number, args: string[]) {
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
  try {
    await waitForPort(port);
    return await coldRun([
      ...args,
      ...["--connect", `127.0.0.1:${port}`, "--user", "u", "--cpu-process", `imap@${child.pid}`],
    ]);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
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
      dir: { type: "string", default: "/tmp/elektromail-cold-dovecot" },
      port: { type: "string", default: "14243" },
      "dovecot-rows": { type: "string" },
    },
    allowNegative: true,
  });
  const args = ["--messages", values.messages, "--logins", values.logins];
  const ours: ColdRow[][] = [];
  const theirs: ColdRow[][] = [];
  // --dovecot-rows FILE: Dovecot's runs are read from FILE when it exists (written after a
  // run otherwise), so Elektromail's figures can be compared again without running Dovecot.
  const saved = values["dovecot-rows"];
  const reuse = saved !== undefined && await Deno.stat(saved).then(() => true, () => false);
  if (reuse) theirs.push(...JSON.parse(await Deno.readTextFile(saved!)));
  const ourArgs = [...args, ...values["deno-flag"].map((flag) => `--deno-flag=${flag}`)];
  const loads: number[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    // Alternating which goes first, so neither always meets the same moment of a noisy host.
    const order = run % 2 === 0 ? ["ours", "theirs"] : ["theirs", "ours"];
    for (const which of order) {
      loads.push(Deno.loadavg()[0]);
      if (which === "ours") ours.push(await coldRun(ourArgs));
      else if (values.dovecot && !reuse) {
        theirs.push(
          await dovecotRun(values["dovecot-binary"], values.dir, Number(values.port), args),
        );
      }
    }
  }
  if (saved !== undefined && !reuse) await Deno.writeTextFile(saved, JSON.stringify(theirs));
  const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  console.log(`${values.runs} runs each, medians, ${navigator.hardwareConcurrency} CPUs, ${load}`);
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
}

if (import.meta.main) await main();
