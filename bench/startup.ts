/**
 * How soon a fresh server answers: from the spawn of `deno run` to its startup banner, and to
 * the first SMTP and IMAP greetings (a connection to each right after the banner). The server
 * starts as `deno task start` runs it (the bundle, built first if stale), or `--script` (e.g.
 * another checkout's bundle, for an A/B), or `main.ts` with `--main`. The startup warm-up
 * (lib/imap/warm_up.ts) runs before the listeners open, so it is inside these figures;
 * `ELEKTROMAIL_SKIP_WARM_UP=1` leaves it out.
 *
 * ```sh
 * deno run -A bench/startup.ts                    # 10 starts, each figure and the median
 * deno run -A bench/startup.ts --runs 6 --script ../other/dist/bundle/main.js
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { median } from "./imap_client.ts";
import { bundledMain, spawnServer } from "./spawn.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10" },
    script: { type: "string" },
    main: { type: "boolean", default: false },
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

const rows = { banner: [] as number[], smtp: [] as number[], imap: [] as number[] };
for (let run = 0; run < Number(values.runs); run++) {
  const start = performance.now();
  const server = await spawnServer({}, [], undefined, script);
  try {
    rows.banner.push(performance.now() - start);
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
