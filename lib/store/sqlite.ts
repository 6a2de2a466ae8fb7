/**
 * The SQLite backend (`node:sqlite`, compiled into Deno). WAL journal, a versioned schema,
 * one transaction per store operation: when a store call returns, its change has committed
 * and survives a crash of the process (`synchronous=NORMAL` in WAL mode is durable against
 * process crashes; power loss may lose the last transactions). The exception is
 * `Store.shareCommit` (SMTP deliveries): its calls share one transaction, each in a savepoint,
 * committed a moment later, and its caller waits for that commit before saying the mail is
 * stored.
 *
 * Message bytes are kept once and shared by copies: a `blobs` row each, the bytes themselves
 * in the mail file beside the database (`<path>.mail`, mail_file.ts), or, for an in-memory
 * database and those written before schema version 11, in the row. The row goes with the last
 * message row that names it; the message rows have no index (each would be one more page in
 * every delivery's commit), so the references are counted in memory ({@linkcode
 * SqlitePersistence} `#refCounts`), from the rows the open reads anyway: until schema version 13
 * the blob row counted them (`refs`), and a COPY of 5,000 messages updated 5,000 blob rows.
 *
 * A transaction that changes the flags of many messages (a STORE of a mailbox) writes them as
 * rows of the `flag_changes` log, not one UPDATE of each message row: a first
 * `STORE 1:* +FLAGS.SILENT (\Seen)` of 5,000 messages took 27-31 ms against Dovecot's 2.2-2.4
 * (issue 13, round 22), nearly all of it SQLite rewriting 5,000 rows (~2 us each, and ~360
 * pages for the commit to write). Each entry (a run of consecutive message rows) says their
 * flags and MODSEQ; a message's MODSEQ only rises with each change, so its state is that of the
 * row or of the entry with the highest MODSEQ, whatever order they are read in. `load` applies
 * the log that way (`#applyLoggedFlags`), and in idle time the rows are brought up to date
 * {@linkcode FLAG_LOG_ROW} messages a step, the oldest log row first, cut to what is left of it
 * or deleted (`#flagLogStep`). Message row ids are given here,
 * above every id a log entry names, so an entry of an expunged message never meets a new
 * message under its id.
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
  PersistedMessage,
  PersistedState,
  Persistence,
  VanishedRange,
} from "./persistence.ts";
import {
  AUTO_CHECKPOINT_PAGES,
  type CheckpointCounts,
  Checkpoints,
  globalStartTimer,
  type IdleTimer,
  MAIN_BUSY_TIMEOUT_MS,
  type StartTimer,
  WAL_SIZE_LIMIT,
} from "./sqlite_checkpoint.ts";
import {
  type CheckpointResult,
  type CheckpointWorkerFactory,
  startCheckpointWorker,
} from "./sqlite_checkpoint_worker.ts";
import { migrate } from "./sqlite_schema.ts";
import { type MailFile, mailFilePath } from "./mail_file.ts";
import { openMailFile } from "./sqlite_mail_file.ts";
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
  /**
   * Keep new message bytes in the database's `blobs` table, not in the mail file beside it
   * (as an in-memory database does, and as every database did before schema version 11). For
   * tests of that path. Default false.
   */
  blobsInDatabase?: boolean;
  /**
   * Dead bytes from which the mail file is compacted at open (if also more than its live ones);
   * `COMPACT_MIN_DEAD_BYTES` (sqlite_mail_file.ts) by default. For tests.
   */
  compactMinDeadBytes?: number;
  /** Told the text of each statement as it is prepared. For tests. */
  prepared?: (text: string) => void;
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

/**
 * Messages whose flags one transaction changes from which the changes go to the
 * `flag_changes` log (see the module documentation); fewer are UPDATEs of their rows. Past a
 * few messages one INSERT costs less than their UPDATEs, and the startup warm-up's STOREs (six
 * messages, lib/imap/warm_up.ts) then run the log's code before the first client's: with 64, a
 * first STORE of 5,000 spent 0.57-0.71 ms writing its one log row, with 4 0.01-0.29 (issue 13,
 * round 22, three runs each).
 */
export const FLAG_LOG_MIN = 4;

/**
 * Messages one idle step brings up to date at most (~2 us each): a longer log row is applied
 * over several steps, cut to what is left after each. A transaction writes one log row: a first
 * STORE of 5,000 messages wrote ten, one every 512 messages, which took 0.27-0.47 ms of its
 * ~2.5 (issue 13, round 25, a probe in the server, four runs).
 */
