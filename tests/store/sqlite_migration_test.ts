/**
 * SQLite schema migrations: a database file written by an older version of the program opens,
 * is brought up to {@linkcode SCHEMA_VERSION} in place, and keeps its mail. Version 2 added
 * the SMTP envelope of a message (issue 12 item 9); the messages already there have none.
 * Version 3 added mod-sequences (RFC 7162, issue 14): the mailboxes and messages already
 * there start at MODSEQ 1, and every change afterwards takes the next one. Version 4 added
 * the HELO name, 5 the URLAUTH access keys, 6 the save date (RFC 8514: the messages already
 * there get their INTERNALDATE), 7 MAILBOXID and EMAILID (RFC 8474, issue 16: the mailboxes
 * already there are numbered per user in creation order, and new ones go on from there, never
 * reusing a number) and the METADATA entries.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../lib/store/mod.ts";
import type { MailStoreOptions } from "../../lib/store/mail_store.ts";
import { SCHEMA_VERSION } from "../../lib/store/sqlite.ts";
import type { Store } from "../../lib/store/types.ts";
import { sampleMessage } from "./contract.ts";
import { tempDb } from "./temp_db.ts";

/** The schema of version 1, exactly as that version created it. */
const SCHEMA_V1 = `
CREATE TABLE users (
  seq INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  uid_next INTEGER NOT NULL,
  UNIQUE (user, name)
);
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  flags TEXT NOT NULL,
  summary TEXT NOT NULL,
  blob_id INTEGER NOT NULL REFERENCES blobs (id),
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_blob ON messages (blob_id);
CREATE TABLE subscriptions (
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (user, name)
);
CREATE TABLE uid_high_water (
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  uid INTEGER NOT NULL,
  PRIMARY KEY (user, name)
);
`;

/** The schema of version 11, exactly as that version created it. */
const SCHEMA_V11 = `
CREATE TABLE users (
  seq INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  last_mailbox_id INTEGER NOT NULL DEFAULT 0,
  last_email_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  object_id INTEGER NOT NULL DEFAULT 0,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  uid_next INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  UNIQUE (user, name)
);
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL,
  file_offset INTEGER,
  file_length INTEGER
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  flags TEXT NOT NULL,
  summary TEXT NOT NULL,
  blob_id INTEGER NOT NULL REFERENCES blobs (id),
  envelope_from TEXT,
  envelope_to TEXT,
  modseq INTEGER NOT NULL DEFAULT 1,
  envelope_helo TEXT,
  save_date INTEGER,
  email_id INTEGER NOT NULL DEFAULT 0,
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_blob ON messages (blob_id);
CREATE TABLE subscriptions (
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (user, name)
);
CREATE TABLE uid_high_water (
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user, name)
);
CREATE TABLE vanished (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid_start INTEGER NOT NULL,
  uid_end INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid_start)
);
CREATE TABLE urlauth_keys (
  user TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  key BLOB NOT NULL,
  PRIMARY KEY (user, mailbox)
);
CREATE TABLE metadata (
  user TEXT NOT NULL,
  mailbox_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (user, mailbox_id, name)
);
CREATE TABLE flag_changes (
  id INTEGER PRIMARY KEY,
  flags TEXT NOT NULL,
  entries BLOB NOT NULL
);
CREATE TABLE mail_compaction (
  pending INTEGER NOT NULL
);
`;

/** Version 2: version 1 and the SMTP envelope, exactly as that version migrated it. */
const V2_STEP = "ALTER TABLE messages ADD COLUMN envelope_from TEXT;" +
  "ALTER TABLE messages ADD COLUMN envelope_to TEXT;";

