/**
 * SQLite specifics beyond the shared contract: durability across close and reopen, schema
 * versioning, shared blobs, and a `kill -9` of the real server after SMTP said 250.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import {
  FLAG_LOG_BACKLOG,
  FLAG_LOG_MIN,
  FLAG_LOG_ROW,
  SCHEMA_VERSION,
} from "../../lib/store/sqlite.ts";
import type { StartTimer } from "../../lib/store/sqlite_checkpoint.ts";
import { deliver } from "../../lib/delivery.ts";
import { sendMail, spawnMain } from "../process.ts";
import { sampleMessage } from "./contract.ts";
import { tempDb } from "./temp_db.ts";

function count(path: string, sql: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number(Object.values(db.prepare(sql).get()!)[0]);
  } finally {
    db.close();
  }
}

Deno.test("sqlite: state survives close and reopen", async () => {
  await using db = await tempDb("sqlite");
  const raw = sampleMessage("Persisted");
  let store = openSqliteStore(db.path);
  store.ensureUser("alice");
  store.createMailbox("alice", "Work/Projects");
  store.setSubscribed("alice", "Work/Projects", true);
  store.setSubscribed("alice", "Ghost", true);
  store.setSubscribed("alice", "Junk", false);
  for (let i = 0; i < 4; i++) {
    store.append("alice", "INBOX", i === 0 ? raw : sampleMessage(`m${i}`), {
      flags: ["\\Seen", "$Custom"],
      internalDate: 1_600_000_000_000 + i,
    });
  }
  store.setFlags("alice", "INBOX", [2], "replace", ["\\Deleted", "\\Flagged"]);
  store.expunge("alice", "INBOX", [4], true);
  store.createMailbox("alice", "Gone");
  store.append("alice", "Gone", sampleMessage());
  store.append("alice", "Gone", sampleMessage());
  store.deleteMailbox("alice", "Gone");
  store.copyMessages("alice", "INBOX", [1], "Work/Projects");
  store.append("bob", "INBOX", sampleMessage("for bob"));
  const before = {
    users: store.listUsers(),
    mailboxes: store.listMailboxes("alice"),
    messages: store.listMessages("alice", "INBOX"),
    copies: store.listMessages("alice", "Work/Projects"),
    subscriptions: store.listSubscriptions("alice"),
    bob: store.listMailboxes("bob"),
  };
  store.close();

  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.listUsers(), before.users);
    assert.deepEqual(store.listMailboxes("alice"), before.mailboxes);
    assert.deepEqual(store.listMessages("alice", "INBOX"), before.messages);
    assert.deepEqual(store.listMessages("alice", "Work/Projects"), before.copies);
    assert.deepEqual(store.listSubscriptions("alice"), before.subscriptions);
    assert.deepEqual(store.listMailboxes("bob"), before.bob);
    assert.deepEqual(store.getRaw("alice", "INBOX", 1), raw);
    assert.deepEqual(store.getRaw("alice", "Work/Projects", 1), raw);
    assert.deepEqual(store.getMessage("alice", "INBOX", 2)?.flags, ["\\Deleted", "\\Flagged"]);
    // UID high-water marks: the expunged UID 4 and the deleted mailbox's UIDs stay used.
    assert.equal(store.append("alice", "INBOX", sampleMessage()).uid, 5);
    store.createMailbox("alice", "Gone");
    assert.equal(store.append("alice", "Gone", sampleMessage()).uid, 3);
  } finally {
    store.close();
  }
  // A reset is durable too, and UIDs restart at 1 after reopening.
  store = openSqliteStore(db.path);
  store.reset();
  store.close();
  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.listUsers(), []);
    assert.equal(store.append("alice", "INBOX", sampleMessage()).uid, 1);
  } finally {
    store.close();
  }
});

Deno.test("sqlite: UID high-water marks of renamed names survive reopen", async () => {
  await using db = await tempDb("sqlite");
  let store = openSqliteStore(db.path);
  store.createMailbox("u", "before");
  for (let i = 0; i < 3; i++) store.append("u", "before", sampleMessage());
  store.renameMailbox("u", "before", "after");
  store.createMailbox("u", "parent/kid");
  store.append("u", "parent/kid", sampleMessage());
  store.append("u", "parent/kid", sampleMessage());
  store.renameMailbox("u", "parent", "moved");
  store.close();
  store = openSqliteStore(db.path);
  try {
    assert.equal(store.getMailbox("u", "after")?.uidNext, 4);
    store.deleteMailbox("u", "after");
    store.createMailbox("u", "after");
    assert.equal(store.append("u", "after", sampleMessage()).uid, 4, "new name keeps its UIDs");
    store.createMailbox("u", "before");
    assert.equal(store.append("u", "before", sampleMessage()).uid, 4, "old name too");
    store.deleteMailbox("u", "moved/kid");
    store.createMailbox("u", "moved/kid");
    assert.equal(store.append("u", "moved/kid", sampleMessage()).uid, 3, "renamed child");
  } finally {
    store.close();
  }
});

Deno.test("sqlite: UIDs renumbered by a rename onto a used name survive reopen", async () => {
  await using db = await tempDb("sqlite");
  let store = openSqliteStore(db.path);
  store.ensureUser("u");
  store.createMailbox("u", "A");
  store.createMailbox("u", "B");
  store.append("u", "A", sampleMessage("a1"));
  store.append("u", "B", sampleMessage("b1"), { flags: ["\\Flagged"] });
  store.append("u", "B", sampleMessage("b2"));
  store.renameMailbox("u", "A", "C");
  store.renameMailbox("u", "B", "A");
  const before = store.listMessages("u", "A");
  assert.deepEqual(before.map((m) => m.uid), [3, 4]);
  store.close();
  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.listMessages("u", "A"), before);
    assert.equal(store.getMailbox("u", "A")?.uidNext, 5);
    assert.deepEqual(store.getRaw("u", "A", 3), sampleMessage("b1"));
    assert.equal(
      count(
        db.path,
        "SELECT count(*) FROM messages WHERE uid IN (1, 2) AND mailbox_id = " +
          "(SELECT id FROM mailboxes WHERE user = 'u' AND name = 'A')",
      ),
      0,
    );
    assert.equal(store.append("u", "A", sampleMessage()).uid, 5);
  } finally {
    store.close();
  }
});

Deno.test("sqlite: a failed transaction rolls back and memory follows the database", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  try {
    store.append("u", "INBOX", sampleMessage("kept"));
    // Another writer creates a row the store does not know about, so the store's next
    // insert of that name breaks the UNIQUE constraint half-way through createMailbox.
    const other = new DatabaseSync(db.path);
    other.prepare("INSERT INTO mailboxes (user, name, special_use, uid_next) VALUES (?, ?, ?, ?)")
      .run("u", "p/q", null, 1);
    other.close();
    const events: string[] = [];
    store.subscribe((event) => events.push(event.type));
    assert.throws(() => store.createMailbox("u", "p/q"), /UNIQUE/);
    assert.deepEqual(events, [], "no events for a change that did not happen");
    assert.equal(store.getMailbox("u", "p"), undefined, "the parent insert was rolled back");
    assert.equal(store.getMailbox("u", "p/q")?.uidNext, 1, "reloaded from the database");
    assert.equal(count(db.path, "SELECT count(*) FROM mailboxes WHERE name = 'p'"), 0);
    // The store goes on working, with the same UIDs as before.
    assert.deepEqual(store.listMessages("u", "INBOX").map((m) => m.summary.subject), ["kept"]);
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 2);
    assert.equal(store.append("u", "p/q", sampleMessage()).uid, 1);
    store.createMailbox("u", "p/r");
    assert.ok(store.getMailbox("u", "p"));
  } finally {
    store.close();
  }
});

Deno.test("sqlite: a blob a copy shares stays through a rolled-back expunge, and goes with its last message", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  try {
    const raw = sampleMessage("Shared");
    store.append("u", "INBOX", raw);
    store.createMailbox("u", "Archive");
    store.copyMessages("u", "INBOX", [1], "Archive");
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 1, "one blob, two messages");
    // The expunge counts the blob's references down, then the call fails and is undone: the
    // count must come back with it (the references are counted in memory).
    assert.throws(
      () =>
        store.shareCommit(() => {
          store.setFlags("u", "INBOX", [1], "add", ["\\Deleted"]);
          store.expunge("u", "INBOX");
          throw new Error("undone");
        }),
      /undone/,
    );
    assert.deepEqual(store.listMessages("u", "INBOX").map((meta) => meta.uid), [1]);
    // A call that fails before it writes is undone without a reload of the store: the counts
    // are taken again from the message rows before their next use.
    assert.throws(() => store.shareCommit(() => assert.fail("refused")), /refused/);
    store.copyMessages("u", "Archive", [1], "INBOX");
    store.setFlags("u", "INBOX", [1, 2], "add", ["\\Deleted"]);
    store.expunge("u", "INBOX");
    assert.deepEqual(store.getRaw("u", "Archive", 1), raw, "the copy keeps its bytes");
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 1);
    store.setFlags("u", "Archive", [1], "add", ["\\Deleted"]);
    store.expunge("u", "Archive");
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 0, "gone with its last message");
  } finally {
    store.close();
  }
});

Deno.test("sqlite: the counters are rebuilt on open", async () => {
  await using db = await tempDb("sqlite");
  let store = openSqliteStore(db.path);
  store.append("u", "INBOX", sampleMessage("a"), { flags: ["\\Seen"] });
  store.append("u", "INBOX", sampleMessage("b"), { flags: ["\\Deleted"] });
  store.append("u", "INBOX", sampleMessage("c"));
  const info = store.getMailbox("u", "INBOX");
  store.close();
  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.getMailbox("u", "INBOX"), info);
    assert.equal(info?.unseen, 2);
    assert.equal(info?.deleted, 1);
    assert.equal(info?.messages, 3);
  } finally {
    store.close();
  }
});

Deno.test("sqlite: a database with a newer schema version is refused", async () => {
  await using db = await tempDb("sqlite");
  openSqliteStore(db.path).close();
  const raw = new DatabaseSync(db.path);
  assert.equal(
    Number((raw.prepare("PRAGMA user_version").get() as { user_version: number }).user_version),
    SCHEMA_VERSION,
  );
  raw.exec("PRAGMA user_version = 99");
  raw.close();
  assert.throws(
    () => openSqliteStore(db.path),
    (error: Error) => {
      assert.match(error.message, /schema version 99/);
      assert.match(error.message, new RegExp(`newer than this program's ${SCHEMA_VERSION}`));
      return true;
    },
  );
  // The refusal leaves the file alone.
  const again = new DatabaseSync(db.path);
  assert.equal(
    Number((again.prepare("PRAGMA user_version").get() as { user_version: number }).user_version),
    99,
  );
  again.close();
});

Deno.test("sqlite: a first delivery to a new user prepares no statement: they were prepared at open", async () => {
  await using db = await tempDb("sqlite");
  const prepared: string[] = [];
  const store = openSqliteStore(db.path, { prepared: (text) => prepared.push(text) });
  try {
    assert.ok(prepared.length >= 8, `${prepared.length} statements prepared at open`);
    prepared.length = 0;
    // As an SMTP session delivers (lib/smtp/commands.ts finishData).
    const head = "Received: from client.example;\r\n";
    const parts = [sampleMessage("First")];
    const commit = store.shareCommit(() => {
      deliver(store, [{ user: "bob", address: "bob@example.com" }], {
        head,
        parts,
        size: head.length + parts[0].length,
      }, {
        envelopeFrom: "alice@example.com",
        envelopeHelo: "client.example",
        envelopeHeaders: true,
      });
    });
    assert.ok(commit, "a shared commit");
    assert.equal(await new Promise((resolve) => commit.whenCommitted(resolve)), null);
    assert.equal(store.listMessages("bob", "INBOX").length, 1);
    assert.deepEqual(prepared, [], "statements prepared by the first delivery");
  } finally {
    store.close();
  }
});

Deno.test("sqlite: journal mode is WAL", async () => {
  await using db = await tempDb("sqlite");
  openSqliteStore(db.path).close();
  const raw = new DatabaseSync(db.path);
  try {
    assert.equal(raw.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  } finally {
    raw.close();
  }
});

Deno.test("sqlite: copies share one blob, deleted with the last reference", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  try {
    store.createMailbox("u", "A");
    store.createMailbox("u", "B");
    store.append("u", "INBOX", sampleMessage("shared"));
    store.append("u", "INBOX", sampleMessage("other"));
    store.copyMessages("u", "INBOX", [1], "A");
    store.copyMessages("u", "A", [1], "B");
    store.moveMessages("u", "B", [1], "A");
    assert.equal(count(db.path, "SELECT count(*) FROM messages"), 4);
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 2);

    store.expunge("u", "INBOX", [1], true);
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 2, "still referenced by A");
    store.expunge("u", "A", [1], true);
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 2, "still referenced by A/2");
    store.deleteMailbox("u", "A");
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 1, "last reference gone");
    assert.equal(count(db.path, "SELECT count(*) FROM messages"), 1);

    // Renaming INBOX moves the messages without copying bytes or orphaning them.
    store.renameMailbox("u", "INBOX", "Old");
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 1);
    assert.deepEqual(store.getRaw("u", "Old", 1), sampleMessage("other"));
    store.reset();
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 0);
    assert.equal(count(db.path, "SELECT count(*) FROM messages"), 0);
  } finally {
    store.close();
  }
});

Deno.test({
  name: "sqlite: a message acknowledged with 250 survives kill -9 of the server",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using db = await tempDb("sqlite");
    const args = ["--db", db.path, "--smtp-port", "0", "--imap-port", "0"];
    const first = await spawnMain(args);
    let stored: Uint8Array | undefined;
    const body = "From: a@example.com\r\nTo: crash@example.com\r\nSubject: Crash test\r\n" +
      "\r\nLine one\r\n\u00e9t\u00e9 8-bit\r\nlast line\r\n";
    try {
      assert.match(first.banner, new RegExp(`storage\\s+SQLite ${db.path}`));
      const reply = await sendMail(first.ports.SMTP, "crash+tag@example.com", body);
      assert.match(reply, /^250 /);
      first.child.kill("SIGKILL");
      const status = await first.exit();
      assert.equal(status.signal, "SIGKILL");

      const second = await spawnMain(args);
      try {
        // A second delivery after the restart continues the UIDs.
        assert.match(await sendMail(second.ports.SMTP, "crash@example.com", body), /^250 /);
      } finally {
        second.child.kill("SIGTERM");
        assert.equal((await second.exit()).code, 0);
      }
      const store = openSqliteStore(db.path);
      try {
        const messages = store.listMessages("crash", "INBOX");
        assert.deepEqual(messages.map((m) => m.uid), [1, 2]);
        // MODSEQs too (RFC 7162): INBOX starts at 1, the delivery before the crash took 2,
        // the one after it 3.
        assert.deepEqual(messages.map((m) => m.modseq), [2, 3]);
        assert.equal(store.getMailbox("crash", "INBOX")?.highestModseq, 3);
        // The envelope, with the client's EHLO name (MailHog's Raw.Helo), survives too.
        assert.deepEqual(messages[0].envelope, {
          from: "sender@example.com",
          to: "crash+tag@example.com",
          helo: "test",
        });
        stored = store.getRaw("crash", "INBOX", 1);
      } finally {
        store.close();
      }
    } finally {
      try {
        first.child.kill("SIGKILL");
      } catch {
        // already dead
      }
    }
    // Stored bytes: the trace headers (Return-Path, Delivered-To, Received), then the message
    // byte for byte.
    const text = new TextDecoder().decode(stored);
    assert.match(
      text,
      /^Return-Path: <sender@example\.com>\r\nDelivered-To: crash\+tag@example\.com\r\nReceived: /,
    );
    const expected = new TextEncoder().encode(body);
    assert.deepEqual(stored!.subarray(stored!.length - expected.length), expected);
    const headerEnd = text.indexOf("From: a@example.com");
    assert.match(text.slice(0, headerEnd), /^Return-Path: [^]*\r\nReceived: [^]*\r\n$/);
  },
});

Deno.test("sqlite: bytes read right after an append are the appended ones, also when a blob id comes again", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  try {
    const encode = (text: string) =>
      new TextEncoder().encode(`Subject: ${text}\r\n\r\n${text}\r\n`);
    const first = store.append("u", "INBOX", encode("first"), { transfer: true });
    assert.deepEqual(store.getRaw("u", "INBOX", first.uid), encode("first"));
    store.expunge("u", "INBOX", [first.uid], true);
    // The highest blob row went, so SQLite gives its id again, here to bytes not handed over.
    const second = store.append("u", "INBOX", encode("second"));
    assert.equal(count(db.path, "SELECT max(id) FROM blobs"), 1);
    assert.deepEqual(store.getRaw("u", "INBOX", second.uid), encode("second"));
    // Bytes not handed over may change under the store once append returns.
    const lent = encode("third");
    const third = store.append("u", "INBOX", lent);
    lent.fill(0x41);
    assert.deepEqual(store.getRaw("u", "INBOX", third.uid), encode("third"));
    // A multi-append's messages, each its own.
    const many = store.appendMessages(
      "u",
      "INBOX",
      ["a", "b", "c"].map((text) => ({ raw: encode(text), options: { transfer: true } })),
    );
    assert.deepEqual(
      many.map((meta) => new TextDecoder().decode(store.getRaw("u", "INBOX", meta.uid))),
      ["a", "b", "c"].map((text) => `Subject: ${text}\r\n\r\n${text}\r\n`),
    );
  } finally {
    store.close();
  }
});

Deno.test("sqlite: the reads of one task share a snapshot, ended before the next write and task", async () => {
  await using db = await tempDb("sqlite");
  // Bytes in `blobs` rows (a database from before the mail file), which another connection
  // can change under the store; the mail file's bytes are never changed.
  const store = openSqliteStore(db.path, { blobsInDatabase: true });
  const other = new DatabaseSync(db.path);
  try {
    const encode = (text: string) =>
      new TextEncoder().encode(`Subject: ${text}\r\n\r\n${text}\r\n`);
    const [a, b] = [
      store.append("u", "INBOX", encode("a")),
      store.append("u", "INBOX", encode("b")),
    ];
    const blobOf = (uid: number) =>
      Number(
        other.prepare(
          "SELECT blob_id FROM messages WHERE mailbox_id = (SELECT id FROM mailboxes WHERE name = 'INBOX') AND uid = ?",
        ).get(uid)!.blob_id,
      );
    const change = (uid: number, text: string) =>
      other.prepare("UPDATE blobs SET data = ? WHERE id = ?").run(encode(text), blobOf(uid));
    const read = (uid: number) => new TextDecoder().decode(store.getRaw("u", "INBOX", uid));
    // A change made by another connection between two reads of one task is not seen by the
    // second: they read one snapshot (one read lock, not one a statement)...
    assert.match(read(a.uid), /^Subject: a/);
    change(b.uid, "changed");
    assert.match(read(b.uid), /^Subject: b/);
    // ...until a write in the same task, which ends the read transaction first.
    store.setFlags("u", "INBOX", [a.uid], "add", ["\\Seen"]);
    assert.match(read(b.uid), /^Subject: changed/);
    // The next task's reads see the database as it is then (the transaction ended).
    await Promise.resolve();
    change(b.uid, "again");
    assert.match(read(b.uid), /^Subject: again/);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(
      Number(Object.values(other.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get()!)[0]),
      0,
      "no read transaction is left open to keep the WAL from starting over",
    );
  } finally {
    other.close();
    store.close();
  }
});

/**
 * A store whose idle timers fire only when the test says: `fire` after a real wait, until none
 * is left; `fireDue` the ones pending now, at once.
 */
