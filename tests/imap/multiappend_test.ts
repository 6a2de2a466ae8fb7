/**
 * MULTIAPPEND (RFC 3502) over a real socket where a transcript cannot say it well: the
 * message count limit, the cap on a command's literals in all (a hostile client sending
 * messages forever), and all-or-none with the SQLite store, checked in the reopened file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type Config, testConfig } from "../../lib/config.ts";
import { MAX_APPEND_MESSAGES } from "../../lib/imap/commands/append.ts";
import { startElektromail } from "../../lib/server.ts";
import { withTimeout } from "../interop/imap_helpers.ts";
import { RawImap } from "./raw_client.ts";

async function withImap(
  overrides: Partial<Config>,
  fn: (client: RawImap) => Promise<void>,
): Promise<void> {
  const config = testConfig({ httpPort: null, ...overrides });
  const server = await startElektromail(config);
  try {
    const { client } = await RawImap.connect(server.ports.imap);
    try {
      await withTimeout(
        (async () => {
          await client.command("a0 LOGIN alice x");
          await fn(client);
        })(),
        "multiappend",
        20_000,
      );
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

const message = (n: number) => `Subject: ${String(n).padStart(4, "0")}`;
const size = message(1).length;

Deno.test("MULTIAPPEND: over the message count limit is NO [LIMIT], nothing appended", async () => {
  await withImap({}, async (client) => {
    const count = MAX_APPEND_MESSAGES + 1;
    const parts = Array.from({ length: count }, (_, i) => `{${size}+}\r\n${message(i)}`);
    await client.write(`a1 APPEND INBOX ${parts.join(" ")}\r\n`);
    const lines = await client.readUntilTagged("a1");
    assert.match(lines.at(-1)!, /^a1 NO \[LIMIT\] /);
    const status = await client.command("a2 STATUS INBOX (MESSAGES)");
    assert.equal(status[0], "* STATUS INBOX (MESSAGES 0)");
    // Exactly at the limit is fine.
    const fits = parts.slice(0, MAX_APPEND_MESSAGES).join(" ");
    const ok = await client.command(`a3 APPEND INBOX ${fits}`);
    assert.equal(ok.at(-1), `a3 OK [APPENDUID 1 1:${MAX_APPEND_MESSAGES}] APPEND completed`);
  });
});

Deno.test("MULTIAPPEND: a client that never ends the command is cut at the literal cap", async () => {
  const maxMessageSize = 64 * 1024;
  await withImap({ limits: { ...testConfig().limits, maxMessageSize } }, async (client) => {
    // 64 KiB messages, one after another, without end: the literals in all pass the cap
    // (64 MiB + 64 KiB) and the literal that does is refused; the rest is drained.
    const body = "x".repeat(maxMessageSize);
    let answer: string | null = null;
    const reader = client.readUntilTagged("a1").then((lines) => answer = lines.at(-1)!);
    await client.write(`a1 APPEND INBOX {${maxMessageSize}+}\r\n`);
    for (let i = 0; i < 1100 && answer === null; i++) {
      if (!await client.write(`${body} {${maxMessageSize}+}\r\n`)) break;
    }
    await reader;
    assert.match(answer!, /^a1 BAD \[TOOBIG\] Literals of \d+ octets in all are over the limit/);
  });
});

Deno.test("MULTIAPPEND with SQLite: a bad third message leaves nothing in the reopened file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-multiappend-" });
  const dbPath = `${dir}/mail.db`;
  try {
    await withImap({ dbPath }, async (client) => {
      const one = await client.command(`a1 APPEND INBOX {${size}+}\r\n${message(1)}`);
      assert.equal(one.at(-1), "a1 OK [APPENDUID 1 1] APPEND completed");
      // Third message empty; then one whose third part is a URL to a message that is not there.
      const bad = await client.command(
        `a2 APPEND INBOX {${size}+}\r\n${message(2)} {${size}+}\r\n${message(3)} {0+}\r\n`,
      );
      assert.equal(bad.at(-1), "a2 NO Cannot append an empty message");
      const badUrl = await client.command(
        `a3 APPEND INBOX {${size}+}\r\n${message(2)} {${size}+}\r\n${message(3)}` +
          ` CATENATE (URL "/INBOX/;UID=9")`,
      );
      assert.equal(badUrl.at(-1), "a3 NO [BADURL /INBOX/;UID=9] Message not found");
    });
    const db = new DatabaseSync(dbPath);
    try {
      const uids = db.prepare("SELECT uid FROM messages").all().map((row) => row.uid);
      assert.deepEqual(uids, [1]);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MULTIAPPEND with CATENATE: URL data counts toward the command's total", async () => {
  // A limit above MAX_APPEND_TOTAL makes the total equal to it: two copies of a message of
  // more than half the limit, made by URL (no literal carried them), are over it.
  const maxMessageSize = 70 * 1024 * 1024;
  const config = testConfig();
  const server = await startElektromail({
    ...config,
    httpPort: null,
    limits: { ...config.limits, maxMessageSize },
  });
  try {
    const big = new Uint8Array(36 * 1024 * 1024).fill(0x78);
    big.set(new TextEncoder().encode("Subject: big\r\n\r\n"));
    server.store.ensureUser("alice");
    server.store.append("alice", "INBOX", big, { transfer: true });
    const { client } = await RawImap.connect(server.ports.imap);
    try {
      await client.command("a0 LOGIN alice x");
      const url = `CATENATE (URL "/INBOX/;UID=1")`;
      const one = await client.command(`a1 APPEND INBOX ${url}`);
      assert.equal(one.at(-1), "a1 OK [APPENDUID 1 2] APPEND completed");
      const two = await client.command(`a2 APPEND INBOX ${url} ${url}`);
      assert.equal(two.at(-1), `a2 NO [TOOBIG] Messages are over ${maxMessageSize} octets in all`);
      assert.equal(server.store.getMailbox("alice", "INBOX")!.messages, 2);
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
});
