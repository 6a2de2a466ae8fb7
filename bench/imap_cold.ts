/**
 * The first-touch table of issue 13 (`bench/imap_load.ts --cold`): a fresh server, a burst of
 * pipelined APPENDs, then at once (no warm-up, no settle) each command once, as a mail client
 * syncing a freshly loaded mailbox or a test reading the fixtures it just loaded does.
 *
 * With `--connect host:port --user u --pass p` the same client drives any IMAP server (the
 * reference figures are Dovecot 2.3's, see `bench/cold_compare.ts`); its INBOX must be empty
 * and the mailbox `Copy` must not exist. Without it a server subprocess is started.
 *
 * @module
 */

import { warmClient } from "./client_warm_up.ts";
import { Client, cpuMs, imapDate, median, newestProcess, rssMb, timed } from "./imap_client.ts";
import { corpusMessage, RARE_WORD } from "./imap_corpus.ts";
import { type SpawnedServer, spawnServer } from "./spawn.ts";

/** What {@linkcode runCold} measures against. */
export interface ColdOptions {
  readonly messages: number;
  /** `host:port` of a running server, or null to start one. */
  readonly connect: string | null;
  readonly user: string;
  readonly pass: string;
  /** Extra environment of a started server (`ELEKTROMAIL_DB`, ...). */
  readonly env: Record<string, string>;
  /** connect + LOGIN + LOGOUT round trips before the burst (their median is reported). */
  readonly logins: number;
  /**
   * With `connect`: `name@parent`, the name and parent process id of the server process
   * serving the connection after LOGIN (Dovecot: `imap@<master pid>`), whose CPU time is
   * then measured too.
   */
  readonly cpuProcess?: string;
  /** With `connect`: the server's process id, to measure its CPU time. */
  readonly serverPid?: number;
  /** Flags for `deno run` of a started server (e.g. `--v8-flags=--trace-gc`). */
  readonly denoFlags?: readonly string[];
  /**
   * Seconds a started server is left alone before the first connection (default 0), as for a
   * test suite that starts some time after the server: V8's work of the startup (the warm-up's
   * compiles, its final collection) is over then.
   */
  readonly startDelay?: number;
}

/**
 * One row of the table: label, value, the value as a number for medians, and the server's
 * CPU time during the row in ms (all its threads, from /proc/<pid>/task/<tid>/schedstat; NaN
 * when the server process is unknown).
 * CPU time is what a busy host disturbs least.
 */
export type ColdRow = [label: string, text: string, value: number, cpuMs: number];

/**
 * Runs the first-touch sequence and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runCold({ messages: 5000, connect: null, user: "bench", pass: "pw", env: {}, logins: 200 });
 * ```
 */
export async function runCold(options: ColdOptions): Promise<ColdRow[]> {
  const corpus = Array.from({ length: options.messages }, (_, i) => corpusMessage(i));
  const corpusBytes = corpus.reduce((sum, m) => sum + m.length, 0);
  // The client's JIT work done now, not beside the server's first commands.
  await warmClient();
  let server: SpawnedServer | null = null;
  let hostname = "127.0.0.1";
  let port: number;
  if (options.connect) {
    const colon = options.connect.lastIndexOf(":");
    hostname = options.connect.slice(0, colon);
    port = Number(options.connect.slice(colon + 1));
  } else {
    server = await spawnServer(options.env, options.denoFlags);
    port = server.imap;
    const delay = options.startDelay ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay * 1000));
  }
  const rows: ColdRow[] = [];
  let pid = server?.pid ?? options.serverPid;
  /** Times `fn`, with the server's CPU time (ms) when its process is known. */
  const measure = async (fn: () => Promise<unknown>): Promise<[number, number]> => {
    const before = pid ? cpuMs(pid) : NaN;
    const elapsed = await timed(fn);
    return [elapsed, pid ? cpuMs(pid) - before : NaN];
  };
  const ms = (label: string, [value, cpu]: [number, number]) =>
    rows.push([label, `${value.toFixed(2)} ms`, value, cpu]);
  const login = `LOGIN ${options.user} ${options.pass}`;
  try {
    if (options.logins > 0) {
      const logins: number[] = [];
      for (let i = 0; i < options.logins; i++) {
        logins.push(
          await timed(async () => {
            const c = await Client.connect(port, hostname);
            await c.command(login);
            await c.command("LOGOUT");
            c.close();
          }),
        );
      }
      ms(`connect + LOGIN + LOGOUT (median of ${logins.length})`, [median(logins), NaN]);
    }
    const c = await Client.connect(port, hostname);
    await c.command(login);
    if (!server && options.cpuProcess) {
      const [name, parent] = options.cpuProcess.split("@");
      pid = newestProcess(name, Number(parent)) ?? undefined;
    }
    const [appendMs, appendCpu] = await measure(() => c.appendAll("INBOX", corpus));
    const rate = options.messages / (appendMs / 1000);
    rows.push([
      `APPEND ${options.messages} pipelined (${(corpusBytes / 1e6).toFixed(0)} MB)`,
      `${rate.toFixed(0)} msgs/s`,
      rate,
      appendCpu,
    ]);
    // At once: each command once, in the order of the table.
    const since = imapDate(Date.now() - 864e5);
    const searches = [`TEXT ${RARE_WORD}`, "FROM sender42@example.com", `SINCE ${since}`];
    for (
      const command of [
        "SELECT INBOX",
        "FETCH 1:* (UID FLAGS)",
        "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
        "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
        "FETCH 1:* BODY.PEEK[]",
        ...searches.map((criteria) => `UID SEARCH ${criteria}`),
        "STORE 1:* +FLAGS.SILENT (\\Seen)",
      ]
    ) ms(command, await measure(() => c.command(command)));
    await c.command("CREATE Copy");
    ms("COPY 1:*", await measure(() => c.command("COPY 1:* Copy")));
    if (server) {
      const rss = rssMb(server.pid);
      rows.push([
        `server RSS after (${(corpusBytes / 1e6).toFixed(0)} MB of mail)`,
        `${rss.toFixed(0)} MB`,
        rss,
        NaN,
      ]);
    }
    // The figures only count if the searches found the right messages (checked after the
    // timed run, so the check warms nothing that is timed).
    const expected = [
      corpus.filter((_, n) => n % 100 === 42).length,
      corpus.filter((_, n) => n % 97 === 42).length,
      options.messages,
    ];
    for (let i = 0; i < searches.length; i++) {
      const [line] = await c.query(`UID SEARCH RETURN (COUNT) ${searches[i]}`);
      if (!line?.endsWith(` COUNT ${expected[i]}`)) {
        throw new Error(`SEARCH ${searches[i]}: expected ${expected[i]} messages, got ${line}`);
      }
    }
    await c.command("LOGOUT");
    c.close();
  } finally {
    await server?.stop();
  }
  return rows;
}