function manualTimers(): {
  startTimer: StartTimer;
  fire: () => Promise<void>;
  fireDue: () => void;
} {
  let pending: Array<() => void> = [];
  return {
    startTimer: (_ms, fire) => {
      let live = true;
      pending.push(() => live && fire());
      return { cancel: () => live = false };
    },
    fire: async () => {
      // The flag log waits for writes to pause (200 ms); the checkpoint's idle step for 100.
      await new Promise((resolve) => setTimeout(resolve, 250));
      while (pending.length > 0) {
        const due = pending;
        pending = [];
        for (const fire of due) fire();
      }
    },
    fireDue: () => {
      const due = pending;
      pending = [];
      for (const fire of due) fire();
    },
  };
}

const FLAGGED_ROWS = "SELECT count(*) FROM messages WHERE flags LIKE '%Seen%'";

Deno.test("sqlite: a STORE of many messages goes to the flag log, read at open and applied in idle time", async () => {
  await using db = await tempDb("sqlite");
  const timers = manualTimers();
  const open = () => openSqliteStore(db.path, { startTimer: timers.startTimer });
  let store = open();
  const n = FLAG_LOG_MIN + 36;
  try {
    for (let i = 0; i < n; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    const uids = store.listMessages("u", "INBOX").map((meta) => meta.uid);
    store.setFlags("u", "INBOX", uids, "add", ["\\Seen"]);
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 1);
    assert.equal(count(db.path, FLAGGED_ROWS), 0, "no message row written");
    // A change of a few is written to their rows; the row's MODSEQ is then above the log's.
    store.setFlags("u", "INBOX", [uids[4]], "remove", ["\\Seen"]);
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 1);
    const before = store.listMessages("u", "INBOX");
    const highest = store.getMailbox("u", "INBOX")!.highestModseq;
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "INBOX"), before);
    assert.equal(store.getMailbox("u", "INBOX")!.highestModseq, highest);
    assert.equal(before.filter((meta) => meta.flags.includes("\\Seen")).length, n - 1);
    // Idle time: the log is applied to the rows (not over the later change) and emptied.
    await timers.fire();
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 0);
    assert.equal(count(db.path, FLAGGED_ROWS), n - 1);
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "INBOX"), before);
  } finally {
    store.close();
  }
});

