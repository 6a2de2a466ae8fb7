/**
 * A minimal IMAP client over raw TCP for the hostile-input tests: sends tagged commands and
 * reads lines up to the tagged reply, with a deadline per command so a frozen server fails
 * the test instead of hanging it.
 *
 * @module
 */

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** One connection; `command` returns every line of the reply, the tagged one last. */
export class RawImap {
  readonly #conn: Deno.TcpConn;
  #buffer = "";
  #tag = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects and reads the greeting. */
  static async connect(port: number, timeoutMs = 10_000): Promise<RawImap> {
    const client = new RawImap(await Deno.connect({ hostname: "127.0.0.1", port }));
    await client.#line(timeoutMs);
    return client;
  }

  /**
   * Sends `text` (a command without its tag; literals already inline with `{n+}`) and reads
   * until the tagged reply. Throws when it takes longer than `timeoutMs` (a hang guard).
   */
  async command(text: string, timeoutMs = 10_000): Promise<string[]> {
    const tag = `t${++this.#tag}`;
    await this.write(`${tag} ${text}\r\n`);
    const lines: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await this.#line(deadline - Date.now());
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  /** Writes raw bytes. */
  async write(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async #line(timeoutMs: number): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return line;
      }
      const chunk = new Uint8Array(65536);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no reply within ${timeoutMs} ms`)),
          Math.max(0, timeoutMs),
        );
      });
      try {
        const n = await Promise.race([this.#conn.read(chunk), timeout]);
        if (n === null) throw new Error("connection closed");
        this.#buffer += latin1.decode(chunk.subarray(0, n));
      } finally {
        clearTimeout(timer);
      }
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** The resident set size of process `pid` in bytes (Linux: /proc/pid/status). */
export function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}
