/**
 * A hostile client against the SQLite store's shared commit (`Store.shareCommit`): it sends
 * 1,000 whole transactions in one write, data without waiting for any 354, and reads nothing
 * until it has sent everything. Every 250 comes in order, each after its message's commit, and
 * every message is in the file once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MESSAGES = 1000;

Deno.test("smtp (sqlite): 1,000 transactions in one write, unread until sent, all stored in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-pipelined-" });
  const dbPath = `${dir}/mail.db`;
  try {
    const server = await startElektromail(testConfig({ httpPort: null, dbPath }));
    let replies = "";
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.smtp });
      let input = "EHLO hostile.example\r\n";
      for (let i = 0; i < MESSAGES; i++) {
        input += `MAIL FROM:<a@example.com>\r\nRCPT TO:<u${i % 3}@example.com>\r\nDATA\r\n` +
          `Subject: Piped ${i}\r\n\r\nbody ${i}\r\n.\r\n`;
      }
      input += "QUIT\r\n";
      // Written whole before anything is read (the server's replies wait in its buffers).
      await conn.write(encoder.encode(input));
      const buffer = new Uint8Array(64 * 1024);
      const deadline = Date.now() + 30_000; // a hang guard only
      while (!/^221 /m.test(replies)) {
        assert.ok(Date.now() < deadline, "no 221 in 30 s");
        const n = await conn.read(buffer);
        if (n === null) break;
        replies += decoder.decode(buffer.subarray(0, n));
      }
      conn.close();
    } finally {
      await server.stop();
    }
    const queued = replies.match(/^250 2\.0\.0 OK queued as .*$/gm) ?? [];
    assert.equal(queued.length, MESSAGES);
    // Each transaction's replies in order: MAIL, RCPT, 354, the 250 of its data.
    const codes = replies.split("\r\n").filter((line) => /^\d{3} /.test(line)).map((line) =>
      line.slice(0, 3)
    );
    assert.deepEqual(codes.slice(0, 5), ["220", "250", "250", "250", "354"]);
    for (let i = 0; i < MESSAGES; i++) {
      assert.deepEqual(codes.slice(2 + i * 4, 6 + i * 4), ["250", "250", "354", "250"], `#${i}`);
    }
    assert.equal(codes.at(-1), "221");
    const store = openSqliteStore(dbPath);
    const subjects: string[] = [];
    for (let u = 0; u < 3; u++) {
      for (const m of store.listMessages(`u${u}`, "INBOX")) subjects.push(m.summary.subject);
    }
    store.close();
    assert.equal(subjects.length, MESSAGES);
    assert.equal(new Set(subjects).size, MESSAGES, "a message stored twice");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