Deno.test("sqlite: a STORE over rows taking different lists, with gaps, keeps each message's own", async () => {
  // The changes reach the backend as runs of consecutive rows taking one list: a run must
  // end where the next row's new list differs and where a row id is skipped.
  for (const n of [FLAG_LOG_MIN - 1, FLAG_LOG_MIN + 20]) {
    await using db = await tempDb("sqlite");
    const timers = manualTimers();
    const open = () => openSqliteStore(db.path, { startTimer: timers.startTimer });
    let store = open();
    try {
      for (let i = 0; i < n + 3; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
      const uids = store.listMessages("u", "INBOX").map((meta) => meta.uid);
      // Every third message flagged first: its next list is not its neighbours'.
      store.setFlags("u", "INBOX", uids.filter((_, i) => i % 3 === 0), "add", ["\\Flagged"]);
      // A gap of row ids: the second message is left out.
      store.setFlags("u", "INBOX", uids.filter((_, i) => i !== 1), "add", ["\\Seen"]);
      const expected = uids.map((uid, i) => ({
        uid,
        flags: [...(i % 3 === 0 ? ["\\Flagged"] : []), ...(i !== 1 ? ["\\Seen"] : [])].sort(),
      }));
      const flagsNow = () =>
        store.listMessages("u", "INBOX").map((meta) => ({
          uid: meta.uid,
          flags: [...meta.flags].sort(),
        }));
      assert.deepEqual(flagsNow(), expected);
      store.close();
      store = open();
      assert.deepEqual(flagsNow(), expected, `${n}: after a reopen`);
      await timers.fire();
      assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 0);
      store.close();
      store = open();
      assert.deepEqual(flagsNow(), expected, `${n}: after the log was applied`);
    } finally {
      store.close();
    }
  }
});

