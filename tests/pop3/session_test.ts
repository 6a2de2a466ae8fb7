/**
 * The POP3 session without sockets: bytes in, bytes out through a fake connection, to check
 * that RETR writes a big message only as fast as the client reads it.
 */

import assert from "node:assert/strict";
import { MaildropLocks } from "../../lib/pop3/maildrop.ts";
import { createPop3Session, type Pop3IO } from "../../lib/pop3/session.ts";
import { testConfig } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";

const encoder = new TextEncoder();
const HIGH_WATER = 256 * 1024;

/** A connection whose client reads only when told to. */
function fakeConnection() {
  let queued = 0;
  let total = 0;
  let text = "";
  let waiting: Array<() => void> = [];
  let paused = false;
  const io: Pop3IO = {
    write(data) {
      const size = typeof data === "string" ? data.length : data.length;
      if (typeof data === "string" && text.length < 4096) text += data;
      queued += size;
      total += size;
      return queued < HIGH_WATER;
    },
    drained: () => new Promise<void>((resolve) => waiting.push(resolve)),
    pause: () => (paused = true),
    resume: () => (paused = false),
    close() {},
  };
  return {
    io,
    get queued() {
      return queued;
    },
    get total() {
      return total;
    },
    get text() {
      return text;
    },
    get paused() {
      return paused;
    },
    /** The client reads everything queued so far. */
    read() {
      queued = 0;
      const resolve = waiting;
      waiting = [];
      for (const fn of resolve) fn();
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("pop3 session: RETR of a big message waits for the client to read", async () => {
  const store = openMemoryStore();
  const size = 8 * 1024 * 1024;
  const body = new Uint8Array(size).fill(0x61);
  for (let i = 99; i < size; i += 100) body[i] = 0x0a;
  store.ensureUser("alice");
  store.append("alice", "INBOX", body);
  const conn = fakeConnection();
  const session = createPop3Session({
    config: testConfig(),
    store,
    logger: quietLogger(),
    label: "pop3#1",
    locks: new MaildropLocks(),
    timestamp: null,
  }, conn.io);
  session.start();
  session.receive(encoder.encode("USER alice\r\nPASS x\r\nRETR 1\r\nQUIT\r\n"));
  for (let i = 0; i < 20; i++) await tick();
  // The client has read nothing: the session stopped near the high-water mark.
  assert.ok(conn.queued < HIGH_WATER + 300 * 1024, `queued ${conn.queued} octets unread`);
  assert.ok(conn.paused, "no input is read while output waits");
  let rounds = 0;
  while (!conn.text.includes("Logging out") || conn.total < size) {
    conn.read();
    await tick();
    assert.ok(conn.queued < HIGH_WATER + 300 * 1024, `queued ${conn.queued} octets unread`);
    assert.ok(++rounds < 10_000, "RETR never finished");
  }
  assert.ok(!conn.paused);
  // Every LF went out as CRLF, plus the status lines and the terminator.
  assert.ok(conn.total > size + size / 100);
  store.close();
});
