/**
 * FETCH amplification (issue 11 item 5): one FETCH naming the same large section many times
 * must not make the server decode, copy or buffer it once per item. Each case runs the
 * server as a subprocess, reads the whole response, and compares the server's peak resident
 * memory (VmHWM) before and after: growth of a few item sizes is expected, not one per item.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { spawnMain } from "../process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Peak resident set of a process, in MB (Linux). */
function peakMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** A raw IMAP connection that reads responses and skips over literals without keeping them. */
class RawImap {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  /** Octets of literal data skipped so far. */
  literalBytes = 0;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let done = 0;
    while (done < bytes.length) done += await this.#conn.write(bytes.subarray(done));
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(256 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  /** The next line without CRLF; a literal announced at its end is skipped (counted). */
  async line(): Promise<string> {
    let text = "";
    for (;;) {
      const end = this.#buffer.indexOf(0x0a);
      if (end < 0) {
        if (!(await this.#fill())) throw new Error(`connection closed after: ${text}`);
        continue;
      }
      const part = decoder.decode(this.#buffer.subarray(0, end + 1)).replace(/\r\n$/, "");
      this.#buffer = this.#buffer.subarray(end + 1);
      const literal = /\{(\d+)\}$/.exec(part);
      if (!literal) return text + part;
      text += part.slice(0, part.length - literal[0].length) + "{…}";
      let size = Number(literal[1]);
      this.literalBytes += size;
      while (size > 0) {
        if (this.#buffer.length === 0 && !(await this.#fill())) throw new Error("closed");
        const take = Math.min(size, this.#buffer.length);
        this.#buffer = this.#buffer.subarray(take);
        size -= take;
      }
    }
  }

  /** Sends a command and reads up to its tagged response; returns every line. */
  async command(tag: string, text: string | Uint8Array): Promise<string[]> {
    await this.write(typeof text === "string" ? `${tag} ${text}\r\n` : text);
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
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

/** Appends `messages` to INBOX and selects it. */
async function setUp(client: RawImap, ...messages: Uint8Array[]): Promise<void> {
  await client.line();
  assert.match((await client.command("a", "LOGIN user pw")).at(-1)!, /^a OK/);
  for (const message of messages) {
    await client.write(`b APPEND INBOX ~{${message.length}}\r\n`);
    assert.match(await client.line(), /^\+ /);
    await client.write(message);
    await client.write("\r\n");
    let line = await client.line();
    while (!line.startsWith("b ")) line = await client.line();
    assert.match(line, /^b OK/);
  }
  assert.match((await client.command("c", "SELECT INBOX")).at(-1)!, /^c OK/);
}

async function connect(port: number): Promise<RawImap> {
  return new RawImap(await Deno.connect({ hostname: "127.0.0.1", port }));
}

/** Runs `fetch` on `message` in a fresh server; returns the tagged line and peak growth. */
async function measure(
  message: Uint8Array,
  fetch: string,
): Promise<{ tagged: string; growthMb: number; literalBytes: number }> {
  const server = await spawnMain(["--smtp-port", "0", "--imap-port", "0"]);
  const pid = server.child.pid;
  const client = await connect(server.ports.IMAP);
  try {
    await setUp(client, message);
    // A warm-up FETCH of the section once: the index and a decoded copy are expected growth.
    await client.command("w", fetch.replace(/\(.*\)/, (items) => items.split(" ")[0] + ")"));
    const before = peakMb(pid);
    const lines = await client.command("f", fetch);
    const growthMb = peakMb(pid) - before;
    return { tagged: lines.at(-1)!, growthMb, literalBytes: client.literalBytes };
  } finally {
    client.close();
    server.child.kill("SIGTERM");
    await server.exit();
  }
}

/** A single-part message whose body is `decoded` octets of base64. */
function base64Message(decoded: number): Uint8Array {
  const data = new Uint8Array(decoded);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
  let body = "";
  const text = btoa(String.fromCharCode(...data.subarray(0, 57 * 1000)));
  // 57 octets make one 76-character line; repeat a block of 1000 lines.
  const block = text.match(/.{1,76}/g)!.join("\r\n") + "\r\n";
  while (body.length * 3 / 4 < decoded) body += block;
  const head = "Subject: big\r\nContent-Type: application/octet-stream\r\n" +
    "Content-Transfer-Encoding: base64\r\n\r\n";
  return encoder.encode(head + body);
}

/** A 1 MB text message holding one NUL octet. */
function nulMessage(size: number): Uint8Array {
  const head = encoder.encode("Subject: nul\r\n\r\n");
  const message = new Uint8Array(size).fill(0x61);
  message.set(head);
  for (let i = 100; i < size; i += 100) message.set([0x0d, 0x0a], i - 2);
  message[size / 2] = 0;
  return message;
}

const ITEMS = 150;
const slow = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "fetch amplification: BINARY.PEEK[1] many times decodes the part once",
  ...slow,
  fn: async () => {
    const items = Array(ITEMS).fill("BINARY.PEEK[1]").join(" ");
    const result = await measure(base64Message(1536 * 1024), `FETCH 1 (${items})`);
    assert.match(result.tagged, /^f OK/);
    assert.ok(result.literalBytes >= ITEMS * 1_500_000, `${result.literalBytes} octets sent`);
    // Before the fix: one decoded copy per item, all held until the response was written
    // (about 230 MB here).
    assert.ok(result.growthMb < 64, `peak grew by ${result.growthMb.toFixed(0)} MB`);
  },
});

Deno.test({
  name: "fetch amplification: BODY.PEEK[] many times on a message with NUL copies it once",
  ...slow,
  fn: async () => {
    const items = Array(ITEMS).fill("BODY.PEEK[]").join(" ");
    const result = await measure(nulMessage(1024 * 1024), `FETCH 1 (${items})`);
    assert.match(result.tagged, /^f OK/);
    assert.equal(result.literalBytes >= ITEMS * 1024 * 1024, true, "every item is sent");
    // Before the fix: one NUL-free copy per item (about 150 MB here).
    assert.ok(result.growthMb < 64, `peak grew by ${result.growthMb.toFixed(0)} MB`);
  },
});

Deno.test({
  name: "fetch amplification: a FETCH to a client that does not read is not buffered whole",
  ...slow,
  fn: async () => {
    const server = await spawnMain(["--smtp-port", "0", "--imap-port", "0"]);
    const pid = server.child.pid;
    const client = await connect(server.ports.IMAP);
    try {
      // 12 messages of 2 MB: each BINARY item is a fresh decoded copy of 1.5 MB.
      await setUp(client, ...Array.from({ length: 12 }, () => base64Message(1536 * 1024)));
      await client.command("w", "FETCH 1 (BINARY.PEEK[1])");
      const before = peakMb(pid);
      await client.write("f FETCH 1:* (BINARY.PEEK[1] BINARY.PEEK[1] BINARY.PEEK[1])\r\n");
      // The server writes until the socket buffers are full, then waits.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const growthMb = peakMb(pid) - before;
      assert.ok(growthMb < 40, `peak grew by ${growthMb.toFixed(0)} MB`);
      let line = await client.line();
      while (!line.startsWith("f ")) line = await client.line();
      assert.match(line, /^f OK/);
    } finally {
      client.close();
      server.child.kill("SIGTERM");
      await server.exit();
    }
  },
});

Deno.test("fetch amplification: a FETCH names at most 256 items", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const client = await connect(server.ports.imap);
  try {
    await setUp(client, encoder.encode("Subject: hi\r\n\r\nhi\r\n"));
    const items = (n: number) => Array(n).fill("BODY.PEEK[TEXT]<0.1>").join(" ");
    let lines = await client.command("f1", `FETCH 1 (${items(256)})`);
    assert.equal(lines.length, 2);
    assert.equal(lines[0], `* 1 FETCH (${Array(256).fill("BODY[TEXT]<0> {…}").join(" ")})`);
    assert.equal(lines[1], "f1 OK FETCH completed");
    // A repeated item counts each time; the whole command is refused.
    lines = await client.command("f2", `FETCH 1 (${items(257)})`);
    assert.deepEqual(lines, ["f2 BAD Too many FETCH items (limit 256)"]);
    lines = await client.command("f3", `UID FETCH 1:* (FLAGS ${items(256)})`);
    assert.deepEqual(lines, ["f3 BAD Too many FETCH items (limit 256)"]);
  } finally {
    client.close();
    await server.stop();
  }
});