Deno.test("sqlite: logged flags stay with their message: not given to a new one, kept through a renumbering", async () => {
  await using db = await tempDb("sqlite");
  const timers = manualTimers();
  const open = () => openSqliteStore(db.path, { startTimer: timers.startTimer });
  let store = open();
  try {
    store.createMailbox("u", "A");
    store.createMailbox("u", "B");
    for (let i = 0; i < FLAG_LOG_MIN; i++) {
      store.append("u", "A", sampleMessage(`a${i}`));
      store.append("u", "B", sampleMessage(`b${i}`));
    }
    const uidsOf = (name: string) => store.listMessages("u", name).map((meta) => meta.uid);
    store.setFlags("u", "A", uidsOf("A"), "add", ["\\Seen"]);
    store.setFlags("u", "B", uidsOf("B"), "add", ["$Logged"]);
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 2);
    // The newest message row goes; SQLite alone would give its id to the next row.
    const last = uidsOf("B").at(-1)!;
    const lastId = count(db.path, "SELECT max(id) FROM messages");
    store.expunge("u", "B", [last], true);
    const fresh = store.append("u", "B", sampleMessage("fresh"));
    assert.ok(count(db.path, "SELECT max(id) FROM messages") > lastId);
    // A rename onto a used name renumbers the moved messages (their rows' MODSEQ rises).
    store.renameMailbox("u", "A", "C");
    store.renameMailbox("u", "B", "A");
    const expected = store.listMessages("u", "A");
    assert.equal(
      expected.filter((meta) => meta.flags.includes("$Logged")).length,
      FLAG_LOG_MIN - 1,
    );
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "A"), expected);
    assert.deepEqual(
      store.listMessages("u", "A").find((meta) => meta.emailId === fresh.emailId)?.flags,
      [],
    );
    await timers.fire();
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 0);
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "A"), expected);
    assert.equal(
      store.listMessages("u", "C").filter((meta) => meta.flags.includes("\\Seen")).length,
      FLAG_LOG_MIN,
    );
  } finally {
    store.close();
  }
});