/** Version 3: version 2 and mod-sequences, exactly as that version migrated it. */
const V3_STEP = "ALTER TABLE mailboxes ADD COLUMN highest_modseq INTEGER NOT NULL DEFAULT 1;" +
  "ALTER TABLE messages ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1;" +
  "CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);" +
  "ALTER TABLE uid_high_water ADD COLUMN modseq INTEGER NOT NULL DEFAULT 0;" +
  "CREATE TABLE vanished (" +
  "mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE," +
  "uid_start INTEGER NOT NULL, uid_end INTEGER NOT NULL, modseq INTEGER NOT NULL," +
  "PRIMARY KEY (mailbox_id, uid_start));";

/** Takes a database this version wrote back to before the mail file (the bytes in `blobs` rows). */
const DROP_MAIL_FILE_COLUMNS = "ALTER TABLE blobs DROP COLUMN file_offset;" +
  "ALTER TABLE blobs DROP COLUMN file_length; DROP TABLE mail_compaction;";

/** The `blobs` table's columns, in order. */
function blobColumns(db: DatabaseSync): string[] {
  return db.prepare("PRAGMA table_info(blobs)").all().map((row) => String(row.name));
}

/** The `blobs` rows' ids, in order. */
function blobIds(db: DatabaseSync): number[] {
  return db.prepare("SELECT id FROM blobs ORDER BY id").all().map((row) => Number(row.id));
}

/** Writes a version-1 (or 2, 3) database holding one user, her INBOX and one message (`raw`). */
function writeVersion1(path: string, raw: Uint8Array, version = 1): void {
  withDatabase(path, (db) => {
    db.exec("PRAGMA journal_mode = WAL;");
    db.exec(SCHEMA_V1);
    if (version >= 2) db.exec(V2_STEP);
    if (version >= 3) db.exec(V3_STEP);
    db.exec(`PRAGMA user_version = ${version}`);
    db.prepare("INSERT INTO users (name) VALUES (?)").run("old");
    db.prepare("INSERT INTO mailboxes (user, name, special_use, uid_next) VALUES (?, ?, ?, ?)")
      .run("old", "INBOX", null, 2);
    db.prepare("INSERT INTO blobs (data) VALUES (?)").run(raw);
    db.prepare(
      "INSERT INTO messages (mailbox_id, uid, internal_date, size, flags, summary, blob_id) " +
        "VALUES (1, 1, ?, ?, ?, ?, 1)",
    ).run(
      1_700_000_000_000,
      raw.length,
      JSON.stringify(["\\Seen"]),
      JSON.stringify({
        from: "Ann <ann@example.com>",
        to: "bob@example.com",
        cc: "",
        subject: "From version 1",
        date: "",
        messageId: "<FromVersion1@example.com>",
      }),
    );
    db.prepare("INSERT INTO uid_high_water (user, name, uid) VALUES (?, ?, ?)").run(
      "old",
      "INBOX",
      1,
    );
  });
}

function userVersion(path: string): number {
  return withDatabase(
    path,
    (db) =>
      Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version),
  );
}

