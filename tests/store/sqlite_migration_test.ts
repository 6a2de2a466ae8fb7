/**
 * SQLite schema migrations: a database file written by an older version of the program opens,
 * is brought up to {@linkcode SCHEMA_VERSION} in place, and keeps its mail. Version 2 added
 * the SMTP envelope of a message (issue 12 item 9); the messages already there have none.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { SCHEMA_VERSION } from "../../lib/store/sqlite.ts";
import { sampleMessage } from "./contract.ts";

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

async function tempDb(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-migrate-" });
  return {
    path: `${dir}/mail.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Writes a version-1 database holding one user, her INBOX and one message (`raw`). */
function writeVersion1(path: string, raw: Uint8Array): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL;");
    db.exec(SCHEMA_V1);
    db.exec("PRAGMA user_version = 1");
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
  } finally {
    db.close();
  }
}

function userVersion(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
  } finally {
    db.close();
  }
}

Deno.test("sqlite migration: a version-1 database opens, keeps its mail, and its messages have no envelope", async () => {
  await using db = await tempDb();
  const raw = sampleMessage("From version 1");
  writeVersion1(db.path, raw);
  assert.equal(userVersion(db.path), 1);

  let store = openSqliteStore(db.path);
  try {
    const old = store.getMessage("old", "INBOX", 1);
    assert.ok(old, "the old message is there");
    assert.equal(old.envelope, null);
    assert.deepEqual(old.flags, ["\\Seen"]);
    assert.equal(old.summary.subject, "From version 1");
    assert.deepEqual([...store.getRaw("old", "INBOX", 1)!], [...raw]);
    // New mail keeps its envelope, UIDs go on.
    const envelope = { from: "", to: "old+tag@example.com" };
    assert.equal(store.append("old", "INBOX", sampleMessage("New"), { envelope }).uid, 2);
  } finally {
    store.close();
  }
  assert.equal(userVersion(db.path), SCHEMA_VERSION);

  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(
      store.listMessages("old", "INBOX").map((meta) => [meta.uid, meta.envelope]),
      [[1, null], [2, { from: "", to: "old+tag@example.com" }]],
    );
  } finally {
    store.close();
  }
});

Deno.test("sqlite migration: a new database is written at the current version, envelope columns included", async () => {
  await using db = await tempDb();
  const envelope = { from: "app@example.org", to: "u@example.com" };
  let store = openSqliteStore(db.path);
  store.append("u", "INBOX", sampleMessage("Kept"), { envelope });
  store.append("u", "INBOX", sampleMessage("None"));
  store.close();
  assert.equal(SCHEMA_VERSION, 2);
  assert.equal(userVersion(db.path), SCHEMA_VERSION);
  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.listMessages("u", "INBOX").map((meta) => meta.envelope), [
      envelope,
      null,
    ]);
  } finally {
    store.close();
  }
});