Deno.test("sqlite: a deleted mailbox leaves no row behind, its shared blobs only with their last message", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  try {
    store.createMailbox("u", "Work");
    for (let i = 0; i < 3; i++) store.append("u", "Work", sampleMessage(`w${i}`));
    store.copyMessages("u", "Work", [1], "INBOX");
    store.expunge("u", "Work", [2], true);
    store.setMetadata("u", "Work", [["/private/comment", new TextEncoder().encode("x")]]);
    const id = count(db.path, "SELECT id FROM mailboxes WHERE name = 'Work'");
    assert.equal(count(db.path, `SELECT count(*) FROM vanished WHERE mailbox_id = ${id}`), 1);
    store.deleteMailbox("u", "Work");
    for (const table of ["messages", "vanished", "metadata"]) {
      assert.equal(count(db.path, `SELECT count(*) FROM ${table} WHERE mailbox_id = ${id}`), 0);
    }
    // The copy in INBOX keeps its blob; the others went with their messages.
    assert.equal(count(db.path, "SELECT count(*) FROM blobs"), 1);
    assert.equal(
      count(db.path, "SELECT count(*) FROM messages WHERE blob_id NOT IN (SELECT id FROM blobs)"),
      0,
    );
    assert.deepEqual(store.getRaw("u", "INBOX", 1), sampleMessage("w0"));
  } finally {
    store.close();
  }
});

