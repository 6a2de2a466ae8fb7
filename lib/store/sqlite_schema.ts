/**
 * The SQLite store's schema: the tables a new database gets, the migration steps that bring an
 * older database up to {@linkcode SCHEMA_VERSION}, and the check that refuses a newer one.
 * A new version adds one step to {@linkcode MIGRATIONS} and updates {@linkcode SCHEMA}; the
 * upgrade from the previous version gets a test in tests/store/sqlite_migration_test.ts.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/** The columns of a message row, in the order {@linkcode SCHEMA} gives them. */
const MESSAGE_COLUMNS = "id, mailbox_id, uid, internal_date, size, flags, summary, blob_id, " +
  "envelope_from, envelope_to, modseq, envelope_helo, save_date, email_id";

/** The schema version this code writes. */
export const SCHEMA_VERSION = 13;

/** The schema of a new database, at {@linkcode SCHEMA_VERSION}. */
const SCHEMA = `
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
  email_id INTEGER NOT NULL DEFAULT 0
);
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

/**
 * The steps that bring an older database up to {@linkcode SCHEMA_VERSION}: each takes it from
 * `version - 1` to `version`. A new database gets {@linkcode SCHEMA} at once.
 */
const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly sql: string }> = [
  // The SMTP envelope of a delivered copy; NULL (no envelope) for the messages already there.
  {
    version: 2,
    sql: "ALTER TABLE messages ADD COLUMN envelope_from TEXT;" +
      "ALTER TABLE messages ADD COLUMN envelope_to TEXT;",
  },
  // Mod-sequences (RFC 7162): the messages and mailboxes already there start at 1, which no
  // client can have seen before (no earlier version gave one out), so nothing is missed.
  {
    version: 3,
    sql: "ALTER TABLE mailboxes ADD COLUMN highest_modseq INTEGER NOT NULL DEFAULT 1;" +
      "ALTER TABLE messages ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1;" +
      "CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);" +
      "ALTER TABLE uid_high_water ADD COLUMN modseq INTEGER NOT NULL DEFAULT 0;" +
      "CREATE TABLE vanished (" +
      "mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE," +
      "uid_start INTEGER NOT NULL, uid_end INTEGER NOT NULL, modseq INTEGER NOT NULL," +
      "PRIMARY KEY (mailbox_id, uid_start));",
  },
  // The HELO/EHLO name of the SMTP session that delivered a copy; NULL for those already there.
  { version: 4, sql: "ALTER TABLE messages ADD COLUMN envelope_helo TEXT;" },
  // URLAUTH mailbox access keys (RFC 4467): none yet; GENURLAUTH makes them.
  {
    version: 5,
    sql: "CREATE TABLE urlauth_keys (user TEXT NOT NULL, mailbox TEXT NOT NULL," +
      " key BLOB NOT NULL, PRIMARY KEY (user, mailbox));",
  },
  // The save date (RFC 8514): unknown for the messages already there, which get their
  // INTERNALDATE (the best estimate, and what RFC 8514 2.2 lets SAVED* keys fall back on).
  {
    version: 6,
    sql: "ALTER TABLE messages ADD COLUMN save_date INTEGER;" +
      "UPDATE messages SET save_date = internal_date;",
  },
  // OBJECTID: MAILBOXID (RFC 8474): the mailboxes already there are numbered per user in creation
  // order, and each user's counter starts after them (no id was given out before).
  // EMAILID: a message already there takes its blob's id, which its copies share; every
  // user's counter starts above the highest. Metadata entries (RFC 5464): mailbox_id 0 holds
  // the user's server entries.
  {
    version: 7,
    sql: "ALTER TABLE users ADD COLUMN last_mailbox_id INTEGER NOT NULL DEFAULT 0;" +
      "ALTER TABLE mailboxes ADD COLUMN object_id INTEGER NOT NULL DEFAULT 0;" +
      "UPDATE mailboxes SET object_id = (SELECT count(*) FROM mailboxes AS m " +
      "WHERE m.user = mailboxes.user AND m.id <= mailboxes.id);" +
      "UPDATE users SET last_mailbox_id = " +
      "(SELECT count(*) FROM mailboxes WHERE mailboxes.user = users.name);" +
      "ALTER TABLE users ADD COLUMN last_email_id INTEGER NOT NULL DEFAULT 0;" +
      "ALTER TABLE messages ADD COLUMN email_id INTEGER NOT NULL DEFAULT 0;" +
      "UPDATE messages SET email_id = blob_id;" +
      "UPDATE users SET last_email_id = (SELECT coalesce(max(blob_id), 0) FROM messages);" +
      "CREATE TABLE metadata (user TEXT NOT NULL, mailbox_id INTEGER NOT NULL," +
      "name TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (user, mailbox_id, name));",
  },
  // No table changes: from here on mailboxes.uid_next and .highest_modseq, users.last_email_id
  // (and a name's uid_high_water row while a mailbox holds the name) are floors, not kept on
  // every append; the values are derived at open (see `load`). The version only keeps an
  // older program, which would take the stale columns as the truth and give UIDs again, from
  // opening the file. Databases written before have up-to-date columns: valid floors.
  { version: 8, sql: "" },
  // No index by (mailbox_id, modseq): CHANGEDSINCE and QRESYNC run on the loaded records,
  // and the only query that read it, the highest MODSEQ per mailbox at open, now takes it from
  // the message rows `load` reads anyway. Every append wrote one more page for it.
  { version: 9, sql: "DROP INDEX IF EXISTS messages_modseq;" },
  // Large flag changes (a STORE of many messages) are written as rows of this log, applied to
  // the message rows at open and in idle time (sqlite.ts `FLAG_LOG_MIN`). The version keeps an
  // older program, which would not read the log, from opening the file.
  {
    version: 10,
    sql: "CREATE TABLE IF NOT EXISTS flag_changes (id INTEGER PRIMARY KEY, flags TEXT NOT NULL," +
      " entries BLOB NOT NULL);",
  },
  // Message bytes in the mail file beside the database (mail_file.ts): a blob row with
  // `file_offset` set has its bytes there (its `data` empty). The blobs already there stay in
  // the table, and are read from it. A row of `mail_compaction` says a compacted mail file's
  // offsets are committed (sqlite_mail_file.ts). The version keeps an older program, which
  // would read the empty `data`, from opening the file.
  {
    version: 11,
    sql: "ALTER TABLE blobs ADD COLUMN file_offset INTEGER;" +
      "ALTER TABLE blobs ADD COLUMN file_length INTEGER;" +
      "CREATE TABLE mail_compaction (pending INTEGER NOT NULL);",
  },
  // No index on the message rows: a delivery wrote a page of the table, one of the blobs and one
  // of each index (the blob's, and the one that kept (mailbox_id, uid) unique), ~4.3 WAL frames
  // a commit. The store holds every message in memory and gives the UIDs, and the open computes
  // what the index by mailbox answered (sqlite.ts `load`); a blob counts the message rows that
  // name it (`refs`), which the index by blob found. SQLite cannot drop a table constraint, so
  // the table is made anew and its rows copied (ids kept, as a flag log entry names them).
  {
    version: 12,
    sql: "ALTER TABLE blobs ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;" +
      "UPDATE blobs SET refs = (SELECT count(*) FROM messages WHERE blob_id = blobs.id);" +
      "DROP INDEX IF EXISTS messages_blob;" +
      "CREATE TABLE messages_v12 (id INTEGER PRIMARY KEY," +
      " mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE," +
      " uid INTEGER NOT NULL, internal_date INTEGER NOT NULL, size INTEGER NOT NULL," +
      " flags TEXT NOT NULL, summary TEXT NOT NULL," +
      " blob_id INTEGER NOT NULL REFERENCES blobs (id)," +
      " envelope_from TEXT, envelope_to TEXT, modseq INTEGER NOT NULL DEFAULT 1," +
      " envelope_helo TEXT, save_date INTEGER, email_id INTEGER NOT NULL DEFAULT 0);" +
      `INSERT INTO messages_v12 (${MESSAGE_COLUMNS}) SELECT ${MESSAGE_COLUMNS} FROM messages;` +
      "DROP TABLE messages;" +
      "ALTER TABLE messages_v12 RENAME TO messages;",
  },
  // A blob's references are counted in memory (sqlite.ts `#refCounts`), from the message rows
  // the open reads anyway: a COPY of 5,000 messages updated 5,000 blob rows, ~10 ms of its
  // 35-45 (issue 13, round 32). The version keeps an older program, which would trust the
  // column, from opening the file.
  {
    version: 13,
    sql: "ALTER TABLE blobs DROP COLUMN refs;",
  },
];

/**
 * Brings the database at `db` to {@linkcode SCHEMA_VERSION} in one transaction: a new one gets
 * the schema, an older one the steps above its version. Throws for a newer version.
 */
export function migrate(db: DatabaseSync): void {
  const version = Number(
    (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
  );
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `Cannot open database: it has schema version ${version}, newer than this program's ${SCHEMA_VERSION}`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  // One transaction: a database is at one version or the next, never half-way.
  db.exec("BEGIN IMMEDIATE");
  try {
    if (version === 0) db.exec(SCHEMA);
    else {
      for (const step of MIGRATIONS) if (step.version > version) db.exec(step.sql);
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
