/**
 * Issue 11 item 8: a message of 100,000 MIME parts must not make the server hold hundreds of
 * megabytes once indexed (delivery is followed by idle-time indexing, lib/imap/warm.ts), and
 * `/reset` must let go of what it holds. The server is a subprocess collecting garbage every
 * 200 ms (tests/gc_main.ts), so its resident size follows what it still references.
 */

import assert from "node:assert/strict";
import { sendMail, type ServerProcess, spawnMain } from "../process.ts";
import { RawImap, rssOf } from "../raw_imap.ts";

const GC_MAIN = new URL("../gc_main.ts", import.meta.url).pathname;
const MB = 1024 * 1024;
const PARTS = 100_000;

function manyParts(n: number): string {
  const chunks = [
    `From: a@example.com\r\nTo: parts@example.com\r\nSubject: parts ${n}\r\nMIME-Version: 1.0\r\n`,
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
  ];
  for (let i = 0; i < PARTS; i++) chunks.push("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
  chunks.push("--b--\r\n");
  return chunks.join("");
}

/** The V8 heap in use after a full collection, as the server reports it on SIGUSR2. */
async function heapUsed(server: ServerProcess): Promise<number> {
  const before = server.stderr().length;
  server.child.kill("SIGUSR2");
  for (let i = 0; i < 100; i++) {
    const match = /heap-used (\d+)/.exec(server.stderr().slice(before));
    if (match) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no heap-used report");
}

/** The resident size once it stops moving (two readings 300 ms apart within 2 MB). */
async function settledRss(pid: number): Promise<number> {
  let last = rssOf(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = rssOf(pid);
    if (Math.abs(now - last) < 2 * MB) return now;
    last = now;
  }
  return last;
}

Deno.test({
  name: "mime index: three 100,000-part messages stay small once indexed and go with /reset",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const server = await spawnMain(
      ["--smtp-port", "0", "--imap-port", "0", "--http-port", "0"],
      {},
      { command: [Deno.execPath(), "run", "-A", "--v8-flags=--expose-gc", GC_MAIN] },
    );
    const pid = server.child.pid;
    try {
      // Warm up every code path once with a small message, then take the baseline.
      assert.match(
        await sendMail(server.ports.SMTP, "parts@example.com", "Subject: x\r\n\r\nx\r\n"),
        /^250 /,
      );
      const imap = await RawImap.connect(server.ports.IMAP);
      await imap.command("LOGIN parts x");
      await imap.command("SELECT INBOX");
      await imap.command("FETCH 1 (ENVELOPE BODYSTRUCTURE)");
      await imap.command("SEARCH TEXT nothing");
      const base = await settledRss(pid);
      const baseHeap = await heapUsed(server);

      for (let n = 0; n < 3; n++) {
        assert.match(await sendMail(server.ports.SMTP, "parts@example.com", manyParts(n)), /^250 /);
      }
      // Index all of it now (the idle-time warmer would do the same a moment later).
      await imap.command("NOOP", 60_000);
      await imap.command("FETCH 2:4 (ENVELOPE)", 60_000);
      await imap.command("SEARCH TEXT nothing", 60_000);
      const indexed = await settledRss(pid);
      imap.close();

      const reset = await fetch(`http://127.0.0.1:${server.ports.HTTP}/reset`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(reset.status, 200);
      await reset.body?.cancel();
      const afterReset = await settledRss(pid);
      const heapLeft = (await heapUsed(server) - baseHeap) / MB;
      const growth = (indexed - base) / MB;
      const left = (afterReset - base) / MB;
      console.log(
        `RSS: base ${(base / MB).toFixed(0)} MB, +${growth.toFixed(0)} MB indexed, ` +
          `+${left.toFixed(0)} MB after /reset (V8 heap in use: ${
            heapLeft.toFixed(1)
          } MB over base)`,
      );
      // 3 x 3.6 MB of mail. Before the fix: +465 MB here (800+ MB with V8's own GC timing).
      // What remains is mostly heap V8 keeps reserved after collecting the parsing garbage.
      assert.ok(growth < 250, `RSS grew by ${growth.toFixed(0)} MB for 3 messages`);
      // After /reset nothing of the messages or their indexes is still referenced.
      assert.ok(heapLeft < 8, `${heapLeft.toFixed(1)} MB of heap still in use after /reset`);
    } finally {
      server.child.kill("SIGKILL");
      await server.exit();
    }
  },
});