Deno.test("sqlite: the flag log, a row a transaction, applied at most FLAG_LOG_ROW messages a step", async () => {
  await using db = await tempDb("sqlite");
  const timers = manualTimers();
  const open = () => openSqliteStore(db.path, { startTimer: timers.startTimer });
  let store = open();
  const n = 2 * FLAG_LOG_ROW + 76;
  try {
    store.appendMessages(
      "u",
      "INBOX",
      Array.from({ length: n }, (_, i) => ({
        raw: sampleMessage(`m${i}`),
        options: { flags: i % 3 === 0 ? ["\\Flagged"] : [] },
      })),
    );
    const uids = store.listMessages("u", "INBOX").map((meta) => meta.uid);
    // Two lists in turn: runs of one or two messages.
    store.setFlags("u", "INBOX", uids, "add", ["\\Seen"]);
    // Every third message: runs of one, ids apart.
    store.setFlags("u", "INBOX", uids, "remove", ["\\Flagged"]);
    // One list for all: one run, longer than a step.
    store.setFlags("u", "INBOX", uids, "add", ["$All"]);
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 3, "a row a STORE");
    const expected = store.listMessages("u", "INBOX");
    assert.ok(expected.every((meta) => meta.flags.join(" ") === "\\Seen $All"));
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "INBOX"), expected);
    // A step brings FLAG_LOG_ROW message rows up to date, the oldest log row's first, and
    // leaves the rest of that row for the next.
    const seen = () => count(db.path, "SELECT count(*) FROM messages WHERE flags LIKE '%Seen%'");
    assert.equal(seen(), 0);
    timers.fireDue();
    assert.equal(seen(), FLAG_LOG_ROW);
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 3);
    timers.fireDue();
    assert.equal(seen(), 2 * FLAG_LOG_ROW);
    await timers.fire();
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 0);
    assert.equal(count(db.path, "SELECT count(*) FROM messages WHERE flags LIKE '%$All%'"), n);
    store.close();
    store = open();
    assert.deepEqual(store.listMessages("u", "INBOX"), expected);
  } finally {
    store.close();
  }
});