export const FLAG_LOG_ROW = 512;

/**
 * Bytes of one run of a `flag_changes` row: messages with consecutive row ids given the same
 * flag list at the same MODSEQ (a STORE of a mailbox is mostly one), as the first id, the count,
 * the MODSEQ and the list's index in the row's `flags`, each a little-endian float64.
 */
const FLAG_RUN_BYTES = 32;

/** Writes must have paused this long before an idle step applies a log row, in ms. */
const FLAG_LOG_IDLE_MS = 200;

/**
 * Log rows from which a step runs without waiting for writes to pause, one a turn of the event
 * loop until fewer are left: under writes that never pause the log stays this short (what the
 * store reads at open), each step ~1-2 ms among them.
 */
export const FLAG_LOG_BACKLOG = 64;

/**
 * The statements of a first delivery to a new user (SMTP's, or an APPEND's): its rows, the
 * user's mailboxes and subscriptions, the blob and the message, in the shared commit's
 * savepoint. Prepared as the store opens, with the rest of the startup, rather than by a test
 * run's first message: a fresh SQLite server's first message (its data to the 250, Python's
 * socket, a second after the banner) took 0.98-1.55 ms (median 1.15) against 1.13-1.86 (1.26),
 * ten alternating pairs (issue 13, round 31). Both blob statements: a store uses one of them.
 * The others are prepared at their first use.
 */
