/**
 * RFC 1939 6 with SQLite: the UPDATE state removes every message marked deleted or none.
 * The server is killed with SIGKILL right after QUIT (at a few delays, to land before,
 * during and after the store's transaction); the database then holds all the messages or
 * none, never some.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { spawnMain } from "../process.ts";

const MESSAGES = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads until `count` lines have arrived (or the server closed). */
async function readLines(conn: Deno.Conn, count: number): Promise<string[]> {
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  while (text.split("\r\n").length - 1 < count) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text.split("\r\n").slice(0, count);
}

function fill(path: string): void {
  const store = openSqliteStore(path);
  try {
    store.ensureUser("alice");
    for (let i = 1; i <= MESSAGES; i++) {
      store.append("alice", "INBOX", encoder.encode(`Subject: ${i}\r\n\r\nbody ${i}\r\n`));
    }
  } finally {
    store.close();
  }
}

Deno.test({
  name: "pop3 UPDATE with SQLite: kill -9 after QUIT leaves all the messages or none",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const outcomes: string[] = [];
    for (const delayMs of [0, 1, 2, 5, 20]) {
      const dir = await Deno.makeTempDir({ prefix: "elektromail-pop3-crash-" });
      const path = `${dir}/mail.db`;
      try {
        fill(path);
        const server = await spawnMain([
          "--db",
          path,
          "--smtp-port",
          "0",
          "--imap-port",
          "0",
          "--pop3-port",
          "0",
        ]);
        try {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.POP3 });
          try {
            assert.match((await readLines(conn, 1))[0], /^\+OK /);
            await conn.write(encoder.encode("USER alice\r\nPASS x\r\n"));
            assert.deepEqual(await readLines(conn, 2), ["+OK", "+OK Logged in."]);
            let deletes = "";
            for (let i = 1; i <= MESSAGES; i++) deletes += `DELE ${i}\r\n`;
            await conn.write(encoder.encode(deletes));
            const replies = await readLines(conn, MESSAGES);
            assert.ok(replies.every((line) => line === "+OK Marked to be deleted."));
            await conn.write(encoder.encode("QUIT\r\n"));
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
            server.child.kill("SIGKILL");
          } finally {
            conn.close();
          }
          assert.equal((await server.exit()).signal, "SIGKILL");
        } finally {
          try {
            server.child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }
        const store = openSqliteStore(path);
        try {
          const uids = store.listMessages("alice", "INBOX").map((message) => message.uid);
          assert.ok(
            uids.length === 0 || uids.length === MESSAGES,
            `after kill -9 ${delayMs} ms after QUIT: ${uids.length} of ${MESSAGES} messages left`,
          );
          if (uids.length === MESSAGES) {
            assert.deepEqual(uids, Array.from({ length: MESSAGES }, (_, i) => i + 1));
          }
          outcomes.push(`${delayMs} ms: ${uids.length === 0 ? "all removed" : "none removed"}`);
        } finally {
          store.close();
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    console.log(`kill -9 after QUIT: ${outcomes.join(", ")}`);
  },
});
