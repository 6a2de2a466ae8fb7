/**
 * URLAUTH mailbox access keys in the store (RFC 4467 3, 6.1; `lib/store/access_keys.ts`):
 * made on demand, stable, per user and mailbox, moved with RENAME, removed by RESETKEY and
 * with the mailbox, in both backends; in SQLite they survive a reopen, and a version-3 database gains the table.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openMemoryStore, openSqliteStore, type Store } from "../../lib/store/mod.ts";
import { SCHEMA_VERSION } from "../../lib/store/sqlite.ts";

async function withSqlite(fn: (path: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-keys-" });
  try {
    await fn(`${dir}/mail.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function keyContract(store: Store): void {
  store.ensureUser("u");
  store.createMailbox("u", "Work");
  assert.equal(store.mailboxAccessKey("u", "INBOX", false), null, "none until asked for");
  const inbox = store.mailboxAccessKey("u", "inbox", true)!;
  assert.equal(inbox.length, 32);
  assert.deepEqual(store.mailboxAccessKey("U", "INBOX", false), inbox, "stable, names folded");
  const work = store.mailboxAccessKey("u", "Work", true)!;
  assert.notDeepEqual(work, inbox, "one key per mailbox");
  store.ensureUser("v");
  assert.notDeepEqual(store.mailboxAccessKey("v", "INBOX", true), inbox, "one key per user");
  assert.equal(store.mailboxAccessKey("u", "Nope", true), null, "no mailbox, no key");
  store.resetAccessKeys("u", "Work");
  assert.equal(store.mailboxAccessKey("u", "Work", false), null);
  assert.deepEqual(store.mailboxAccessKey("u", "INBOX", false), inbox, "others untouched");
  const again = store.mailboxAccessKey("u", "Work", true)!;
  assert.notDeepEqual(again, work, "a new key after RESETKEY");
  store.resetAccessKeys("u");
  assert.equal(store.mailboxAccessKey("u", "INBOX", false), null);
  assert.equal(store.mailboxAccessKey("u", "Work", false), null);
  assert.ok(store.mailboxAccessKey("v", "INBOX", false), "another user's keys stay");
  store.mailboxAccessKey("u", "Work", true);
  store.deleteMailbox("u", "Work");
  store.createMailbox("u", "Work");
  assert.equal(store.mailboxAccessKey("u", "Work", false), null, "gone with its mailbox");
  renameContract(store);
  store.reset();
  assert.equal(store.mailboxAccessKey("v", "INBOX", false), null, "gone with a reset");
}

/** A key belongs to its mailbox: it moves with RENAME (as Dovecot's mailbox attribute). */
function renameContract(store: Store): void {
  store.createMailbox("u", "P/Q");
  const p = store.mailboxAccessKey("u", "P", true)!;
  const q = store.mailboxAccessKey("u", "P/Q", true)!;
  store.renameMailbox("u", "P", "R");
  assert.deepEqual(store.mailboxAccessKey("u", "R", false), p, "moved with the mailbox");
  assert.deepEqual(store.mailboxAccessKey("u", "R/Q", false), q, "children's too");
  assert.equal(store.mailboxAccessKey("u", "P", false), null);
  store.createMailbox("u", "P/Q");
  assert.equal(store.mailboxAccessKey("u", "P", false), null, "not inherited by a new P");
  assert.equal(store.mailboxAccessKey("u", "P/Q", false), null);
  const inbox = store.mailboxAccessKey("u", "INBOX", true)!;
  store.renameMailbox("u", "INBOX", "Old");
  assert.deepEqual(store.mailboxAccessKey("u", "Old", false), inbox, "with INBOX's messages");
  assert.equal(store.mailboxAccessKey("u", "INBOX", false), null);
}

Deno.test("access keys: memory store", () => {
  const store = openMemoryStore();
  try {
    keyContract(store);
  } finally {
    store.close();
  }
});

Deno.test("access keys: SQLite store, and they survive a reopen", async () => {
  await withSqlite((path) => {
    let store = openSqliteStore(path);
    let key: Uint8Array;
    try {
      keyContract(store);
      store.ensureUser("u");
      key = store.mailboxAccessKey("u", "INBOX", true)!;
    } finally {
      store.close();
    }
    store = openSqliteStore(path);
    try {
      assert.deepEqual(store.mailboxAccessKey("u", "INBOX", false), key);
    } finally {
      store.close();
    }
  });
});

Deno.test("access keys: rows of no mailbox (left by an older rename) are dropped at open", async () => {
  await withSqlite((path) => {
    const first = openSqliteStore(path);
    first.ensureUser("u");
    const inbox = first.mailboxAccessKey("u", "INBOX", true)!;
    first.close();
    // What a RENAME of Work did before keys moved: the row stayed under the old name.
    const db = new DatabaseSync(path);
    db.prepare("INSERT INTO urlauth_keys (user, mailbox, key) VALUES ('u', 'Work', ?)")
      .run(new Uint8Array(32).fill(7));
    db.close();
    const store = openSqliteStore(path);
    try {
      store.createMailbox("u", "Work");
      assert.equal(store.mailboxAccessKey("u", "Work", false), null, "not taken up");
      assert.deepEqual(store.mailboxAccessKey("u", "INBOX", false), inbox, "live keys stay");
    } finally {
      store.close();
    }
    const check = new DatabaseSync(path);
    try {
      const rows = check.prepare("SELECT mailbox FROM urlauth_keys ORDER BY mailbox").all();
      assert.deepEqual(rows.map((row) => row.mailbox), ["INBOX"]);
    } finally {
      check.close();
    }
  });
});

Deno.test("access keys: a version-4 database is migrated and keeps its mail", async () => {
  await withSqlite((path) => {
    const first = openSqliteStore(path, { blobsInDatabase: true });
    first.append("u", "INBOX", new TextEncoder().encode("Subject: old\r\n\r\nx\r\n"));
    first.close();
    // Back to version 4: the table (5), the save date (6), the object ids and metadata (7) and
    // the mail file (11) did not exist then.
    const db = new DatabaseSync(path);
    db.exec(
      "ALTER TABLE blobs DROP COLUMN file_offset; ALTER TABLE blobs DROP COLUMN file_length;" +
        "DROP TABLE mail_compaction;" +
        "DROP TABLE urlauth_keys; ALTER TABLE messages DROP COLUMN save_date;" +
        "DROP TABLE metadata; ALTER TABLE messages DROP COLUMN email_id;" +
        "ALTER TABLE users DROP COLUMN last_mailbox_id; ALTER TABLE users DROP COLUMN last_email_id;" +
        "ALTER TABLE mailboxes DROP COLUMN object_id; PRAGMA user_version = 4;",
    );
    db.close();
    const store = openSqliteStore(path);
    try {
      assert.equal(store.listMessages("u", "INBOX").length, 1);
      assert.ok(store.mailboxAccessKey("u", "INBOX", true));
    } finally {
      store.close();
    }
    const check = new DatabaseSync(path);
    try {
      const version = check.prepare("PRAGMA user_version").get()!.user_version;
      assert.equal(version, SCHEMA_VERSION);
      assert.equal(check.prepare("SELECT count(*) AS n FROM urlauth_keys").get()!.n, 1);
    } finally {
      check.close();
    }
  });
});
