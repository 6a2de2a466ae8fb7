/**
 * The SQLite backend (`node:sqlite`, compiled into Deno). WAL journal, a versioned schema,
 * one transaction per store operation: when a store call returns, its change has committed
 * and survives a crash of the process (`synchronous=NORMAL` in WAL mode is durable against
 * process crashes; power loss may lose the last transactions). The exception is
 * `Store.shareCommit` (SMTP deliveries): its calls share one transaction, each in a savepoint,
 * committed a moment later, and its caller waits for that commit before saying the mail is
 * stored.
 *
 * Message bytes are kept once in `blobs` and shared by copies.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

export { SCHEMA_VERSION } from "./sqlite_schema.ts";
import { MailStore, type MailStoreOptions } from "./mail_store.ts";
import type {
  BlobRef,
  NewMessage,
  PersistedMailbox,
  PersistedState,
  Persistence,
  VanishedRange,
} from "./persistence.ts";
import {
  AUTO_CHECKPOINT_PAGES,
  type CheckpointCounts,
  Checkpoints,
  type StartTimer,
  WAL_SIZE_LIMIT,
} from "./sqlite_checkpoint.ts";
import { type CheckpointWorkerFactory, startCheckpointWorker } from "./sqlite_checkpoint_worker.ts";
import { migrate } from "./sqlite_schema.ts";
import type { MessageSummary } from "../mail/summary.ts";
import type { SpecialUse, Store } from "./types.ts";

/** {@linkcode openSqliteStore}'s options. */
export interface SqliteStoreOptions extends MailStoreOptions {
  /** Starts the WAL checkpoint worker; tests replace it. See `sqlite_checkpoint.ts`. */
  checkpointWorker?: CheckpointWorkerFactory;
  /** Where the one warning goes if checkpoints fall back to the main thread; stderr. */
  warn?: (message: string) => void;
  /** Filled with the running checkpoint counts, for tests and benchmarks. */
  checkpointCounts?: (counts: Readonly<CheckpointCounts>) => void;
  /**
   * Start the checkpoint worker as the store opens, not at the first checkpoint (the server
   * does, before its listeners take connections: see `Checkpoints.start`). Default false.
   */
  checkpointWorkerAtOpen?: boolean;
  /**
   * The idle checkpoint's timer (see `StartTimer` in `sqlite_checkpoint.ts`); the global
   * `setTimeout` by default.
   */
  startTimer?: StartTimer;
}

/**
 * Opens (creating if needed) the SQLite store at `path`. Throws if the file cannot be opened
 * or written, or was written by a newer schema.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  return new MailStore(new SqlitePersistence(path, options), options);
}

/** At most this many bytes of {@linkcode SqlitePersistence}'s fresh blobs are kept. */
const FRESH_BLOB_BYTES = 1 << 20;

