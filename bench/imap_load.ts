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
 * ```
 *
 * The CONDSTORE/QRESYNC phases (RFC 7162) run last, on the copy of the whole corpus: 10
 * messages spread over it change (and 10 go), then `FETCH 1:* (FLAGS) (CHANGEDSINCE n)` and
 * `SELECT (QRESYNC (1 n))` are timed next to their full forms.
 *
 * Corpus (fixed PRNG seed): mostly 2–10 KB text/plain and multipart/alternative messages,
 * every tenth a multipart/mixed with a 20–200 KB base64 attachment (~108 MB for 5,000); one
 * in a hundred has the word {@linkcode RARE_WORD} in its body, for SEARCH TEXT.
 * The server runs as a subprocess (`deno run -A main.ts`); the client speaks raw IMAP over
 * TCP and only counts bytes, so it is not the bottleneck.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { spawnServer } from "./spawn.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut " +
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip " +
    "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur")
    .split(" ");

/** A word in the body of every hundredth corpus message only (n % 100 == 42). */
export const RARE_WORD = "quokka";

function text(random: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    let line = "";
    while (line.length < 70) line += WORDS[Math.floor(random() * WORDS.length)] + " ";
    lines.push(line.trimEnd());
    size += line.length + 1;
  }
  return lines.join("\r\n") + "\r\n";
}

/** The n-th corpus message. */
export function corpusMessage(n: number): Uint8Array {
  const random = prng(n + 1);
  // The rare word goes in front of the generated text, so the PRNG stream is unchanged.
  const body = (bytes: number) => (n % 100 === 42 ? `${RARE_WORD} ` : "") + text(random, bytes);
  const header = [
    `From: Sender ${n % 97} <sender${n % 97}@example.com>`,
    `To: Bench <bench@example.com>`,
    `Subject: Corpus message ${n} ${WORDS[n % WORDS.length]}`,
    `Date: Wed, 25 Nov 2026 ${String(n % 24).padStart(2, "0")}:00:00 +0000`,
    `Message-ID: <corpus-${n}@example.com>`,
    "MIME-Version: 1.0",
  ];
  const size = 2000 + Math.floor(random() * 8000);
  if (n % 10 === 9) {
    const attachment = new Uint8Array(20_000 + Math.floor(random() * 180_000));
    for (let i = 0; i < attachment.length; i++) attachment[i] = Math.floor(random() * 256);
    let binary = "";
    for (let i = 0; i < attachment.length; i += 8192) {
      binary += String.fromCharCode(...attachment.subarray(i, i + 8192));
    }
    const base64 = btoa(binary).replace(/.{76}/g, "$&\r\n");
    return encoder.encode(
      header.join("\r\n") + '\r\nContent-Type: multipart/mixed; boundary="mixed"\r\n\r\n' +
        '--mixed\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' + body(size) +
        '--mixed\r\nContent-Type: application/octet-stream; name="data.bin"\r\n' +
        'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        base64 + "\r\n--mixed--\r\n",
    );
  }
  if (n % 2 === 0) {
    const alternative = body(size / 2);
    return encoder.encode(
      header.join("\r\n") + '\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
        '--alt\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' + alternative +
        '--alt\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n<html><body><p>' + alternative +
        "</p></body></html>\r\n" +
        "--alt--\r\n",
    );
  }
  return encoder.encode(
    header.join("\r\n") + '\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' +
      body(size),
  );
}

/** Bytes asked of each socket read. */
const READ_SIZE = 256 * 1024;

/** A raw IMAP client that waits for tagged completions and skips literal bytes. */
export class Client {
  readonly #conn: Deno.Conn;
  /** Received bytes; those from #start to #end are unread. */
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #tag = 0;
  /** Untagged lines of the command in flight, while {@linkcode Client.query} collects them. */
  #collected: string[] | null = null;
  received = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const client = new Client(conn);
    await client.#readUntil((line) => line.startsWith("* OK"), true);
    return client;
  }

  /** Reads more into #buffer after #end, first moving unread bytes to the front. */
  async #fill(): Promise<void> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#buffer.length - this.#end < READ_SIZE) {
      const unread = this.#end - this.#start;
      const target = unread + READ_SIZE > this.#buffer.length
        ? new Uint8Array((unread + READ_SIZE) * 2)
        : this.#buffer;
      target.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = target;
      this.#start = 0;
      this.#end = unread;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end, this.#end + READ_SIZE));
    if (n === null) throw new Error("connection closed");
    this.received += n;
    this.#end += n;
  }

  /**
   * Reads lines (skipping literal data) until `done(line)`; returns that line. Untagged lines
   * are decoded only when collected or when `untagged` says `done` looks at them, and lines
   * are found by index in one reused buffer, so the client's own cost stays small next to
   * the server's in the figures.
   */
  async #readUntil(done: (line: string) => boolean, untagged = false): Promise<string> {
    let skip = 0;
    while (true) {
      if (skip > 0) {
        const available = Math.min(skip, this.#end - this.#start);
        this.#start += available;
        skip -= available;
        if (skip > 0) {
          await this.#fill();
          continue;
        }
      }
      const buffer = this.#buffer;
      let lf = this.#start;
      while (lf < this.#end && buffer[lf] !== 0x0a) lf++;
      if (lf === this.#end) {
        await this.#fill();
        continue;
      }
      const first = buffer[this.#start];
      const hasLiteral = buffer[lf - 2] === 0x7d; // }
      const lineStart = this.#start;
      this.#start = lf + 1;
      if (first === 0x2a && !hasLiteral && !untagged && this.#collected === null) continue;
      const line = latin1.decode(buffer.subarray(lineStart, lf - 1));
      const literal = hasLiteral ? /\{(\d+)\}$/.exec(line) : null;
      if (literal) skip = Number(literal[1]);
      if (first === 0x2a && !untagged) {
        this.#collected?.push(line);
        continue;
      }
      if (done(line)) return line;
      this.#collected?.push(line);
    }
  }

  /** Sends one command (text, or parts with literals already framed) and waits for its tagged reply. */
  async command(text: string, ...data: Uint8Array[]): Promise<string> {
    const tag = `t${++this.#tag}`;
    await this.#write(encoder.encode(`${tag} ${text}`), ...data, encoder.encode("\r\n"));
    const line = await this.#readUntil((l) => l.startsWith(`${tag} `));
    if (!line.startsWith(`${tag} OK`)) throw new Error(`${text.slice(0, 40)}: ${line}`);
    return line;
  }

  /** Like {@linkcode Client.command}, returning the untagged lines of the reply. */
  async query(text: string): Promise<string[]> {
    const lines: string[] = [];
    this.#collected = lines;
    try {
      await this.command(text);
      return lines;
    } finally {
      this.#collected = null;
    }
  }

  /** Pipelines many APPENDs with LITERAL+ and waits for all completions. */
  async appendAll(mailbox: string, messages: Uint8Array[]): Promise<void> {
    const parts: Uint8Array[] = [];
    const first = this.#tag + 1;
    for (const message of messages) {
      parts.push(
        encoder.encode(`t${++this.#tag} APPEND ${mailbox} {${message.length}+}\r\n`),
        message,
        encoder.encode("\r\n"),
      );
    }
    const writing = this.#write(...parts);
    let completed = 0;
    await this.#readUntil((line) => {
      const match = /^t(\d+) (\w+)/.exec(line);
      if (!match) return false;
      if (match[2] !== "OK") throw new Error(`APPEND t${match[1]}: ${line}`);
      return Number(match[1]) >= first && ++completed === messages.length;
    });
    await writing;
  }

  /** Writes the parts as one buffer, so a command is one segment on the wire. */
  async #write(...parts: Uint8Array[]): Promise<void> {
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    const buffer = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      buffer.set(part, at);
      at += part.length;
    }
    let offset = 0;
    while (offset < buffer.length) offset += await this.#conn.write(buffer.subarray(offset));
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The server's resident memory, in MB. */
function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The server's CPU time (user + system), in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

/**
 * Waits until the server has used no CPU for 100 ms: it indexes new mail in idle time
 * (lib/imap/warm.ts), which a client reading right after a burst would otherwise share the
 * CPU with.
 */
async function settle(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = cpuTicks(pid);
  let still = 0;
  while (still < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = cpuTicks(pid);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/** An IMAP `date` (SEARCH SINCE) for a time, in UTC. */
function imapDate(ms: number): string {
  const months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  const d = new Date(ms);
  return `${d.getUTCDate()}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

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
    },
    allowNegative: true,
  });
  const count = Number(values.messages);
  const corpus = Array.from({ length: count }, (_, i) => corpusMessage(i));
  const corpusBytes = corpus.reduce((sum, m) => sum + m.length, 0);
  const env: Record<string, string> = {};
  let dbDir: string | null = null;
  if (values.store === "sqlite") {
    dbDir = await Deno.makeTempDir();
    env.ELEKTROMAIL_DB = `${dbDir}/bench.db`;
  }
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
  console.log(
    `IMAP load, ${values.store} store, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`,
  );
  console.log("| phase | elektromail |\n| --- | --- |");
  for (const [phase, value] of rows) console.log(`| ${phase} | ${value} |`);
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
