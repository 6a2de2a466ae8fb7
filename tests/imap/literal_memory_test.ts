/**
 * Issue 11 item 6, measured: unauthenticated clients that announce message-sized
 * non-synchronizing literals must not make a server subprocess grow. Before the fix, three
 * connections each sending `a LOGIN {26214400+}` and its data four times (one command, four
 * literals) grew the server by about 300 MB.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnMain } from "../process.ts";
import { RawImap } from "./raw_client.ts";
import { withTimeout } from "../interop/imap_helpers.ts";

const LITERAL = 25 * 1024 * 1024;
const CONNECTIONS = 3;
const LITERALS_PER_CONNECTION = 4;
/** Growth allowed: noise from reading, GC timing, JIT. The attack added ~300 MB. */
const ALLOWED_GROWTH = 60 * 1024 * 1024;

/** Resident set size of a process, from /proc (Linux). */
async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, "VmRSS in /proc/pid/status");
  return Number(match[1]) * 1024;
}

/**
 * Sends the attack on one connection and leaves it open; returns the client and what the
 * server answered before closing it (nothing while the server keeps reading).
 */
async function attack(port: number): Promise<{ client: RawImap; lines: string[] }> {
  const { client } = await RawImap.connect(port);
  const chunk = new Uint8Array(1024 * 1024).fill(0x78);
  let open = true;
  for (let i = 0; i < LITERALS_PER_CONNECTION && open; i++) {
    open = await client.write(`${i === 0 ? "a" : ""} LOGIN {${LITERAL}+}\r\n`);
    for (let sent = 0; sent < LITERAL && open; sent += chunk.length) {
      open = await client.write(chunk);
    }
  }
  // The command is left unfinished: a server that buffers it is holding it all now.
  return { client, lines: open ? [] : await client.readToEnd() };
}

Deno.test({
  name: "literal memory: message-sized {n+} literals before login do not grow the server",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const server = await spawnMain(["--imap-port", "0", "--smtp-port", "0"]);
    const clients: RawImap[] = [];
    try {
      const pid = server.child.pid;
      const before = await rss(pid);
      let peak = before;
      let attacking = true;
      const sampler = (async () => {
        while (attacking) {
          peak = Math.max(peak, await rss(pid));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const answers = await withTimeout(
        Promise.all(Array.from({ length: CONNECTIONS }, () => attack(server.ports.IMAP))),
        "literal flood",
        60_000,
      );
      clients.push(...answers.map((answer) => answer.client));
      // Let the server work through what it has read.
      await new Promise((resolve) => setTimeout(resolve, 500));
      peak = Math.max(peak, await rss(pid));
      attacking = false;
      await sampler;
      const growth = peak - before;
      assert.ok(
        growth < ALLOWED_GROWTH,
        `the server grew by ${(growth / 1048576).toFixed(0)} MB (allowed ${
          ALLOWED_GROWTH / 1048576
        } MB)`,
      );
      for (const { lines } of answers) {
        assert.match(lines[0] ?? "", /^a BAD \[TOOBIG\] /, lines.join("\n"));
        assert.match(lines[1] ?? "", /^\* BYE /);
      }
    } finally {
      for (const client of clients) client.close();
      server.child.kill("SIGTERM");
      await server.exit();
    }
  },
});
