/**
 * The raw IMAP client of the IMAP benchmarks, and their measuring helpers. It counts bytes
 * and skips literal data without decoding it, so its own cost stays small next to the
 * server's in the figures.
 *
 * @module
 */

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Bytes asked of each socket read. */
const READ_SIZE = 256 * 1024;
/** Size of the buffer {@linkcode Client.appendAll} streams its APPENDs through. */
const APPEND_CHUNK = 1024 * 1024;
const CRLF = encoder.encode("\r\n");

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
  /** The reused buffer of {@linkcode Client.appendAll}'s stream, made on first use. */
  #chunk: Uint8Array | null = null;
  received = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number, hostname = "127.0.0.1"): Promise<Client> {
    const conn = await Deno.connect({ hostname, port });
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

  /**
   * Pipelines many APPENDs with LITERAL+ and waits for all completions. The stream goes out
   * through one reused buffer of {@linkcode APPEND_CHUNK} bytes, never one concatenation of
   * it all: a 108 MB buffer would be garbage the moment it is sent, and its collection (and
   * the page faults of allocating it) the client's own work landing beside the server's.
   */
  async appendAll(mailbox: string, messages: Uint8Array[]): Promise<void> {
    const first = this.#tag + 1;
    const writing = this.#stream(function* (client) {
      for (const message of messages) {
        yield encoder.encode(`t${++client.#tag} APPEND ${mailbox} {${message.length}+}\r\n`);
        yield message;
        yield CRLF;
      }
    }(this));
    let completed = 0;
    await this.#readUntil((line) => {
      const match = /^t(\d+) (\w+)/.exec(line);
      if (!match) return false;
      if (match[2] !== "OK") throw new Error(`APPEND t${match[1]}: ${line}`);
      return Number(match[1]) >= first && ++completed === messages.length;
    });
    await writing;
  }

  /** Writes the parts in order, copied through the client's one reused chunk buffer. */
  async #stream(parts: Iterable<Uint8Array>): Promise<void> {
    const chunk = this.#chunk ??= new Uint8Array(APPEND_CHUNK);
    let used = 0;
    for (const part of parts) {
      for (let at = 0; at < part.length;) {
        const n = Math.min(part.length - at, chunk.length - used);
        chunk.set(part.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === chunk.length) {
          await this.#writeAll(chunk);
          used = 0;
        }
      }
    }
    await this.#writeAll(chunk.subarray(0, used));
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
    await this.#writeAll(buffer);
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/** Milliseconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The server's resident memory, in MB. */
export function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * A process's CPU time in ms, summed over its threads (V8's GC and compiler threads count),
 * from the scheduler's nanosecond counters rather than the 10 ms ticks of `/proc/<pid>/stat`.
 */
export function cpuMs(pid: number): number {
  let ns = 0;
  let tasks: { name: string }[];
  try {
    // BENCH_MAIN_THREAD=1: the JavaScript thread alone (what a command waits on).
    tasks = Deno.env.get("BENCH_MAIN_THREAD") === "1"
      ? [{ name: String(pid) }]
      : [...Deno.readDirSync(`/proc/${pid}/task`)];
  } catch {
    return NaN; // the process has ended
  }
  for (const task of tasks) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch { /* the thread ended */ }
  }
  return ns / 1e6;
}

/**
 * The newest process named `name` (by start time) whose parent is `parent`: Dovecot's `imap`
 * process of the connection just logged in, to measure its CPU time like our own server's.
 * Null when there is none.
 */
export function newestProcess(name: string, parent: number): number | null {
  let best: [number, number] | null = null;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const open = stat.indexOf("("), close = stat.lastIndexOf(")");
      if (stat.slice(open + 1, close) !== name) continue;
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[1]) !== parent) continue; // field 4, ppid
      const start = Number(fields[19]); // field 22, starttime
      if (!best || start > best[1]) best = [Number(entry.name), start];
    } catch { /* gone */ }
  }
  return best?.[0] ?? null;
}

/** The server's CPU time (user + system), in clock ticks. */
export function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

/**
 * Waits until the server has used no CPU for 100 ms: it indexes new mail in idle time
 * (lib/imap/warm.ts), which a client reading right after a burst would otherwise share the
 * CPU with.
 */
export async function settle(pid: number): Promise<void> {
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
export function imapDate(ms: number): string {
  const months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  const d = new Date(ms);
  return `${d.getUTCDate()}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
