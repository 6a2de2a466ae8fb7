/**
 * A raw IMAP client over `Deno.connect` for tests that send what no library would: oversize
 * literals, floods of wrong passwords. Lines only (responses with literals are not parsed).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One IMAP connection read line by line. */
export class RawImap {
  readonly #conn: Deno.TcpConn;
  #buffer = "";
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects and reads the greeting. */
  static async connect(port: number): Promise<{ client: RawImap; greeting: string }> {
    const client = new RawImap(await Deno.connect({ hostname: "127.0.0.1", port }));
    return { client, greeting: await client.readLine() ?? "" };
  }

  /** Writes all of `data`; false when the server closed the connection meanwhile. */
  async write(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
      return true;
    } catch {
      return false;
    }
  }

  /** The next line without its CRLF; null at the end of the stream. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return line;
      }
      if (this.#eof) return null;
      const chunk = new Uint8Array(16 * 1024);
      const n = await this.#conn.read(chunk).catch(() => null);
      if (n === null) this.#eof = true;
      else this.#buffer += decoder.decode(chunk.subarray(0, n));
    }
  }

  /** Lines up to and including the one tagged `tag` (or up to the end of the stream). */
  async readUntilTagged(tag: string): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === null) return lines;
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  /** Sends `line` + CRLF and reads up to its tagged response (the tag is the first word). */
  async command(line: string): Promise<string[]> {
    await this.write(`${line}\r\n`);
    return await this.readUntilTagged(line.slice(0, line.indexOf(" ")));
  }

  /** Whatever is left until the server closes; the lines read. */
  async readToEnd(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.readLine(); line !== null; line = await this.readLine()) {
      lines.push(line);
    }
    return lines;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}