/** Runs `fn` on the database file opened raw, as an older program would, then closes it. */
function withDatabase<T>(path: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Runs `fn` on the file opened as a store (which migrates it), then closes the store. */
function withStore(path: string, fn: (store: Store) => void, options: MailStoreOptions = {}): void {
  const store = openSqliteStore(path, options);
  try {
    fn(store);
  } finally {
    store.close();
  }
}

Deno.test("sqlite migration: a version-1 database opens, keeps its mail, and its messages have no envelope", async () => {
  await using db = await tempDb("migrate");
  const raw = sampleMessage("From version 1");
  writeVersion1(db.path, raw);
  assert.equal(userVersion(db.path), 1);

  withStore(db.path, (store) => {
    const old = store.getMessage("old", "INBOX", 1);
    assert.ok(old, "the old message is there");
    assert.equal(old.envelope, null);
    assert.deepEqual(old.flags, ["\\Seen"]);
    assert.equal(old.modseq, 1);
    assert.equal(old.summary.subject, "From version 1");
    assert.deepEqual([...store.getRaw("old", "INBOX", 1)!], [...raw]);
    // New mail keeps its envelope, UIDs go on.
    const envelope = { from: "", to: "old+tag@example.com" };
    assert.equal(store.append("old", "INBOX", sampleMessage("New"), { envelope }).uid, 2);
  });
  assert.equal(userVersion(db.path), SCHEMA_VERSION);

  withStore(db.path, (store) => {
    assert.deepEqual(
      store.listMessages("old", "INBOX").map((meta) => [meta.uid, meta.envelope]),
      [[1, null], [2, { from: "", to: "old+tag@example.com" }]],
    );
  });
});

Deno.test("sqlite migration: a new database is written at the current version, envelope columns included", async () => {
  await using db = await tempDb("migrate");
  const envelope = { from: "app@example.org", to: "u@example.com" };
  withStore(db.path, (store) => {
    store.append("u", "INBOX", sampleMessage("Kept"), { envelope });
    store.append("u", "INBOX", sampleMessage("None"));
  });
  assert.equal(SCHEMA_VERSION, 13);
  assert.equal(userVersion(db.path), SCHEMA_VERSION);
  withStore(db.path, (store) => {
    assert.deepEqual(store.listMessages("u", "INBOX").map((meta) => meta.envelope), [
      envelope,
      null,
    ]);
  });
});

Deno.test("sqlite migration: a version-2 database opens and gets mod-sequences that go on across restarts", async () => {
  await using db = await tempDb("migrate");
  const raw = sampleMessage("From version 2");
  writeVersion1(db.path, raw, 2);
  // A version-2 file may hold an envelope; a gap in the UIDs is an expunge it made.
  withDatabase(db.path, (old) => {
    old.prepare("UPDATE messages SET envelope_from = ?, envelope_to = ?").run("a@x", "old@y");
    old.prepare("UPDATE mailboxes SET uid_next = 3").run();
  });
  assert.equal(userVersion(db.path), 2);

  withStore(db.path, (store) => {
    assert.equal(store.getMailbox("old", "INBOX")?.highestModseq, 1);
    const message = store.getMessage("old", "INBOX", 1)!;
    assert.deepEqual([message.modseq, message.envelope], [1, { from: "a@x", to: "old@y" }]);
    assert.deepEqual(store.changedSince("old", "INBOX", 1), []);
    assert.equal(store.append("old", "INBOX", sampleMessage("New")).modseq, 2);
    store.setFlags("old", "INBOX", [1], "add", ["\\Flagged"]);
    assert.deepEqual(store.changedSince("old", "INBOX", 1), [1, 3]);
    store.expunge("old", "INBOX", [3], true);
  });
  assert.equal(userVersion(db.path), SCHEMA_VERSION);

  withStore(db.path, (store) => {
    assert.equal(store.getMailbox("old", "INBOX")?.highestModseq, 4);
    assert.equal(store.getMessage("old", "INBOX", 1)?.modseq, 3);
    assert.deepEqual(store.changedSince("old", "INBOX", 2), [1]);
    assert.deepEqual(store.vanishedSince("old", "INBOX", 3), [[3, 3]]);
    assert.deepEqual(store.vanishedSince("old", "INBOX", 4), []);
    assert.equal(store.append("old", "INBOX", sampleMessage("Newer")).modseq, 5);
  });
  withDatabase(db.path, (check) => {
    // The version-3 step made an index by modseq, the version-9 step drops it.
    assert.equal(hasModseqIndex(check), false);
  });
});

function hasModseqIndex(db: DatabaseSync): boolean {
  return db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'messages_modseq'",
  ).get() !== undefined;
}