const FIRST_DELIVERY = {
  begin: "BEGIN IMMEDIATE",
  savepoint: "SAVEPOINT shared_call",
  release: "RELEASE shared_call",
  commit: "COMMIT",
  insertUser: "INSERT INTO users (name) VALUES (?)",
  lastMailboxId: "UPDATE users SET last_mailbox_id = ? WHERE name = ?",
  insertMailbox:
    "INSERT INTO mailboxes (object_id, user, name, special_use, uid_next, highest_modseq) VALUES (?, ?, ?, ?, ?, ?)",
  subscribe: "INSERT OR IGNORE INTO subscriptions (user, name) VALUES (?, ?)",
  fileBlob: "INSERT INTO blobs (data, file_offset, file_length) VALUES (x'', ?, ?)",
  rowBlob: "INSERT INTO blobs (data) VALUES (?)",
  insertMessage:
    "INSERT INTO messages (id, mailbox_id, uid, internal_date, size, flags, summary, blob_id, envelope_from, envelope_to, envelope_helo, modseq, save_date, email_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
} as const;

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
  /** The buffers `readBlob` made, which `releaseBlob` may free. */
  readonly #lent = new WeakSet<ArrayBuffer>();
  /** The mail file new message bytes go to; null if they go to `blobs` rows. */
  readonly #mail: MailFile | null = null;
  /**
   * Where the bytes of blobs in the mail file are, by blob id: loaded with the rest (`load`),
   * and set as blobs are stored. A cache of the rows: an id missing from it (a deletion that
   * rolled back) is looked up.
   */
  readonly #spans = new Map<number, { offset: number; length: number }>();
  /**
   * The blob `storeBlob` stored last, until the message row that names it (its first reference)
   * is inserted; null after that, or when a transaction begins or rolls back. A blob stored and
   * never named keeps its row, as it always did.
   */
  #unclaimed: number | null = null;
  /**
   * How many message rows name each blob that more than one names (copies, and the recipients
   * of one delivery); a blob named by a message and absent here has one. Made by `load` from the
   * rows it reads, kept as rows come and go, and thrown away when a transaction or savepoint
   * rolls back (null: counted again from the rows before its next use, `#refCounts`).
   */
  #multiRefs: Map<number, number> | null = new Map();
  /** Whether the open transaction emptied the store: the mail file is emptied once it commits. */
  #emptyMailFile = false;
  /**
   * The flag changes of the open transaction in the order made, as runs (see
   * `FLAG_RUN_BYTES`): first message row id, count, MODSEQ and flag list of each, written as it
   * commits (`#writeFlagChanges`). A message changed twice is in twice; the later change has
   * the higher MODSEQ, so it wins either way.
   */
  readonly #runFirst: number[] = [];
  readonly #runCount: number[] = [];
  readonly #runModseq: number[] = [];
  readonly #runList: Array<readonly string[]> = [];
  /** Messages in those runs. */
  #flagChanged = 0;
  /** The id the next message row gets: above every id in the table or the flag log. */
  #nextMessageId = 1;
  /** The idle step that applies the flag log; undefined when none is pending. */
  #flagLogTimer: IdleTimer | undefined;
  /** When a write transaction last committed (`performance.now()`). */
  #lastWrite = 0;
  readonly #startTimer: StartTimer;
  readonly #checkpoints: Checkpoints;
  readonly #prepared: ((text: string) => void) | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#prepared = options.prepared;
    this.#startTimer = options.startTimer ?? globalStartTimer;
    const startWorker = options.checkpointWorker ?? startCheckpointWorker;
    this.#checkpoints = new Checkpoints({
      checkpointHere: () => {
        try {
          this.#endRead();
          return this.#sql("PRAGMA wal_checkpoint(PASSIVE)").get() as unknown as CheckpointResult;
        } catch {
          // The database is busy or gone: the next one, or the automatic one, catches up.
          return undefined;
        }
      },
      // A second connection to an in-memory database would open another database.
      startWorker: isInMemory(path)
        ? null
        : () => startWorker(path, this.#mail ? mailFilePath(path) : undefined),
      warn: options.warn ?? ((message) => console.warn(message)),
      startTimer: options.startTimer,
      // Another connection's write (the worker's start-over) makes SQLite drop this one's
      // page cache at its next statement: one now, in the pause, rather than in a command.
      restarted: () => {
        try {
          this.#sql("PRAGMA user_version").get();
        } catch {
          // Closed meanwhile: nothing to drop.
        }
      },
    });
    options.checkpointCounts?.(this.#checkpoints.counts);
    // Opening reads nothing yet; the lock comes before the first statement touches the file.
    this.#db = new DatabaseSync(path);
    let lock: Deno.FsFile | null = null;
    try {
      lock = lockDatabase(path);
      // No foreign key checks: the code keeps the references itself (a mailbox's messages,
      // ranges and metadata go with it; a blob goes with its last message), and the check of
      // each new message row's blob read that blob's page from disk when it was not cached: a
      // first `COPY 1:*` of 5,000 messages made 5,000 such reads, 38-64 ms against 64-70 in
      // all (issue 13, round 22). The REFERENCES clauses stay, as documentation.
      this.#db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;" +
          `PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES};` +
          `PRAGMA busy_timeout = ${MAIN_BUSY_TIMEOUT_MS};` +
          `PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT};`,
      );
      migrate(this.#db);
      if (!isInMemory(path) && !options.blobsInDatabase) {
        this.#mail = openMailFile(this.#db, path, {
          warn: options.warn ?? ((message) => console.warn(message)),
          compactMinDeadBytes: options.compactMinDeadBytes,
        });
      }
      // Not for an in-memory database: the startup warm-up's, which is gone after it.
      if (!isInMemory(path)) { for (const text of Object.values(FIRST_DELIVERY)) this.#sql(text); }
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
      this.#prepared?.(text);
    }
    return statement;
  }

  /**
   * Where the mail file holds each blob's bytes, in one query: looked up one read at a time, a
   * reopened database's first reads of its messages each ran a statement (and took WAL mode's
   * read lock) before reading the file; a first POP3 STAT of 5,000 messages (each read for its
   * size) took 217-226 ms against 164-166 with the bytes in the rows (issue 13, round 25).
   */
  #loadSpans(): void {
    this.#spans.clear();
    if (!this.#mail) return;
    const rows = this.#sql(
      "SELECT id, file_offset, file_length FROM blobs WHERE file_offset IS NOT NULL",
    ).all();
    for (const row of rows) {
      this.#spans.set(Number(row.id), {
        offset: Number(row.file_offset),
        length: Number(row.file_length),
      });
    }
  }

  /**
   * {@linkcode #multiRefs}, counted again from the message rows if a rollback threw it away (a
   * scan of the table, after an error only). Taken before rows are deleted: after, a blob absent
   * from the counts could have one reference left or none.
   */
  #refCounts(): Map<number, number> {
    if (this.#multiRefs) return this.#multiRefs;
    const refs = new Map<number, number>();
    const rows = this.#sql(
      "SELECT blob_id, count(*) AS n FROM messages GROUP BY blob_id HAVING n > 1",
    ).all();
    for (const row of rows) refs.set(Number(row.blob_id), Number(row.n));
    return this.#multiRefs = refs;
  }

  /**
   * The message rows that named these blobs are gone (an id once a row), `refs` their counts
   * from before: each blob counts them off its references, and goes with its last.
   */
  #releaseBlobs(blobIds: Iterable<number>, refs: Map<number, number>): void {
    const counts = new Map<number, number>();
    for (const id of blobIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    const remove = this.#sql("DELETE FROM blobs WHERE id = ?");
    for (const [id, count] of counts) {
      const left = (refs.get(id) ?? 1) - count;
      if (left > 1) {
        refs.set(id, left);
        continue;
      }
      refs.delete(id);
      if (left > 0) continue;
      remove.run(id);
      // Out of the cache of spans even if the deletion rolls back: that blob is looked up again.
      this.#spans.delete(id);
    }
  }

  load(): PersistedState {
    const sql = (text: string) => this.#sql(text);
    const userRows = sql(
      "SELECT name, last_mailbox_id, last_email_id FROM users ORDER BY seq",
    ).all();
    const users = userRows.map((row) => String(row.name));
    // In the order of their row ids, sorted below: the table has no index by mailbox (schema
    // version 12), and SQLite would sort the whole rows.
    const messages = sql(
      "SELECT id, mailbox_id, uid, internal_date, size, flags, summary, blob_id, envelope_from, envelope_to, envelope_helo, modseq, save_date, email_id FROM messages",
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
    sortByMailboxAndUid(messages);
    const named = new Map<number, number>();
    for (const { blob } of messages) named.set(blob, (named.get(blob) ?? 0) + 1);
    for (const [blob, count] of named) if (count === 1) named.delete(blob);
    this.#multiRefs = named;
    this.#forgetFlagChanges();
    this.#nextMessageId = this.#applyLoggedFlags(messages) + 1;
    this.#loadSpans();
    // UIDNEXT and HIGHESTMODSEQ are not written on every change (see `nextModseq` and
    // `insertMessage`): every UID given and every MODSEQ taken is carried by a message row or
    // a vanished range, or else by the stored column, so the highest of the three is the
    // value (the vanished ranges' subqueries are index lookups; the messages' UIDs and MODSEQs
    // are in the rows above).
    // The EMAILID counter is not written on every append either (see `appendMessages`): the
    // highest EMAILID of the user's messages, or the stored value, written when messages leave.
    const highestModseqs = new Map<number, number>();
    const highestUids = new Map<number, number>();
    const highestEmailIds = new Map<number, number>();
    for (const { mailboxId, modseq, uid, emailId } of messages) {
      if (modseq > (highestModseqs.get(mailboxId) ?? 0)) highestModseqs.set(mailboxId, modseq);
      if (uid > (highestUids.get(mailboxId) ?? 0)) highestUids.set(mailboxId, uid);
      if (emailId > (highestEmailIds.get(mailboxId) ?? 0)) highestEmailIds.set(mailboxId, emailId);
    }
    const mailboxes = sql(
      "SELECT id, object_id, user, name, special_use, " +
        "max(uid_next, coalesce((SELECT max(uid_end) + 1 FROM vanished WHERE mailbox_id = mailboxes.id), 0)) AS uid_next, " +
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
        uidNext: Math.max(Number(row.uid_next), (highestUids.get(Number(row.id)) ?? 0) + 1),
        highestModseq: Math.max(
          Number(row.highest_modseq),
          highestModseqs.get(Number(row.id)) ?? 0,
        ),
      }));
    const lastEmails = new Map<string, number>();
    for (const { id, user } of mailboxes) {
      const highest = highestEmailIds.get(id) ?? 0;
      if (highest > (lastEmails.get(user) ?? 0)) lastEmails.set(user, highest);
    }
    const lastMailboxIds = userRows.map((row) => ({
      user: String(row.name),
      last: Number(row.last_mailbox_id),
      lastEmail: Math.max(Number(row.last_email_id), lastEmails.get(String(row.name)) ?? 0),
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
    this.#sql(FIRST_DELIVERY.begin).run();
    this.#depth++;
    try {
      const result = fn();
      this.#writeFlagChanges();
      this.#sql(FIRST_DELIVERY.commit).run();
      this.#wrote();
      return result;
    } catch (error) {
      this.#forgetTransaction();
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** `fn` in a savepoint of the shared transaction: undone alone if it fails. */
  #savepoint<T>(fn: () => T): T {
    this.#sql(FIRST_DELIVERY.savepoint).run();
    this.#depth++;
    try {
      const result = fn();
      this.#writeFlagChanges();
      this.#sql(FIRST_DELIVERY.release).run();
      return result;
    } catch (error) {
      // A blob id given in the savepoint may be given again.
      this.#forgetTransaction();
      this.#sql("ROLLBACK TO shared_call").run();
      this.#sql(FIRST_DELIVERY.release).run();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  beginShared(): void {
    this.#endRead();
    this.#forgetFresh();
    this.#sql(FIRST_DELIVERY.begin).run();
    this.#shared = true;
  }

  commitShared(): void {
    this.#shared = false;
    try {
      this.#writeFlagChanges();
      this.#sql(FIRST_DELIVERY.commit).run();
    } catch (error) {
      this.#forgetTransaction();
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // The failed COMMIT rolled back already (an I/O error, a full disk).
      }
      throw error;
    }
    this.#wrote();
  }

  /** A write transaction committed. */
  #wrote(): void {
    this.#lastWrite = performance.now();
    this.#checkpoints.wrote();
    if (this.#emptyMailFile) {
      this.#emptyMailFile = false;
      this.#mail?.truncate();
    }
  }

  /** What the transaction (or savepoint) rolling back had kept for its commit. */
  #forgetTransaction(): void {
    this.#forgetFresh();
    this.#forgetFlagChanges();
    this.#emptyMailFile = false;
    this.#multiRefs = null;
  }

  /**
   * Writes the open transaction's flag changes: UPDATEs of their rows if they are few, rows of
   * the `flag_changes` log if not (see the module documentation).
   */
  #writeFlagChanges(): void {
    const runs = this.#runFirst.length;
    if (runs === 0) return;
    const first = this.#runFirst;
    const count = this.#runCount;
    const modseq = this.#runModseq;
    const list = this.#runList;
    if (this.#flagChanged < FLAG_LOG_MIN) {
      // Only over an older state: a renumbering in the same transaction wrote a newer one.
      const update = this.#sql(
        "UPDATE messages SET flags = ?, modseq = ? WHERE id BETWEEN ? AND ? AND modseq < ?",
      );
      for (let r = 0; r < runs; r++) {
        update.run(
          JSON.stringify(list[r]),
          modseq[r],
          first[r],
          first[r] + count[r] - 1,
          modseq[r],
        );
      }
      this.#forgetFlagChanges();
      return;
    }
    // One row: the lists interned, each run as is (the idle steps cut it, see FLAG_LOG_ROW).
    const indexes = new Map<readonly string[], number>();
    const texts: string[] = [];
    const entries = new Float64Array(runs * 4);
    for (let r = 0; r < runs; r++) {
      let index = indexes.get(list[r]);
      if (index === undefined) {
        index = texts.length;
        indexes.set(list[r], index);
        texts.push(JSON.stringify(list[r]));
      }
      entries[r * 4] = first[r];
      entries[r * 4 + 1] = count[r];
      entries[r * 4 + 2] = modseq[r];
      entries[r * 4 + 3] = index;
    }
    this.#sql("INSERT INTO flag_changes (flags, entries) VALUES (?, ?)").run(
      `[${texts.join(",")}]`,
      littleEndian(entries),
    );
    this.#forgetFlagChanges();
    this.#scheduleFlagLog(FLAG_LOG_IDLE_MS);
  }

  #forgetFlagChanges(): void {
    this.#runFirst.length = 0;
    this.#runCount.length = 0;
    this.#runModseq.length = 0;
    this.#runList.length = 0;
    this.#flagChanged = 0;
  }

  /**
   * Applies the `flag_changes` log to the loaded `messages` (see the module documentation) and
   * returns the highest message row id the table or the log names.
   */
  #applyLoggedFlags(messages: readonly PersistedMessage[]): number {
    const lastRow = Number(
      (this.#sql("SELECT coalesce(max(id), 0) AS id FROM messages").get() as { id: number }).id,
    );
    let highest = lastRow;
    const rows = this.#sql("SELECT flags, entries FROM flag_changes ORDER BY id").all();
    if (rows.length === 0) return highest;
    const byId = new Map(messages.map((message) => [message.id, message]));
    for (const row of rows) {
      const lists = JSON.parse(String(row.flags)) as string[][];
      forEachFlagRun(row.entries as Uint8Array, (first, count, modseq, index) => {
        if (first + count - 1 > highest) highest = first + count - 1;
        const flags = lists[index];
        if (!Array.isArray(flags)) return;
        // No row past the table's last: a run is walked no further, however long it says it is.
        const last = Math.min(first + count - 1, lastRow);
        for (let id = first; id <= last; id++) {
          const message = byId.get(id);
          if (message && modseq > message.modseq) {
            message.flags = flags;
            message.modseq = modseq;
          }
        }
      });
    }
    this.#scheduleFlagLog(FLAG_LOG_IDLE_MS);
    return highest;
  }

  #scheduleFlagLog(ms: number): void {
    this.#flagLogTimer ??= this.#startTimer(ms, this.#flagLogStep);
  }

  /** Whether the log holds {@linkcode FLAG_LOG_BACKLOG} rows or more. */
  #flagLogBacklog(): boolean {
    try {
      return this.#sql(
        `SELECT count(*) AS n FROM (SELECT 1 FROM flag_changes LIMIT ${FLAG_LOG_BACKLOG})`,
      )
        .get()!.n === FLAG_LOG_BACKLOG;
    } catch {
      return false;
    }
  }

  /**
   * One idle step: once writes have paused, the oldest log row's runs are applied to the
   * message rows they name (each only if the entry's MODSEQ is above the row's), up to
   * {@linkcode FLAG_LOG_ROW} messages, and the row is cut to the rest or deleted, in one
   * transaction; the next step follows while rows are left.
   */
  readonly #flagLogStep = (): void => {
    this.#flagLogTimer = undefined;
    const quiet = performance.now() - this.#lastWrite;
    if (quiet < FLAG_LOG_IDLE_MS && !this.#flagLogBacklog()) {
      return this.#scheduleFlagLog(FLAG_LOG_IDLE_MS - quiet);
    }
    // A timer's task: no transaction of the store's own is open, unless a shared commit is.
    if (this.#shared || this.#depth > 0) return this.#scheduleFlagLog(FLAG_LOG_IDLE_MS);
    let more: boolean;
    // This step's own write does not count as one the next step waits after.
    const lastWrite = this.#lastWrite;
    try {
      more = this.transaction(() => {
        const row = this.#sql("SELECT id, flags, entries FROM flag_changes ORDER BY id LIMIT 1")
          .get();
        if (!row) return false;
        const lists = JSON.parse(String(row.flags)) as string[][];
        const texts = lists.map((list) => JSON.stringify(list));
        const update = this.#sql(
          "UPDATE messages SET flags = ?, modseq = ? WHERE id BETWEEN ? AND ? AND modseq < ?",
        );
        /** What is left of the row, four numbers a run (see `FLAG_RUN_BYTES`). */
        const rest: number[] = [];
        let room = FLAG_LOG_ROW;
        // No message row past the table's last: a run that says more is cut there.
        const lastRow = Number(
          this.#sql("SELECT coalesce(max(id), 0) AS id FROM messages").get()!.id,
        );
        forEachFlagRun(row.entries as Uint8Array, (first, count, modseq, index) => {
          const rows = Math.min(count, lastRow - first + 1);
          if (rows <= 0) return;
          const take = Math.min(rows, room);
          if (take > 0) update.run(texts[index], modseq, first, first + take - 1, modseq);
          room -= take;
          if (take < rows) rest.push(first + take, rows - take, modseq, index);
        });
        if (rest.length === 0) {
          this.#sql("DELETE FROM flag_changes WHERE id = ?").run(Number(row.id));
        } else {
          this.#sql("UPDATE flag_changes SET entries = ? WHERE id = ?").run(
            littleEndian(Float64Array.from(rest)),
            Number(row.id),
          );
        }
        return true;
      });
    } catch {
      // The database is busy or gone (closed under the timer): the log stays, applied at open.
      return;
    } finally {
      this.#lastWrite = lastWrite;
    }
    if (more) this.#scheduleFlagLog(0);
  };

  insertUser(user: string): void {
    this.#sql(FIRST_DELIVERY.insertUser).run(user);
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
    this.#sql(FIRST_DELIVERY.lastMailboxId).run(last, user);
  }

  insertMailbox(
    { objectId, user, name, specialUse, uidNext, highestModseq }: Omit<PersistedMailbox, "id">,
  ): number {
    const result = this.#sql(FIRST_DELIVERY.insertMailbox).run(
      objectId,
      user,
      name,
      specialUse,
      uidNext,
      highestModseq,
    );
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
    const refs = this.#refCounts();
    const rows = this.#sql("DELETE FROM messages WHERE mailbox_id = ? RETURNING blob_id").all(id);
    const blobIds = rows.map((row) => Number(row.blob_id));
    this.#sql("DELETE FROM vanished WHERE mailbox_id = ?").run(id);
    this.#sql("DELETE FROM metadata WHERE mailbox_id = ?").run(id);
    this.#sql("DELETE FROM mailboxes WHERE id = ?").run(id);
    this.#releaseBlobs(blobIds, refs);
  }

  /**
   * Opens a read transaction that the reads of this task share, ended in a microtask (a FETCH
   * that streams over several turns of the event loop has one a turn) or by the next write,
   * which cannot begin inside it. No other connection writes data (the checkpoint worker
   * copies the WAL and, to start it over, rewrites the header's user version unchanged), so
   * what it reads is what a statement of its own would read.
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
      this.#sql(FIRST_DELIVERY.commit).run();
    } catch {
      // A read transaction has nothing to keep; whatever failed, leave none open.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    }
  };

  #forgetFresh(): void {
    this.#fresh.clear();
    this.#freshBytes = 0;
    this.#unclaimed = null;
  }

  storeBlob(raw: Uint8Array, owned = false): BlobRef {
    let id: number;
    if (this.#mail) {
      // The bytes before the row: a committed row never names bytes not written. A reset
      // earlier in the same transaction empties the file no more: these bytes must stay.
      this.#emptyMailFile = false;
      const span = { offset: this.#mail.append(raw), length: raw.length };
      id = Number(
        this.#sql(FIRST_DELIVERY.fileBlob)
          .run(span.offset, span.length).lastInsertRowid,
      );
      this.#spans.set(id, span);
    } else {
      id = Number(
        this.#sql(FIRST_DELIVERY.rowBlob).run(raw).lastInsertRowid,
      );
    }
    this.#unclaimed = id;
    // Only bytes handed over: others may be changed by the caller once this returns.
    if (owned && this.#freshBytes + raw.length <= FRESH_BLOB_BYTES) {
      this.#fresh.set(id, raw);
      this.#freshBytes += raw.length;
    }
    return id;
  }

  readBlob(blob: BlobRef): Uint8Array {
    const id = blob as number;
    const fresh = this.#fresh.get(id);
    if (fresh) return fresh;
    const found = this.#spans.get(id) ?? this.#blobRow(id);
    let data: Uint8Array;
    if (found instanceof Uint8Array) data = found;
    else if (this.#mail) data = this.#mail.read(found.offset, found.length);
    else throw new Error(`Cannot read message bytes: blob ${id} is in a mail file not open`);
    this.#lent.add(data.buffer as ArrayBuffer);
    return data;
  }

  /** Blob `id`'s row: its bytes, or where they are in the mail file (then cached). */
  #blobRow(id: number): Uint8Array | { offset: number; length: number } {
    if (!this.#reading && this.#depth === 0 && !this.#shared) this.#beginRead();
    const row = this.#sql("SELECT data, file_offset, file_length FROM blobs WHERE id = ?").get(id);
    if (!row) throw new Error(`Cannot read message bytes: blob ${id} is missing`);
    if (row.file_offset === null) return row.data as Uint8Array;
    const span = { offset: Number(row.file_offset), length: Number(row.file_length) };
    this.#spans.set(id, span);
    return span;
  }

  releaseBlob(bytes: Uint8Array): void {
    // Only bytes made by a read, each in an ArrayBuffer of its own (node:sqlite): given back
    // now, not at the next collection, so the next read reuses their pages.
    if (this.#lent.delete(bytes.buffer as ArrayBuffer)) (bytes.buffer as ArrayBuffer).transfer(0);
  }

  insertMessage(mailboxId: number, message: NewMessage): number {
    // Never an id a flag log entry names (see the module documentation). One given in a
    // transaction that rolls back is skipped, not given again.
    const id = this.#nextMessageId++;
    // The blob just stored gets its first reference; any other (a copy's) one more.
    const blob = message.blob as number;
    if (blob === this.#unclaimed) this.#unclaimed = null;
    else {
      const refs = this.#refCounts();
      refs.set(blob, (refs.get(blob) ?? 1) + 1);
    }
    this.#sql(FIRST_DELIVERY.insertMessage).run(
      id,
      mailboxId,
      message.uid,
      message.internalDate,
      message.size,
      JSON.stringify(message.flags),
      JSON.stringify(message.summary),
      blob,
      message.envelope?.from ?? null,
      message.envelope?.to ?? null,
      message.envelope?.helo ?? null,
      message.modseq,
      message.saveDate,
      message.emailId,
    );
    return id;
  }

  updateFlags(firstId: number, count: number, flags: readonly string[], modseq: number): void {
    if (this.#depth > 0 || this.#shared) {
      // A run that goes on from the last one, with its list and MODSEQ, extends it.
      const last = this.#runFirst.length - 1;
      this.#flagChanged += count;
      if (
        last >= 0 && this.#runFirst[last] + this.#runCount[last] === firstId &&
        this.#runModseq[last] === modseq && this.#runList[last] === flags
      ) {
        this.#runCount[last] += count;
        return;
      }
      this.#runFirst.push(firstId);
      this.#runCount.push(count);
      this.#runModseq.push(modseq);
      this.#runList.push(flags);
      return;
    }
    this.#sql("UPDATE messages SET flags = ?, modseq = ? WHERE id BETWEEN ? AND ?").run(
      JSON.stringify(flags),
      modseq,
      firstId,
      firstId + count - 1,
    );
  }

  updateMessageUid(
    messageId: number,
    uid: number,
    modseq: number,
    flags: readonly string[],
  ): void {
    // The flags too: the row's MODSEQ rises above a log entry's, whose flags it must then hold
    // (and above a change of this transaction not written yet, which then leaves the row be).
    this.#sql("UPDATE messages SET uid = ?, modseq = ?, flags = ? WHERE id = ?").run(
      uid,
      modseq,
      JSON.stringify(flags),
      messageId,
    );
  }

  deleteMessages(messageIds: readonly number[]): void {
    const refs = this.#refCounts();
    const remove = this.#sql("DELETE FROM messages WHERE id = ? RETURNING blob_id");
    const blobIds: number[] = [];
    for (const id of messageIds) {
      const row = remove.get(id);
      if (row) blobIds.push(Number(row.blob_id));
    }
    this.#releaseBlobs(blobIds, refs);
  }

  setSubscription(user: string, name: string, subscribed: boolean): void {
    if (subscribed) {
      this.#sql(FIRST_DELIVERY.subscribe).run(user, name);
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
    this.#forgetFlagChanges();
    this.#spans.clear();
    this.#multiRefs = new Map();
    this.#emptyMailFile = this.#mail !== null;
    this.#db.exec(
      "DELETE FROM flag_changes; DELETE FROM urlauth_keys; DELETE FROM metadata; DELETE FROM vanished; DELETE FROM messages; DELETE FROM blobs; DELETE FROM mailboxes; DELETE FROM subscriptions; DELETE FROM uid_high_water; DELETE FROM users;",
    );
  }

  close(): void {
    // The worker's connection closes first, so that the main one is the last and SQLite's
    // final checkpoint on close empties and removes the WAL.
    this.#checkpoints.close();
    this.#flagLogTimer?.cancel();
    this.#flagLogTimer = undefined;
    this.#endRead();
    this.#forgetFresh();
    this.#statements.clear();
    this.#db.close();
    this.#mail?.close();
    // Unlocked before the close: a reopen in the same process right after must find the lock
    // free even while the runtime still holds the closed file's resource (seen under load).
    this.#lock?.unlockSync();
    this.#lock?.close();
  }
}

