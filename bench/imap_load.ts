/**
 * IMAP load benchmark over a deterministic corpus, phase by phase (the table of the IMAP
 * core issue, measured against Dovecot 2.3 there).
 *
 * ```sh
 * deno run -A bench/imap_load.ts                       # 5,000 messages, memory store
 * deno run -A bench/imap_load.ts --store sqlite --messages 2000
 * deno run -A bench/imap_load.ts --no-warmup            # first-ever run of each code path
 * deno run -A bench/imap_load.ts --no-settle            # read right after APPEND, while the
 *                                                      # server indexes the new mail
 * deno run -A bench/imap_load.ts --cold                 # issue 13's first-touch table: fresh
 *                                                      # server, APPEND, each command once
 * deno run -A bench/imap_load.ts --cold --start-delay 5  # the same, first connection 5 s
 *                                                      # after the banner (warm-up done)
 * deno run -A bench/imap_load.ts --cold --connect 127.0.0.1:10143 --user u --pass p
 *                                                      # the same against any IMAP server
 *   [--server-pid N | --cpu-process imap@<parent pid>] # and its CPU time per command
 * BENCH_MAIN_THREAD=1 deno run -A bench/imap_load.ts --cold  # CPU of the JS thread alone
 * deno run -A bench/imap_load.ts --cold --deno-flag=--v8-flags=--trace-gc  # flags for the
 *                                                      # server's `deno run` (repeatable)
 * ```
 *
 * The CONDSTORE/QRESYNC phases (RFC 7162) run last, on the copy of the whole corpus: 10
 * messages spread over it change (and 10 go), then `FETCH 1:* (FLAGS) (CHANGEDSINCE n)` and
 * `SELECT (QRESYNC (1 n))` are timed next to their full forms.
 *
 * Corpus: bench/imap_corpus.ts (~108 MB for 5,000 messages). The server runs as a subprocess
 * (`deno run -A main.ts`); the client (bench/imap_client.ts) speaks raw IMAP over TCP and only
 * counts bytes, so it is not the bottleneck. `--json` prints the rows as JSON (for
 * bench/cold_compare.ts).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { spawnServer } from "./spawn.ts";
import { Client, imapDate, median, rssMb, settle, timed } from "./imap_client.ts";
import { type ColdRow, runCold } from "./imap_cold.ts";
import { corpusMessage, RARE_WORD } from "./imap_corpus.ts";

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      store: { type: "string", default: "memory" },
      logins: { type: "string", default: "200" },
      "loop-seconds": { type: "string", default: "5" },
      warmup: { type: "boolean", default: true },
      settle: { type: "boolean", default: true },
      cold: { type: "boolean", default: false },
      connect: { type: "string" },
      user: { type: "string", default: "bench" },
      pass: { type: "string", default: "pw" },
      json: { type: "boolean", default: false },
      "cpu-process": { type: "string" },
      "server-pid": { type: "string" },
      "deno-flag": { type: "string", multiple: true, default: [] },
      "start-delay": { type: "string", default: "0" },
    },
    allowNegative: true,
  });
  const env: Record<string, string> = {};
  let dbDir: string | null = null;
  if (values.store === "sqlite") {
    dbDir = await Deno.makeTempDir();
    env.ELEKTROMAIL_DB = `${dbDir}/bench.db`;
  }
  if (values.cold) {
    const rows = await runCold({
      messages: Number(values.messages),
      connect: values.connect ?? null,
      user: values.user,
      pass: values.pass,
      env,
      logins: Number(values.logins),
      cpuProcess: values["cpu-process"],
      serverPid: values["server-pid"] ? Number(values["server-pid"]) : undefined,
      denoFlags: values["deno-flag"],
      startDelay: Number(values["start-delay"]),
    }).finally(() => dbDir && Deno.remove(dbDir, { recursive: true }));
    const target = values.connect ? `server at ${values.connect}` : `${values.store} store`;
    printRows(`IMAP first touch (cold), ${target}`, rows, values.json);
    return;
  }
  const count = Number(values.messages);
  const corpus = Array.from({ length: count }, (_, i) => corpusMessage(i));
  const corpusBytes = corpus.reduce((sum, m) => sum + m.length, 0);
  const server = await spawnServer(env);
  const rows: Array<[string, string]> = [];
  try {
    const logins: number[] = [];
    for (let i = 0; i < Number(values.logins); i++) {
      logins.push(
        await timed(async () => {
          const c = await Client.connect(server.imap);
          await c.command("LOGIN bench pw");
          await c.command("LOGOUT");
          c.close();
        }),
      );
    }
    rows.push([
      `${logins.length} × connect+LOGIN+LOGOUT, median`,
      `${median(logins).toFixed(2)} ms`,
    ]);

    const c = await Client.connect(server.imap);
    await c.command("LOGIN bench pw");
    if (values.warmup) {
      // A server in use has its hot paths compiled: run every phase a few times on a small
      // mailbox (a tenth of the corpus) before measuring, so "first" figures are about cold
      // data (indexes, caches), not a cold JIT. --no-warmup measures a cold server.
      await c.command("CREATE Warmup");
      await c.appendAll("Warmup", corpus.slice(0, Math.ceil(count / 10)));
      for (let round = 0; round < 5; round++) {
        for (
          const command of [
            "SELECT Warmup",
            "FETCH 1:* (UID FLAGS)",
            "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
            `FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE X-WARMUP-${round})])`,
            "FETCH 1:* BODY.PEEK[]",
            `STORE 1:* ${round % 2 ? "-" : "+"}FLAGS.SILENT (\\Seen)`,
            `UID SEARCH TEXT ${RARE_WORD}`,
            "SEARCH FROM sender42@example.com",
            "SEARCH SINCE 1-Jan-2020",
            "SORT (DATE) UTF-8 ALL",
            "SORT (SUBJECT) UTF-8 ALL",
            "THREAD REFERENCES UTF-8 ALL",
          ]
        ) await c.command(command);
      }
      for (
        const command of [
          "COPY 1:* Warmup",
          "STORE 1:* +FLAGS.SILENT (\\Deleted)",
          "EXPUNGE",
          "CLOSE",
        ]
      ) await c.command(command);
      await c.command("DELETE Warmup");
    }
    const appendMs = await timed(() => c.appendAll("INBOX", corpus));
    rows.push([
      `APPEND ${count} (LITERAL+, pipelined), ${(corpusBytes / 1e6).toFixed(0)} MB`,
      `${(count / (appendMs / 1000)).toFixed(0)} msgs/s`,
    ]);
    if (values.settle) {
      // --no-settle reads at once, sharing the CPU with the server's idle-time indexing.
      const settleMs = await timed(() => settle(server.pid));
      rows.push([
        "server busy after APPEND (idle-time indexing), until idle",
        `${settleMs.toFixed(0)} ms`,
      ]);
    }
    /**
     * First run, then the median of `repeats` more (the same work each time): enough runs
     * for the JIT to have tiered up the path, as it has in a server in use.
     */
    const phase = async (label: string, commands: (i: number) => string, repeats = 30) => {
      const times: number[] = [];
      for (let i = 0; i <= repeats; i++) times.push(await timed(() => c.command(commands(i))));
      const warm = median(times.slice(1));
      rows.push([label, `${times[0].toFixed(2)} ms (warm: ${warm.toFixed(2)} ms)`]);
    };
    await phase("SELECT INBOX", () => "SELECT INBOX");
    await phase("FETCH 1:* (UID FLAGS)", () => "FETCH 1:* (UID FLAGS)");
    // Message structure (issue 4 section 6). The first run parses every message's MIME
    // index and encodes its ENVELOPE and BODYSTRUCTURE; warm runs send what the index keeps.
    for (
      const items of [
        "(ENVELOPE BODYSTRUCTURE)",
        "(UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
      ]
    ) await phase(`FETCH 1:* ${items}`, () => `FETCH 1:* ${items}`);
    const before = c.received;
    await phase("FETCH 1:* BODY.PEEK[]", () => "FETCH 1:* BODY.PEEK[]", 2);
    rows[rows.length - 1][0] += ` (${((c.received - before) / 3e6).toFixed(0)} MB)`;
    // Alternating + and - so every run changes every message.
    await phase(
      "STORE 1:* +FLAGS.SILENT (\\Seen)",
      (i) => `STORE 1:* ${i % 2 ? "-" : "+"}FLAGS.SILENT (\\Seen)`,
    );
    // SEARCH (issue 4 section 6). The first run decodes (and caches) what the keys read;
    // the warm runs are what a client searching again sees.
    const rssBefore = rssMb(server.pid);
    const count1 = (modulus: number) => corpus.filter((_, n) => n % modulus === 42).length;
    const searches: Array<[string, string, string, number]> = [
      [`(in 1% of messages)`, "UID SEARCH", `TEXT ${RARE_WORD}`, count1(100)],
      ["(1%)", "SEARCH", "FROM sender42@example.com", count1(97)],
      ["(every message)", "SEARCH", `SINCE ${imapDate(Date.now() - 864e5)}`, count],
    ];
    for (const [note, verb, criteria, expected] of searches) {
      await phase(`${verb} ${criteria} ${note}`, () => `${verb} ${criteria}`);
      // The figures only count if the search found the right messages.
      const [line] = await c.query(`${verb} RETURN (COUNT) ${criteria}`);
      if (!line?.endsWith(` COUNT ${expected}`)) {
        throw new Error(`${verb} ${criteria}: expected ${expected} messages, got ${line}`);
      }
    }
    rows.push([
      "server RSS before / after the SEARCH phases (decoded text cached)",
      `${rssBefore.toFixed(0)} / ${rssMb(server.pid).toFixed(0)} MB`,
    ]);
    // SORT and THREAD (issue 15): the first run computes each message's keys (kept in its
    // MIME index), the warm runs only compare and write; compare them with the SEARCH above
    // that returns every message (same result size).
    for (
      const command of [
        "SORT (DATE) UTF-8 ALL",
        "SORT (SUBJECT) UTF-8 ALL",
        "SORT (FROM) UTF-8 ALL",
        "SORT (REVERSE ARRIVAL) UTF-8 ALL",
        "THREAD REFERENCES UTF-8 ALL",
      ]
    ) await phase(command, () => command, 10);
    const [sorted] = await c.query("SORT RETURN (COUNT) (DATE) UTF-8 ALL");
    if (!sorted?.endsWith(` COUNT ${count}`)) {
      throw new Error(`SORT: expected ${count} messages, got ${sorted}`);
    }
    await c.command("CREATE Copy");
    rows.push([
      "COPY 1:* to a new mailbox",
      `${(await timed(() => c.command("COPY 1:* Copy"))).toFixed(1)} ms`,
    ]);
    const half = Math.floor(count / 2);
    rows.push([
      `STORE \\Deleted on ${half} + EXPUNGE`,
      `${
        (await timed(async () => {
          await c.command(`STORE 1:${half} +FLAGS.SILENT (\\Deleted)`);
          await c.command("EXPUNGE");
        })).toFixed(1)
      } ms`,
    ]);
    await c.command("LOGOUT");
    c.close();
    rows.push(...await condstorePhases(server.imap, "Copy", count));

    const deadline = performance.now() + Number(values["loop-seconds"]) * 1000;
    let sessions = 0;
    const loopStart = performance.now();
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (performance.now() < deadline) {
        const client = await Client.connect(server.imap);
        await client.command("LOGIN bench pw");
        await client.command("SELECT INBOX");
        await client.command("FETCH 1:20 BODY.PEEK[HEADER]");
        await client.command("LOGOUT");
        client.close();
        sessions++;
      }
    }));
    rows.push([
      "50 connections looping LOGIN/SELECT/FETCH 1:20 header/LOGOUT",
      `${(sessions / ((performance.now() - loopStart) / 1000)).toFixed(0)} sessions/s`,
    ]);
    rows.push(["server RSS after the run", `${rssMb(server.pid).toFixed(0)} MB`]);
  } finally {
    await server.stop();
    if (dbDir) await Deno.remove(dbDir, { recursive: true });
  }
  printRows(
    `IMAP load, ${values.store} store`,
    rows.map(([label, text]) => [label, text, NaN, NaN]),
    values.json,
  );
}

