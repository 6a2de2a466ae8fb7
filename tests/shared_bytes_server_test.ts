/**
 * Mail in shared memory (lib/mail/shared_bytes.ts), through a running server: what IMAP and
 * SMTP store is a view of shared memory the ledger does not count, the HTTP API serves it as
 * stored (web APIs refuse shared views), what the store lets go or never keeps is counted, and
 * the server collects once enough is: the expunged bytes are freed.
 */

import assert from "node:assert/strict";
import { testConfig } from "../lib/config.ts";
import { SHARED_BYTES } from "../lib/mail/shared_bytes.ts";
import { startElektromail } from "../lib/server.ts";
import { messagePath, withApi } from "./http/helpers.ts";
import { sendMail } from "./process.ts";
import { RawImap } from "./raw_imap.ts";
import { tempDb } from "./store/temp_db.ts";
import { waitFor as until } from "./wait.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A multipart message of about `size` octets whose first part is 8bit text. */
function message(size: number): string {
  const line = "8bit text, caf\u00e9 and more of it to fill the part.\r\n";
  return [
    "From: a@example.com",
    "Subject: shared",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    line.repeat(Math.ceil(size / line.length)) + "--b--",
    "",
  ].join("\r\n");
}

/** APPENDs `text` with a non-synchronizing literal; returns the tagged reply. */
async function append(imap: RawImap, mailbox: string, text: string): Promise<string> {
  const bytes = encoder.encode(text);
  const head = encoder.encode(`APPEND ${mailbox} {${bytes.length}+}\r\n`);
  const command = new Uint8Array(head.length + bytes.length);
  command.set(head);
  command.set(bytes, head.length);
  return (await imap.command(decoder.decode(command))).at(-1)!;
}

Deno.test("shared bytes: mail stored over IMAP and SMTP is kept in shared memory and served as stored", async () => {
  await withApi(async (api) => {
    const { store, ports } = api.server;
    const text = message(100_000);
    const before = SHARED_BYTES.loose;
    const imap = await RawImap.connect(ports.imap);
    try {
      assert.match((await imap.command("LOGIN alice any")).at(-1)!, /OK/);
      assert.match(await append(imap, "INBOX", text), /OK \[APPENDUID/);
    } finally {
      imap.close();
    }
    assert.match(await sendMail(ports.smtp, "bob@example.com", message(3_000)), /^250 /);
    const appended = store.getRaw("alice", "INBOX", 1)!;
    const delivered = store.getRaw("bob", "INBOX", 1)!;
    assert.ok(appended.buffer instanceof SharedArrayBuffer, "the literal is the stored message");
    assert.ok(delivered.buffer instanceof SharedArrayBuffer, "SMTP data is cut from shared slabs");
    assert.equal(decoder.decode(appended), text);
    // Kept, so not counted: the 100 KB literal is not among the bytes that may be garbage
    // (the SMTP listener's first 64 KiB slab is, until its messages fill it).
    assert.ok(SHARED_BYTES.loose - before < 100_000, `loose ${SHARED_BYTES.loose - before}`);

    const raw = await api.request(messagePath("alice:INBOX:1", "/raw"));
    assert.equal(raw.status, 200);
    assert.equal(decoder.decode(raw.bytes), text);
    // An 8bit part is served as a view of the stored bytes: copied, not refused.
    const part = await api.request(messagePath("alice:INBOX:1", "/parts/1"));
    assert.equal(part.status, 200);
    assert.match(decoder.decode(part.bytes), /^8bit text, caf\u00e9/);
    const mailpit = await api.request("/api/v1/message/latest/raw");
    assert.equal(mailpit.status, 200);
    assert.match(decoder.decode(mailpit.bytes), /\r\nSubject: shared\r\n/);
  });
});

Deno.test("shared bytes: literals the memory store does not keep are counted; SQLite's are V8's", async () => {
  await using db = await tempDb("shared-bytes");
  for (const dbPath of [null, db.path]) {
    const server = await startElektromail(testConfig({ dbPath, httpPort: null }));
    const imap = await RawImap.connect(server.ports.imap);
    try {
      assert.match((await imap.command("LOGIN alice any")).at(-1)!, /OK/);
      // A hostile client: a literal for a mailbox that does not exist is read, then refused.
      const before = SHARED_BYTES.loose;
      assert.match(await append(imap, "Nowhere", message(200_000)), /NO \[TRYCREATE\]/);
      const refused = SHARED_BYTES.loose - before;
      const stored = SHARED_BYTES.loose;
      assert.match(await append(imap, "INBOX", message(200_000)), /OK \[APPENDUID/);
      const grew = SHARED_BYTES.loose - stored;
      const shared = server.store.getRaw("alice", "INBOX", 1)!.buffer instanceof SharedArrayBuffer;
      if (dbPath === null) {
        assert.ok(refused >= 200_000, `a refused literal is not counted: ${refused}`);
        assert.ok(grew < 200_000, `the memory store keeps it, yet it is counted: ${grew}`);
        assert.ok(shared);
      } else {
        // SQLite keeps a copy of its own: the session's literals are ordinary arrays.
        assert.deepEqual({ refused, grew, shared }, { refused: 0, grew: 0, shared: false });
      }
    } finally {
      imap.close();
      await server.stop();
    }
  }
});

Deno.test("shared bytes: the server collects once enough mail is expunged, and the bytes are freed", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    const { store } = server;
    const size = 1024 * 1024;
    const body = encoder.encode(message(size));
    for (let i = 0; i < 70; i++) store.append("carol", "INBOX", body);
    let freed = false;
    const registry = new FinalizationRegistry(() => freed = true);
    // Registered without a reference kept here: only the store holds the buffer.
    (() => registry.register(store.getRaw("carol", "INBOX", 1)!.buffer, "message 1"))();
    assert.ok(SHARED_BYTES.loose < 64 * 1024 * 1024, "kept copies counted as garbage");
    store.setFlags(
      "carol",
      "INBOX",
      store.listMessages("carol", "INBOX").map((m) => m.uid),
      "add",
      [
        "\\Deleted",
      ],
    );
    assert.equal(store.expunge("carol", "INBOX").length, 70);
    // 70 MB let go, over the 64 MB step: the server's collection runs and clears the count.
    await until(() => SHARED_BYTES.loose < 64 * 1024 * 1024, "the collection after the expunge");
    await until(() => freed, "the expunged message's bytes freed");
  } finally {
    await server.stop();
  }
});