Deno.test("sqlite migration: a version-8 database loses the index by modseq, its HIGHESTMODSEQ comes from the message rows", async () => {
  await using db = await tempDb("migrate");
  let store = openSqliteStore(db.path, { blobsInDatabase: true });
  store.append("u", "INBOX", sampleMessage("One"));
  store.append("u", "INBOX", sampleMessage("Two"));
  store.setFlags("u", "INBOX", [1], "add", ["\\Seen"]);
  store.close();
  // Version 8 had the index; its column is a floor, behind the rows (not written per change).
  const old = new DatabaseSync(db.path);
  old.exec(
    "CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);" +
      "UPDATE mailboxes SET highest_modseq = 1;" +
      DROP_MAIL_FILE_COLUMNS +
      "PRAGMA user_version = 8;",
  );
  assert.equal(hasModseqIndex(old), true);
  old.close();
  store = openSqliteStore(db.path);
  try {
    assert.equal(userVersion(db.path), SCHEMA_VERSION);
    const inbox = store.getMailbox("u", "INBOX")!;
    assert.deepEqual([inbox.uidNext, inbox.highestModseq], [3, 4]);
    assert.deepEqual(store.changedSince("u", "INBOX", 3), [1]);
    const added = store.append("u", "INBOX", sampleMessage("Three"));
    assert.deepEqual([added.uid, added.modseq], [3, 5]);
  } finally {
    store.close();
  }
  withDatabase(db.path, (check) => assert.equal(hasModseqIndex(check), false));
});

Deno.test("sqlite migration: a version-3 database opens and keeps the HELO name of new mail", async () => {
  await using db = await tempDb("migrate");
  writeVersion1(db.path, sampleMessage("From version 3"), 3);
  withDatabase(db.path, (old) => {
    old.prepare("UPDATE messages SET envelope_from = ?, envelope_to = ?").run("a@x", "old@y");
  });
  assert.equal(userVersion(db.path), 3);
  const greeted = { from: "b@x", to: "old@y", helo: "client.example" };
  withStore(db.path, (store) => {
    // The message already there keeps its envelope, without a HELO name.
    assert.deepEqual(store.getMessage("old", "INBOX", 1)?.envelope, { from: "a@x", to: "old@y" });
    store.append("old", "INBOX", sampleMessage("New"), { envelope: greeted });
  });
  assert.equal(userVersion(db.path), SCHEMA_VERSION);
  withStore(db.path, (store) => {
    assert.deepEqual(store.listMessages("old", "INBOX").map((meta) => meta.envelope), [
      { from: "a@x", to: "old@y" },
      greeted,
    ]);
  });
});

Deno.test("sqlite migration: a version-3 database opens; its messages' save date is their INTERNALDATE, new ones get the store clock's", async () => {
  await using db = await tempDb("migrate");
  writeVersion1(db.path, sampleMessage("From version 3"), 3);
  assert.equal(userVersion(db.path), 3);
  const clock = Date.UTC(2026, 11, 1, 9, 0, 0);
  withStore(db.path, (store) => {
    const old = store.getMessage("old", "INBOX", 1)!;
    assert.deepEqual([old.internalDate, old.saveDate], [1_700_000_000_000, 1_700_000_000_000]);
    const added = store.append("old", "INBOX", sampleMessage("New"), { internalDate: 5 });
    assert.deepEqual([added.internalDate, added.saveDate], [5, clock]);
    store.createMailbox("old", "Copies");
    store.copyMessages("old", "INBOX", [1], "Copies");
  }, { now: () => clock });
  assert.equal(userVersion(db.path), SCHEMA_VERSION);
  withStore(db.path, (store) => {
    assert.deepEqual(
      store.listMessages("old", "INBOX").map((meta) => [meta.uid, meta.saveDate]),
      [[1, 1_700_000_000_000], [2, clock]],
    );
    // RFC 8514: a copy is saved into its mailbox when it is copied.
    assert.equal(store.getMessage("old", "Copies", 1)?.saveDate, clock);
  });
});