function printRows(title: string, rows: readonly ColdRow[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(rows));
    return;
  }
  const load = Deno.loadavg().map((n) => n.toFixed(1)).join(" ");
  console.log(
    `${title}, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, load ${load}`,
  );
  const cpu = rows.some((row) => !Number.isNaN(row[3]));
  console.log(`| phase | elektromail |${cpu ? " server CPU |" : ""}`);
  console.log(`| --- | --- |${cpu ? " --- |" : ""}`);
  for (const [phase, value, , cpuMs] of rows) {
    const cell = cpu ? (Number.isNaN(cpuMs) ? " |" : ` ${cpuMs} ms |`) : "";
    console.log(`| ${phase} | ${value} |${cell}`);
  }
}

/**
 * RFC 7162 on `mailbox` (`count` messages): after 10 flag changes and 10 expunges spread
 * over it, the cost of asking what changed since the HIGHESTMODSEQ before them (it should be
 * about the 20, not the mailbox), next to the full FETCH and a plain SELECT.
 */
async function condstorePhases(
  port: number,
  mailbox: string,
  count: number,
): Promise<Array<[string, string]>> {
  const c = await Client.connect(port);
  await c.command("LOGIN bench pw");
  await c.command("ENABLE QRESYNC");
  const selected = await c.query(`SELECT ${mailbox}`);
  const highest = /HIGHESTMODSEQ (\d+)/.exec(selected.join("\n"))?.[1];
  if (!highest) throw new Error(`SELECT ${mailbox}: no HIGHESTMODSEQ`);
  const step = Math.floor(count / 10);
  const spread = (offset: number) => Array.from({ length: 10 }, (_, i) => i * step + offset);
  await c.command(`UID STORE ${spread(1).join(",")} +FLAGS.SILENT (\\Flagged)`);
  await c.command(`UID STORE ${spread(2).join(",")} +FLAGS.SILENT (\\Deleted)`);
  await c.command(`UID EXPUNGE ${spread(2).join(",")}`);
  const rows: Array<[string, string]> = [];
  const measure = async (label: string, command: string, expected?: number) => {
    const times: number[] = [];
    for (let i = 0; i <= 30; i++) times.push(await timed(() => c.command(command)));
    const warm = median(times.slice(1));
    rows.push([label, `${times[0].toFixed(2)} ms (warm: ${warm.toFixed(2)} ms)`]);
    if (expected === undefined) return;
    const fetches = (await c.query(command)).filter((line) => / FETCH \(/.test(line)).length;
    if (fetches !== expected) throw new Error(`${command}: ${fetches} FETCH, not ${expected}`);
  };
  const left = count - 10;
  await measure(`FETCH 1:* (FLAGS) on ${left} messages (reference)`, "FETCH 1:* (FLAGS)", left);
  await measure(
    `FETCH 1:* (FLAGS) (CHANGEDSINCE n), 10 of ${left} changed`,
    `FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`,
    10,
  );
  await measure(
    "UID FETCH 1:* (FLAGS) (CHANGEDSINCE n VANISHED), 10 changed, 10 gone",
    `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`,
    10,
  );
  await measure(`SELECT ${mailbox} (reference)`, `SELECT ${mailbox}`);
  await measure(
    `SELECT ${mailbox} (QRESYNC (1 n)), 10 changed, 10 gone`,
    `SELECT ${mailbox} (QRESYNC (1 ${highest}))`,
    10,
  );
  await c.command("LOGOUT");
  c.close();
  return rows;
}

if (import.meta.main) await main();
