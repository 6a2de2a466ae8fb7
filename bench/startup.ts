/**
 * How soon a fresh server answers: from the spawn of `deno run` to its startup banner, and to
 * the first SMTP and IMAP greetings (a connection to each right after the banner). The server
 * starts as `deno task start` runs it (the bundle, built first if stale), or `--script` (e.g.
 * another checkout's bundle, for an A/B), or `main.ts` with `--main`. The startup warm-up
 * (lib/imap/warm_up.ts) runs before the listeners take connections, so it is inside these
 * figures; `ELEKTROMAIL_SKIP_WARM_UP=1` leaves it out. `--poll` also gives the SMTP listener a
 * free port chosen beforehand and tries to connect to it every millisecond from the spawn on:
 * when the port first accepts a connection (since round 16 it is bound before the warm-up, and
 * a connection made meanwhile waits in the backlog), and when that connection's greeting came.
 *
 * ```sh
 * deno run -A bench/startup.ts                    # 10 starts, each figure and the median
 * deno run -A bench/startup.ts --runs 6 --script ../other/dist/bundle/main.js
 * deno run -A bench/startup.ts --poll             # also: when the SMTP port first accepts
 * deno run -A bench/startup.ts --deno-flag=--v8-flags=--managed-zone-memory  # flags for `deno run`
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { median } from "./imap_client.ts";
import { bundledMain, freePort, spawnServer } from "./spawn.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10" },
    script: { type: "string" },
    main: { type: "boolean", default: false },
    poll: { type: "boolean", default: false },
    "deno-flag": { type: "string", multiple: true, default: [] },
  },
});

let script: string | undefined = values.script;
if (script === undefined && !values.main) script = await bundledMain();

/** Connects and reads until the greeting's line ends; the ms it took from `since`. */
async function greeting(port: number, since: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const buffer = new Uint8Array(512);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`port ${port} closed before its greeting`);
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return performance.now() - since;
  } finally {
    conn.close();
  }
}

/**
 * Tries to connect to `port` every millisecond until it accepts (or `stop()` is true); then
 * when it accepted and when its greeting came, in ms from `since`.
 */
async function pollPort(
  port: number,
  since: number,
  stop: () => boolean,
): Promise<{ accepted: number; greeted: number } | null> {
  while (!stop()) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
    if (conn === null) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    const accepted = performance.now() - since;
    try {
      const buffer = new Uint8Array(512);
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`port ${port} closed before its greeting`);
      return { accepted, greeted: performance.now() - since };
    } finally {
      conn.close();
    }
  }
  return null;
}

const rows = {
  banner: [] as number[],
  smtp: [] as number[],
  imap: [] as number[],
  accepted: [] as number[],
  greeted: [] as number[],
};
for (let run = 0; run < Number(values.runs); run++) {
  const port = values.poll ? freePort() : 0;
  const start = performance.now();
  let spawned = false;
  const polled = values.poll ? pollPort(port, start, () => spawned) : null;
  const server = await spawnServer(
    values.poll ? { SMTP_PORT: String(port) } : {},
    values["deno-flag"],
    undefined,
    script,
  )
    .finally(() => {
      // The poller stops at the banner only if it has not connected by then.
      setTimeout(() => spawned = true, 2000);
    });
  try {
    rows.banner.push(performance.now() - start);
    const first = await polled;
    if (first) {
      rows.accepted.push(first.accepted);
      rows.greeted.push(first.greeted);
    }
    rows.smtp.push(await greeting(server.smtp, start));
    rows.imap.push(await greeting(server.imap, start));
  } finally {
    await server.stop();
  }
}
const show = (values: number[]) =>
  `${values.map((v) => v.toFixed(0)).join(" ")}  (median ${median(values).toFixed(1)})`;
console.log(`spawn -> banner, ms:              ${show(rows.banner)}`);
console.log(`spawn -> first SMTP greeting, ms: ${show(rows.smtp)}`);
console.log(`spawn -> then IMAP greeting, ms:  ${show(rows.imap)}`);
if (values.poll) {
  console.log(`spawn -> SMTP port accepts, ms:  ${show(rows.accepted)}`);
  console.log(`  and that connection's greeting: ${show(rows.greeted)}`);
}