Deno.test("sqlite migration: a version-3 database gets MAILBOXIDs and EMAILIDs that are never reused, and metadata", async () => {
  await using db = await tempDb("migrate");
  writeVersion1(db.path, sampleMessage("From version 3"), 2);
  // Two users whose mailboxes interleave in row order; a gap where one was deleted.
  withDatabase(db.path, (old) => {
    old.exec(V3_STEP + "PRAGMA user_version = 3;");
    old.prepare("INSERT INTO users (name) VALUES (?)").run("other");
    const insert = old.prepare("INSERT INTO mailboxes (user, name, uid_next) VALUES (?, ?, 1)");
    insert.run("other", "INBOX");
    insert.run("old", "Work");
    insert.run("other", "Tmp");
    old.prepare("DELETE FROM mailboxes WHERE name = 'Tmp'").run();
    insert.run("other", "Later");
  });
  assert.equal(userVersion(db.path), 3);

  withStore(db.path, (store) => {
    const ids = (user: string) =>
      store.listMailboxes(user).map((info) => `${info.name}=${info.mailboxId}`);
    assert.deepEqual(ids("old"), ["INBOX=F1", "Work=F2"]);
    assert.deepEqual(ids("other"), ["INBOX=F1", "Later=F2"]);
    // EMAILID: the message there takes its blob's id; a copy keeps it, new mail goes on.
    assert.equal(store.getMessage("old", "INBOX", 1)?.emailId, "M1");
    store.copyMessages("old", "INBOX", [1], "Work");
    assert.equal(store.getMessage("old", "Work", 1)?.emailId, "M1");
    assert.equal(store.append("old", "INBOX", sampleMessage("New")).emailId, "M2");
    assert.equal(store.createMailbox("old", "Gone").mailboxId, "F3");
    store.deleteMailbox("old", "Gone");
    store.renameMailbox("old", "Work", "Job");
    assert.deepEqual(ids("old"), ["INBOX=F1", "Job=F2"]);
  });
  assert.equal(userVersion(db.path), SCHEMA_VERSION);
  withStore(db.path, (store) => {
    // F3 was given and deleted: the next mailbox gets F4, also after a restart.
    assert.equal(store.createMailbox("old", "Next").mailboxId, "F4");
    assert.equal(store.getMailbox("old", "Job")?.mailboxId, "F2");
    assert.equal(store.getMessage("old", "Job", 1)?.emailId, "M1");
    assert.equal(store.append("old", "Job", sampleMessage("Newer")).emailId, "M3");
    // The version-4 step also made the metadata table (RFC 5464 entries).
    store.setMetadata("old", "Job", [["/shared/k", new Uint8Array([1])]]);
    assert.deepEqual([...store.getMetadata("old", "Job").keys()], ["/shared/k"]);
  });
});

Deno.test("sqlite migration: a version-7 database keeps the UIDNEXT and HIGHESTMODSEQ its columns say", async () => {
  await using db = await tempDb("migrate");
  let store = openSqliteStore(db.path, { blobsInDatabase: true });
  store.append("u", "INBOX", sampleMessage("One"));
  store.append("u", "INBOX", sampleMessage("Two"));
  store.close();
  // Version 7 kept both columns on every change; ahead of the rows here, as after an
  // expunge of the highest UIDs in a version without vanished ranges.
  const old = new DatabaseSync(db.path);
  old.exec(
    "UPDATE mailboxes SET uid_next = 9, highest_modseq = 7 WHERE name = 'INBOX';" +
      DROP_MAIL_FILE_COLUMNS +
      "PRAGMA user_version = 7;",
  );
  old.close();
  store = openSqliteStore(db.path);
  try {
    assert.equal(userVersion(db.path), SCHEMA_VERSION);
    const inbox = store.getMailbox("u", "INBOX")!;
    assert.deepEqual([inbox.uidNext, inbox.highestModseq], [9, 7]);
    const added = store.append("u", "INBOX", sampleMessage("Three"));
    assert.deepEqual([added.uid, added.modseq], [9, 8]);
  } finally {
    store.close();
  }
  store = openSqliteStore(db.path);
  try {
    const inbox = store.getMailbox("u", "INBOX")!;
    assert.deepEqual([inbox.uidNext, inbox.highestModseq], [10, 8]);
  } finally {
    store.close();
  }
});