Deno.test("sqlite: under writes that never pause, the flag log is kept to its backlog", async () => {
  await using db = await tempDb("sqlite");
  const timers = manualTimers();
  const store = openSqliteStore(db.path, { startTimer: timers.startTimer });
  try {
    for (let i = 0; i < FLAG_LOG_MIN; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    const uids = store.listMessages("u", "INBOX").map((meta) => meta.uid);
    const rows = () => count(db.path, "SELECT count(*) FROM flag_changes");
    for (let i = 0; i < FLAG_LOG_BACKLOG + 3; i++) {
      store.setFlags("u", "INBOX", uids, i % 2 ? "remove" : "add", ["\\Seen"]);
    }
    assert.equal(rows(), FLAG_LOG_BACKLOG + 3);
    // Writes have not paused: steps run only while the backlog is there.
    for (let i = 0; i < 10; i++) timers.fireDue();
    assert.equal(rows(), FLAG_LOG_BACKLOG - 1);
    const expected = store.listMessages("u", "INBOX");
    await timers.fire();
    assert.equal(rows(), 0);
    store.close();
    const reopened = openSqliteStore(db.path);
    try {
      assert.deepEqual(reopened.listMessages("u", "INBOX"), expected);
    } finally {
      reopened.close();
    }
  } finally {
    store.close();
  }
});

Deno.test("sqlite: bytes a read made are freed when given back; the store's own and the memory store's are not", async () => {
  await using db = await tempDb("sqlite");
  const store = openSqliteStore(db.path);
  const memory = openMemoryStore();
  try {
    const first = store.append("u", "INBOX", sampleMessage("read"));
    // Handed over and kept by the store (its last transaction's bytes), not made by a read.
    const kept = store.append("u", "INBOX", sampleMessage("kept"), { transfer: true });
    const read = store.getRaw("u", "INBOX", first.uid)!;
    store.releaseRaw!(read);
    assert.equal(read.length, 0, "freed");
    assert.deepEqual(store.getRaw("u", "INBOX", first.uid), sampleMessage("read"));
    const own = store.getRaw("u", "INBOX", kept.uid)!;
    store.releaseRaw!(own);
    assert.deepEqual(own, sampleMessage("kept"));
    assert.deepEqual(store.getRaw("u", "INBOX", kept.uid), sampleMessage("kept"));
    // Given back twice: the second time it is no longer the store's to free.
    store.releaseRaw!(read);
    const fromMemory = memory.append("u", "INBOX", sampleMessage("memory"));
    const bytes = memory.getRaw("u", "INBOX", fromMemory.uid)!;
    memory.releaseRaw?.(bytes);
    assert.deepEqual(bytes, sampleMessage("memory"));
  } finally {
    store.close();
    memory.close();
  }
});

Deno.test("sqlite: a damaged flag log run is walked no further than the table's rows", async () => {
  await using db = await tempDb("sqlite");
  const timers = manualTimers();
  let store = openSqliteStore(db.path, { startTimer: timers.startTimer });
  for (let i = 0; i < 3; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
  store.close();
  // One run that says 2^50 rows, one with no first id, one with a fractional count.
  const runs = [1, 2 ** 50, 99, 0, Number.NaN, 5, 99, 0, 2, 1.5, 99, 0];
  const entries = new Uint8Array(runs.length * 8);
  const view = new DataView(entries.buffer);
  runs.forEach((value, k) => view.setFloat64(k * 8, value, true));
  const raw = new DatabaseSync(db.path);
  raw.prepare("INSERT INTO flag_changes (flags, entries) VALUES (?, ?)").run(
    '[["\\\\Flagged"]]',
    entries,
  );
  raw.close();
  store = openSqliteStore(db.path, { startTimer: timers.startTimer });
  try {
    const flagged = () => store.listMessages("u", "INBOX").map((meta) => meta.flags.join(" "));
    assert.deepEqual(flagged(), ["\\Flagged", "\\Flagged", "\\Flagged"]);
    await timers.fire();
    assert.equal(count(db.path, "SELECT count(*) FROM flag_changes"), 0);
    assert.equal(count(db.path, "SELECT count(*) FROM messages WHERE flags LIKE '%Flagged%'"), 3);
    assert.equal(store.append("u", "INBOX", sampleMessage("next")).uid, 4);
  } finally {
    store.close();
  }
});