/**
 * Puts loaded message rows in the order the store takes them, by mailbox and then UID. They come
 * in the order of their row ids, which is already that within a mailbox (the store gives UIDs
 * and row ids both ascending, and renumbers a mailbox's messages in their order), so a database
 * of one mailbox needs no sort.
 */
function sortByMailboxAndUid(messages: PersistedMessage[]): void {
  for (let i = 1; i < messages.length; i++) {
    const before = messages[i - 1];
    const next = messages[i];
    if (
      before.mailboxId > next.mailboxId ||
      (before.mailboxId === next.mailboxId && before.uid >= next.uid)
    ) {
      messages.sort((a, b) => a.mailboxId - b.mailboxId || a.uid - b.uid);
      return;
    }
  }
}

/** The bytes of `numbers` as little-endian float64s, a `flag_changes` row's `entries`. */
function littleEndian(numbers: Float64Array): Uint8Array {
  const bytes = new Uint8Array(numbers.length * 8);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < numbers.length; k++) view.setFloat64(k * 8, numbers[k], true);
  return bytes;
}

/** Calls `fn` with each run of a `flag_changes` row's `entries` (see `FLAG_RUN_BYTES`). */
function forEachFlagRun(
  bytes: Uint8Array,
  fn: (first: number, count: number, modseq: number, index: number) => void,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + FLAG_RUN_BYTES <= bytes.byteLength; at += FLAG_RUN_BYTES) {
    const first = view.getFloat64(at, true);
    const count = view.getFloat64(at + 8, true);
    // A damaged run (no range of message row ids) is passed over, not walked.
    const range = Number.isInteger(first) && Number.isInteger(count) && first >= 1 && count >= 1;
    if (!range || !Number.isSafeInteger(first + count)) continue;
    fn(
      first,
      count,
      view.getFloat64(at + 16, true),
      view.getFloat64(at + 24, true),
    );
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