Deno.test("sqlite migration: a version-10 database keeps its bytes in its rows; new ones go to the mail file", async () => {
  await using db = await tempDb("migrate");
  const [before, after] = [sampleMessage("Old"), sampleMessage("New")];
  let store = openSqliteStore(db.path, { blobsInDatabase: true });
  store.append("u", "INBOX", before);
  store.close();
  withDatabase(db.path, (old) => old.exec(DROP_MAIL_FILE_COLUMNS + "PRAGMA user_version = 10;"));
  store = openSqliteStore(db.path);
  try {
    assert.equal(userVersion(db.path), SCHEMA_VERSION);
    assert.deepEqual(store.getRaw("u", "INBOX", 1), before);
    store.copyMessages("u", "INBOX", [1], "INBOX");
    store.append("u", "INBOX", after);
    assert.deepEqual(store.getRaw("u", "INBOX", 2), before);
    assert.deepEqual(store.getRaw("u", "INBOX", 3), after);
  } finally {
    store.close();
  }
  withDatabase(db.path, (check) =>
    assert.deepEqual(
      check.prepare("SELECT length(data) AS data, file_offset, file_length FROM blobs ORDER BY id")
        .all().map((row) => [row.data, row.file_offset, row.file_length]),
      [[before.length, null, null], [0, 0, after.length]],
      "the old message's bytes stay in its row (its copy shares it), the new one's in the file",
    ));
  assert.equal(Deno.statSync(`${db.path}.mail`).size, after.length);
});

Deno.test("sqlite migration: a version-11 database loses the message indexes, counts its blobs' references and keeps its mail", async () => {
  await using db = await tempDb("migrate");
  const [one, two, other] = [sampleMessage("One"), sampleMessage("Two"), sampleMessage("Other")];
  withDatabase(db.path, (old) => {
    old.exec("PRAGMA journal_mode = WAL;");
    old.exec(SCHEMA_V11);
    old.exec("PRAGMA user_version = 11;");
    old.prepare("INSERT INTO users (name, last_mailbox_id, last_email_id) VALUES ('u', 2, 1)")
      .run();
    // Columns that are floors since version 8: behind the rows, as they are after appends.
    const mailbox = old.prepare(
      "INSERT INTO mailboxes (id, object_id, user, name, uid_next, highest_modseq) " +
        "VALUES (?, ?, 'u', ?, 1, 1)",
    );
    mailbox.run(1, 1, "INBOX");
    mailbox.run(2, 2, "Archive");
    const blob = old.prepare("INSERT INTO blobs (id, data) VALUES (?, ?)");
    blob.run(1, one);
    blob.run(2, other);
    blob.run(3, two);
    // Row ids interleave the mailboxes, and INBOX's are not in UID order (as no version wrote
    // them, but the open must not depend on it); message 2 is a copy of 1 (blob and EMAILID).
    const message = old.prepare(
      "INSERT INTO messages (id, mailbox_id, uid, internal_date, size, flags, summary, blob_id, " +
        "modseq, save_date, email_id) VALUES (?, ?, ?, 0, ?, '[]', ?, ?, ?, 0, ?)",
    );
    const summary = (subject: string) =>
      JSON.stringify({ from: "", to: "", cc: "", subject, date: "", messageId: "" });
    message.run(1, 1, 3, one.length, summary("One"), 1, 2, 1);
    message.run(2, 2, 4, one.length, summary("One"), 1, 2, 1);
    message.run(3, 2, 5, other.length, summary("Other"), 2, 3, 2);
    message.run(4, 1, 2, two.length, summary("Two"), 3, 3, 3);
  });
  const indexes = (check: DatabaseSync) =>
    check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")
      .all().map((row) => String(row.name));
  withDatabase(db.path, (check) => assert.equal(indexes(check).length, 2, "version 11's two"));
  const store = openSqliteStore(db.path);
  try {
    assert.equal(userVersion(db.path), SCHEMA_VERSION);
    withDatabase(db.path, (check) => {
      assert.deepEqual(indexes(check), []);
      // Counted at version 12, dropped at 13 (counted in memory since).
      assert.deepEqual(blobColumns(check), ["id", "data", "file_offset", "file_length"]);
      assert.deepEqual(blobIds(check), [1, 2, 3]);
    });
    assert.deepEqual(store.listMessages("u", "INBOX").map((m) => [m.uid, m.summary.subject]), [
      [2, "Two"],
      [3, "One"],
    ]);
    assert.deepEqual(store.listMessages("u", "Archive").map((m) => [m.uid, m.summary.subject]), [
      [4, "One"],
      [5, "Other"],
    ]);
    assert.deepEqual(store.getRaw("u", "Archive", 4), one);
    // UIDNEXT and the EMAILID counter from the rows, as the index by mailbox gave them.
    assert.equal(store.getMailbox("u", "Archive")!.uidNext, 6);
    const added = store.append("u", "INBOX", sampleMessage("New"));
    assert.deepEqual([added.uid, added.emailId], [4, "M4"]);
    // The shared blob goes with its last message only.
    store.setFlags("u", "INBOX", [3], "add", ["\\Deleted"]);
    store.expunge("u", "INBOX");
    withDatabase(db.path, (check) => assert.deepEqual(blobIds(check), [1, 2, 3, 4]));
    assert.deepEqual(store.getRaw("u", "Archive", 4), one);
    store.setFlags("u", "Archive", [4], "add", ["\\Deleted"]);
    store.expunge("u", "Archive");
    withDatabase(db.path, (check) => assert.deepEqual(blobIds(check), [2, 3, 4]));
  } finally {
    store.close();
  }
});