Deno.test("shared bytes: a client that sends large messages only to have them refused does not grow the server", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.imap });
  // One buffer for the replies and one for the command, reused: the client makes no garbage
  // of its own that would start V8's collections and free the server's too.
  const reply = new Uint8Array(4096);
  const readUntil = async (tag: string) => {
    let text = "";
    const done = new RegExp(`(^|\r\n)${tag} (OK|NO|BAD)[^\r]*\r\n`);
    const deadline = Date.now() + 20_000;
    while (!done.test(text)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no ${tag} reply: ${text}`)),
          deadline - Date.now(),
        );
      });
      try {
        const n = await Promise.race([conn.read(reply), late]);
        if (n === null) throw new Error("connection closed");
        // A tail long enough for any reply line here (the LOGIN one is ~540 octets).
        text = (text + decoder.decode(reply.subarray(0, n))).slice(-8192);
      } finally {
        clearTimeout(timer);
      }
    }
    return text;
  };
  const write = async (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length;) {
      done += await conn.write(bytes.subarray(done, done + 65536));
    }
  };
  try {
    await readUntil("\\*");
    await write(encoder.encode("a LOGIN alice any\r\n"));
    assert.match(await readUntil("a"), /a OK/);
    const size = 16 * 1024 * 1024;
    const head = encoder.encode(`x APPEND Nowhere {${size}+}\r\n`);
    const command = new Uint8Array(head.length + size + 2);
    command.set(head);
    command.fill(0x61, head.length, head.length + size);
    command.set(encoder.encode("\r\n"), head.length + size);
    // Warm: the server's first literal and its code are in the baseline.
    await write(command);
    assert.match(await readUntil("x"), /x NO \[TRYCREATE\]/);
    const before = Deno.memoryUsage().rss;
    let peak = before;
    // 240 MB of literals the server reads, holds for the command, and refuses: garbage V8
    // does not count, so only the ledger's collections free it.
    for (let i = 0; i < 15; i++) {
      await write(command);
      assert.match(await readUntil("x"), /x NO \[TRYCREATE\]/);
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }
    const grewMb = (peak - before) / 1024 / 1024;
    assert.ok(grewMb < 160, `the process grew ${grewMb.toFixed(0)} MB`);
  } finally {
    conn.close();
    await server.stop();
  }
});