/** The SQLite backend of one file; every statement is prepared once. */
class SqlitePersistence implements Persistence {
  readonly kind = "sqlite";
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #lock: Deno.FsFile | null;
  #depth = 0;
  /** Whether the shared transaction is open (`beginShared`). */
  #shared = false;
  /**
   * The bytes handed over (`owned`) to the last transaction, by blob id, up to
   * {@linkcode FRESH_BLOB_BYTES}: the store's listeners index a new message right after the
   * commit (`lib/imap/warm.ts`), and reading it back from the database cost about as much as
   * writing it. Emptied when a transaction begins or rolls back, so no id in it can have been
   * deleted (and reused) since.
   */
  readonly #fresh = new Map<number, Uint8Array>();
  #freshBytes = 0;
  /**
   * Whether the reads of this task share a read transaction (`#beginRead`). Each statement
   * outside a transaction takes and drops WAL mode's read lock (two `fcntl` calls, each a system
   * call): a first `FETCH 1:* BODY.PEEK[]` of 5,000 messages made 10,000 of them, and reading
   * the blobs in one transaction took 92-109 ms instead of 116-240 (issue 13, round 22).
   */
  #reading = false;
  readonly #checkpoints: Checkpoints;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    const startWorker = options.checkpointWorker ?? startCheckpointWorker;
    this.#checkpoints = new Checkpoints({
      checkpointHere: () => {
        try {
          this.#endRead();
          this.#sql("PRAGMA wal_checkpoint(PASSIVE)").get();
        } catch {
          // The database is busy or gone: the next one, or the automatic one, catches up.
        }
      },
      // A second connection to an in-memory database would open another database.
      startWorker: isInMemory(path) ? null : () => startWorker(path),
      warn: options.warn ?? ((message) => console.warn(message)),
      startTimer: options.startTimer,
    });
    options.checkpointCounts?.(this.#checkpoints.counts);
    // Opening reads nothing yet; the lock comes before the first statement touches the file.
    this.#db = new DatabaseSync(path);
    let lock: Deno.FsFile | null = null;
    try {
      lock = lockDatabase(path);
      this.#db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;" +
          `PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES};` +
          `PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT};`,
      );
      migrate(this.#db);
    } catch (error) {
      this.#db.close();
      lock?.close();
      throw error;
    }
    this.#lock = lock;
    if (options.checkpointWorkerAtOpen) this.#checkpoints.start();
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #deleteOrphanBlobs(blobIds: Iterable<number>): void {
    const orphan = this.#sql(
      "DELETE FROM blobs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?)",
    );
    for (const id of new Set(blobIds)) orphan.run(id, id);
  }

  load(): PersistedState {
    const sql = (text: string) => this.#sql(text);
    // The EMAILID counter is not written on every append (see `appendMessages`): the highest
    // EMAILID of the user's messages, or the stored value, written when messages leave.
    const userRows = sql(
      "SELECT name, last_mailbox_id, max(last_email_id, coalesce((SELECT max(email_id) " +
        "FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user = users.name)), 0)) " +
        "AS last_email_id FROM users ORDER BY seq",
    ).all();
    const users = userRows.map((row) => String(row.name));
    const lastMailboxIds = userRows.map((row) => ({
      user: String(row.name),
      last: Number(row.last_mailbox_id),
      lastEmail: Number(row.last_email_id),
    }));
    const messages = sql(
      "SELECT id, mailbox_id, uid, internal_date, size, flags, summary, blob_id, envelope_from, envelope_to, envelope_helo, modseq, save_date, email_id FROM messages ORDER BY mailbox_id, uid",
    ).all().map((row) => ({
      id: Number(row.id),
      mailboxId: Number(row.mailbox_id),
      uid: Number(row.uid),
      internalDate: Number(row.internal_date),
      saveDate: Number(row.save_date ?? row.internal_date),
      size: Number(row.size),
      flags: JSON.parse(String(row.flags)) as string[],
      summary: JSON.parse(String(row.summary)) as MessageSummary,
      envelope: row.envelope_to === null ? null : {
        from: String(row.envelope_from ?? ""),
        to: String(row.envelope_to),
        ...(row.envelope_helo === null ? {} : { helo: String(row.envelope_helo) }),
      },
      blob: Number(row.blob_id),
      emailId: Number(row.email_id),
      modseq: Number(row.modseq),
    }));
    // UIDNEXT and HIGHESTMODSEQ are not written on every change (see `nextModseq` and
    // `insertMessage`): every UID given and every MODSEQ taken is carried by a message row or
    // a vanished range, or else by the stored column, so the highest of the three is the
    // value (each subquery is one index lookup; the messages' MODSEQs are in the rows above).
    const highestModseqs = new Map<number, number>();
    for (const { mailboxId, modseq } of messages) {
      if (modseq > (highestModseqs.get(mailboxId) ?? 0)) highestModseqs.set(mailboxId, modseq);
    }
    const mailboxes = sql(
      "SELECT id, object_id, user, name, special_use, " +
        "max(uid_next, coalesce((SELECT max(uid) + 1 FROM messages WHERE mailbox_id = mailboxes.id), 0), " +
        "coalesce((SELECT max(uid_end) + 1 FROM vanished WHERE mailbox_id = mailboxes.id), 0)) AS uid_next, " +
        "max(highest_modseq, " +
        "coalesce((SELECT max(modseq) FROM vanished WHERE mailbox_id = mailboxes.id), 0)) AS highest_modseq " +
        "FROM mailboxes ORDER BY id",
    ).all()
      .map((row) => ({
        id: Number(row.id),
        objectId: Number(row.object_id),
        user: String(row.user),
        name: String(row.name),
        specialUse: (row.special_use as SpecialUse | null) ?? null,
        uidNext: Number(row.uid_next),
        highestModseq: Math.max(
          Number(row.highest_modseq),
          highestModseqs.get(Number(row.id)) ?? 0,
        ),
      }));
    const subscriptions = sql("SELECT user, name FROM subscriptions").all()
      .map((row) => ({ user: String(row.user), name: String(row.name) }));
    const uidHighWater = sql("SELECT user, name, uid, modseq FROM uid_high_water").all()
      .map((row) => ({
        user: String(row.user),
        name: String(row.name),
        uid: Number(row.uid),
        modseq: Number(row.modseq),
      }));
    const vanished = sql(
      "SELECT mailbox_id, uid_start, uid_end, modseq FROM vanished ORDER BY mailbox_id, uid_start",
    ).all().map((row) => ({
      mailboxId: Number(row.mailbox_id),
      start: Number(row.uid_start),
      end: Number(row.uid_end),
      modseq: Number(row.modseq),
    }));
    const accessKeys = sql("SELECT user, mailbox, key FROM urlauth_keys").all().map((row) => ({
      user: String(row.user),
      mailbox: String(row.mailbox),
      key: new Uint8Array(row.key as Uint8Array),
    }));
    const metadata = sql("SELECT user, mailbox_id, name, value FROM metadata").all()
      .map((row) => ({
        user: String(row.user),
        mailboxId: Number(row.mailbox_id),
        name: String(row.name),
        value: row.value as Uint8Array,
      }));
    return {
      users,
      mailboxes,
      messages,
      subscriptions,
      lastMailboxIds,
      metadata,
      uidHighWater,
      vanished,
      accessKeys,
    };
  }

  transaction<T>(fn: () => T): T {
    // A call inside another's is part of it, in a shared transaction too (a delivery's
    // append inside its `shareCommit` call): one savepoint a delivery.
    if (this.#depth > 0) return fn();
    if (this.#shared) return this.#savepoint(fn);
    this.#endRead();
    this.#forgetFresh();
    // Prepared once, as every statement here: `exec` compiled them anew on each transaction
    // (one an SMTP message), ~4 us of ~110 per append (bench/sqlite_append_cpu.ts).
    this.#sql("BEGIN IMMEDIATE").run();
    this.#depth++;
    try {
      const result = fn();
      this.#sql("COMMIT").run();
      this.#checkpoints.wrote();
      return result;
    } catch (error) {
      this.#forgetFresh();
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** `fn` in a savepoint of the shared transaction: undone alone if it fails. */
  #savepoint<T>(fn: () => T): T {
    this.#sql("SAVEPOINT shared_call").run();
    this.#depth++;
    try {
      const result = fn();
      this.#sql("RELEASE shared_call").run();
      return result;
    } catch (error) {
      // A blob id given in the savepoint may be given again.
      this.#forgetFresh();
      this.#sql("ROLLBACK TO shared_call").run();
      this.#sql("RELEASE shared_call").run();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  beginShared(): void {
    this.#endRead();
    this.#forgetFresh();
    this.#sql("BEGIN IMMEDIATE").run();
    this.#shared = true;
  }

  commitShared(): void {
    this.#shared = false;
    try {
      this.#sql("COMMIT").run();
    } catch (error) {
      this.#forgetFresh();
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // The failed COMMIT rolled back already (an I/O error, a full disk).
      }
      throw error;
    }
    this.#checkpoints.wrote();
  }

  insertUser(user: string): void {
    this.#sql("INSERT INTO users (name) VALUES (?)").run(user);
  }

  setMetadata(user: string, mailboxId: number, name: string, value: Uint8Array | null): void {
    if (value) {
      this.#sql(
        "INSERT INTO metadata (user, mailbox_id, name, value) VALUES (?, ?, ?, ?) ON CONFLICT (user, mailbox_id, name) DO UPDATE SET value = excluded.value",
      ).run(user, mailboxId, name, value);
    } else {
      this.#sql("DELETE FROM metadata WHERE user = ? AND mailbox_id = ? AND name = ?").run(
        user,
        mailboxId,
        name,
      );
    }
  }

  setLastEmailId(user: string, last: number): void {
    this.#sql("UPDATE users SET last_email_id = ? WHERE name = ?").run(last, user);
  }

  setLastMailboxId(user: string, last: number): void {
    this.#sql("UPDATE users SET last_mailbox_id = ? WHERE name = ?").run(last, user);
  }

  insertMailbox(
    { objectId, user, name, specialUse, uidNext, highestModseq }: Omit<PersistedMailbox, "id">,
  ): number {
    const result = this.#sql(
      "INSERT INTO mailboxes (object_id, user, name, special_use, uid_next, highest_modseq) VALUES (?, ?, ?, ?, ?, ?)",
    )
      .run(objectId, user, name, specialUse, uidNext, highestModseq);
    return Number(result.lastInsertRowid);
  }

  updateMailbox(
    id: number,
    fields: {
      name?: string;
      uidNext?: number;
      specialUse?: SpecialUse | null;
      highestModseq?: number;
    },
  ): void {
    if (fields.name !== undefined) {
      this.#sql("UPDATE mailboxes SET name = ? WHERE id = ?").run(fields.name, id);
    }
    if (fields.uidNext !== undefined) {
      this.#sql("UPDATE mailboxes SET uid_next = ? WHERE id = ?").run(fields.uidNext, id);
    }
    if (fields.specialUse !== undefined) {
      this.#sql("UPDATE mailboxes SET special_use = ? WHERE id = ?").run(fields.specialUse, id);
    }
    if (fields.highestModseq !== undefined) {
      this.#sql("UPDATE mailboxes SET highest_modseq = ? WHERE id = ?").run(
        fields.highestModseq,
        id,
      );
    }
  }

  deleteMailbox(id: number): void {
    const rows = this.#sql("SELECT blob_id FROM messages WHERE mailbox_id = ?").all(id);
    const blobIds = rows.map((row) => Number(row.blob_id));
    this.#sql("DELETE FROM messages WHERE mailbox_id = ?").run(id);
    this.#sql("DELETE FROM vanished WHERE mailbox_id = ?").run(id);
    this.#sql("DELETE FROM metadata WHERE mailbox_id = ?").run(id);
    this.#sql("DELETE FROM mailboxes WHERE id = ?").run(id);
    this.#deleteOrphanBlobs(blobIds);
  }

  /**
   * Opens a read transaction that the reads of this task share, ended in a microtask (a FETCH
   * that streams over several turns of the event loop has one a turn) or by the next write,
   * which cannot begin inside it. No other connection writes (the checkpoint worker only
   * copies the WAL), so what it reads is what a statement of its own would read.
   */
  #beginRead(): void {
    this.#sql("BEGIN").run();
    this.#reading = true;
    queueMicrotask(this.#endRead);
  }

  readonly #endRead = (): void => {
    if (!this.#reading) return;
    this.#reading = false;
    try {
      this.#sql("COMMIT").run();
    } catch {
      // A read transaction has nothing to keep; whatever failed, leave none open.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    }
  };

  #forgetFresh(): void {
    this.#fresh.clear();
    this.#freshBytes = 0;
  }

  storeBlob(raw: Uint8Array, owned = false): BlobRef {
    const id = Number(this.#sql("INSERT INTO blobs (data) VALUES (?)").run(raw).lastInsertRowid);
    // Only bytes handed over: others may be changed by the caller once this returns.
    if (owned && this.#freshBytes + raw.length <= FRESH_BLOB_BYTES) {
      this.#fresh.set(id, raw);
      this.#freshBytes += raw.length;
    }
    return id;
  }

  readBlob(blob: BlobRef): Uint8Array {
    const fresh = this.#fresh.get(blob as number);
    if (fresh) return fresh;
    if (!this.#reading && this.#depth === 0 && !this.#shared) this.#beginRead();
    const row = this.#sql("SELECT data FROM blobs WHERE id = ?").get(blob as number);
    if (!row) throw new Error(`Cannot read message bytes: blob ${blob} is missing`);
    return row.data as Uint8Array;
  }

  insertMessage(mailboxId: number, message: NewMessage): number {
    const result = this.#sql(
      "INSERT INTO messages (mailbox_id, uid, internal_date, size, flags, summary, blob_id, envelope_from, envelope_to, envelope_helo, modseq, save_date, email_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      mailboxId,
      message.uid,
      message.internalDate,
      message.size,
      JSON.stringify(message.flags),
      JSON.stringify(message.summary),
      message.blob as number,
      message.envelope?.from ?? null,
      message.envelope?.to ?? null,
      message.envelope?.helo ?? null,
      message.modseq,
      message.saveDate,
      message.emailId,
    );
    return Number(result.lastInsertRowid);
  }

  updateFlags(messageId: number, flags: readonly string[], modseq: number): void {
    this.#sql("UPDATE messages SET flags = ?, modseq = ? WHERE id = ?").run(
      JSON.stringify(flags),
      modseq,
      messageId,
    );
  }

  updateMessageUid(messageId: number, uid: number, modseq: number): void {
    this.#sql("UPDATE messages SET uid = ?, modseq = ? WHERE id = ?").run(uid, modseq, messageId);
  }

  deleteMessages(messageIds: readonly number[]): void {
    const select = this.#sql("SELECT blob_id FROM messages WHERE id = ?");
    const remove = this.#sql("DELETE FROM messages WHERE id = ?");
    const blobIds: number[] = [];
    for (const id of messageIds) {
      const row = select.get(id);
      if (row) blobIds.push(Number(row.blob_id));
      remove.run(id);
    }
    this.#deleteOrphanBlobs(blobIds);
  }

  setSubscription(user: string, name: string, subscribed: boolean): void {
    if (subscribed) {
      this.#sql("INSERT OR IGNORE INTO subscriptions (user, name) VALUES (?, ?)").run(user, name);
    } else this.#sql("DELETE FROM subscriptions WHERE user = ? AND name = ?").run(user, name);
  }

  setUidHighWater(user: string, name: string, uid: number): void {
    this.#sql(
      "INSERT INTO uid_high_water (user, name, uid) VALUES (?, ?, ?) ON CONFLICT (user, name) DO UPDATE SET uid = max(uid, excluded.uid)",
    ).run(user, name, uid);
  }

  setModseqHighWater(user: string, name: string, modseq: number): void {
    this.#sql(
      "INSERT INTO uid_high_water (user, name, uid, modseq) VALUES (?, ?, 0, ?) ON CONFLICT (user, name) DO UPDATE SET modseq = max(modseq, excluded.modseq)",
    ).run(user, name, modseq);
  }

  replaceVanished(
    mailboxId: number,
    removed: readonly number[],
    added: readonly VanishedRange[],
  ): void {
    const remove = this.#sql("DELETE FROM vanished WHERE mailbox_id = ? AND uid_start = ?");
    for (const start of removed) remove.run(mailboxId, start);
    const insert = this.#sql(
      "INSERT INTO vanished (mailbox_id, uid_start, uid_end, modseq) VALUES (?, ?, ?, ?)",
    );
    for (const range of added) insert.run(mailboxId, range.start, range.end, range.modseq);
  }

  setAccessKey(user: string, mailbox: string, key: Uint8Array): void {
    this.#sql(
      "INSERT INTO urlauth_keys (user, mailbox, key) VALUES (?, ?, ?) ON CONFLICT (user, mailbox) DO UPDATE SET key = excluded.key",
    ).run(user, mailbox, key);
  }

  deleteAccessKeys(user: string, mailbox: string | null): void {
    if (mailbox === null) this.#sql("DELETE FROM urlauth_keys WHERE user = ?").run(user);
    else this.#sql("DELETE FROM urlauth_keys WHERE user = ? AND mailbox = ?").run(user, mailbox);
  }

  clear(): void {
    this.#forgetFresh();
    this.#db.exec(
      "DELETE FROM urlauth_keys; DELETE FROM metadata; DELETE FROM vanished; DELETE FROM messages; DELETE FROM blobs; DELETE FROM mailboxes; DELETE FROM subscriptions; DELETE FROM uid_high_water; DELETE FROM users;",
    );
  }

  close(): void {
    // The worker's connection closes first, so that the main one is the last and SQLite's
    // final checkpoint on close empties and removes the WAL.
    this.#checkpoints.close();
    this.#endRead();
    this.#forgetFresh();
    this.#statements.clear();
    this.#db.close();
    // Unlocked before the close: a reopen in the same process right after must find the lock
    // free even while the runtime still holds the closed file's resource (seen under load).
    this.#lock?.unlockSync();
    this.#lock?.close();
  }
}

/**
 * Takes an exclusive lock on `<path>.lock` (created if needed) for as long as the store is
 * open, or throws: a second server on the same database would otherwise start, fail its
 * deliveries and wipe the first one's mail on reset. A lock file rather than SQLite's own
 * `locking_mode=EXCLUSIVE`, so that `sqlite3` (and the tests) can still read the database
 * while the server runs. The operating system drops the lock when the process dies, so a
 * crash never leaves the database locked. None for an in-memory database.
 */
function lockDatabase(path: string): Deno.FsFile | null {
  if (isInMemory(path)) return null;
  const lockPath = `${path}.lock`;
  const file = Deno.openSync(lockPath, { read: true, write: true, create: true });
  if (file.tryLockSync(true)) return file;
  file.close();
  throw new Error(`another server is using it (${lockPath} is locked)`);
}

/** Whether `path` names an in-memory (or temporary) database rather than a file. */
function isInMemory(path: string): boolean {
  return path === ":memory:" || path === "";
}