Deno.test("sqlite migration: a version-12 database loses its blobs' reference counts; a shared blob goes with its last message", async () => {
  await using db = await tempDb("migrate");
  // Written by this version and taken back to 12: the column again, each count 1, wrong for the
  // blob a copy shares (the store counts the message rows, it does not read a column).
  let store = openSqliteStore(db.path);
  store.append("u", "INBOX", sampleMessage("One"));
  store.append("u", "INBOX", sampleMessage("Two"));
  store.createMailbox("u", "Archive");
  store.copyMessages("u", "INBOX", [1], "Archive");
  store.close();
  withDatabase(db.path, (old) =>
    old.exec(
      "ALTER TABLE blobs ADD COLUMN refs INTEGER NOT NULL DEFAULT 0; UPDATE blobs SET refs = 1;" +
        "PRAGMA user_version = 12;",
    ));
  store = openSqliteStore(db.path);
  try {
    assert.equal(userVersion(db.path), SCHEMA_VERSION);
    withDatabase(db.path, (check) => {
      assert.deepEqual(blobColumns(check), ["id", "data", "file_offset", "file_length"]);
      assert.equal(blobIds(check).length, 2);
    });
    store.setFlags("u", "INBOX", [1], "add", ["\\Deleted"]);
    store.expunge("u", "INBOX");
    withDatabase(db.path, (check) => assert.equal(blobIds(check).length, 2, "the copy names it"));
    assert.deepEqual(store.getRaw("u", "Archive", 1), sampleMessage("One"));
    store.setFlags("u", "Archive", [1], "add", ["\\Deleted"]);
    store.expunge("u", "Archive");
    withDatabase(db.path, (check) => assert.equal(blobIds(check).length, 1, "gone with the copy"));
    assert.deepEqual(store.getRaw("u", "INBOX", 2), sampleMessage("Two"));
  } finally {
    store.close();
  }
});
