/**
 * The SQLite store's checkpoint worker: a second `node:sqlite` connection to the same database
 * file, on a thread of its own, that runs `PRAGMA wal_checkpoint(PASSIVE)` when asked, so that
 * copying the WAL into the database file (and the syncs) never holds the event loop, and then
 * syncs the database file (`fdatasync`), which SQLite leaves to the checkpoint that copies the
 * whole WAL (the main thread's tail under steady writes). See `sqlite_checkpoint.ts` for when
 * it is asked.
 *
 * The worker's code is a string, run as a module worker from a Blob URL: no module file of its
 * own to find, so it runs alike from `main.ts`, the code-split bundle (tests/dist/bundle_test.ts)
 * and a `deno compile` binary (not run here: no denort at hand; should it fail there,
 * checkpoints fall back to the main thread). A web `Worker` rather than `node:worker_threads`:
 * measured alone here, its RSS is ~16-19 MB against ~26-29 MB, and `new Worker` holds the main
 * thread ~12-14 ms against ~43-51 ms (Deno's Node layer is not loaded into it). It cannot be
 * unref'd, so it keeps a process alive until terminated: {@linkcode CheckpointWorker.close}
 * (the store's `close`) terminates it, and the server's process exits through `Deno.exit`.
 * It exists only with the SQLite store: from the store's opening in the server (lib/server.ts,
 * before its listeners take connections), otherwise once the first checkpoint is needed.
 *
 * The worker runs at the process's normal priority, as do V8's own worker threads. Issue 13 had
 * lowered them (the worker's thread to nice 19 from round 22, so that its copying of an APPEND
 * burst's WAL left the first commands a core; in rounds 29 and 30 it and V8's worker threads under
 * Linux's SCHED_IDLE, through glibc): on a 2-core host a fresh server's first SMTP round then had
 * its client wait less often behind a Maglev compile job or a checkpoint copy (p99 1.71-1.92 ms
 * against 2.13-2.81 without, five alternating triples, round 31; the first-touch rows with SQLite
 * level without, three pairs of `bench/cold_compare.ts --store sqlite`). But the main thread waits
 * for those threads at times: for the worker while it holds SQLite's write lock to start the WAL
 * over (two syncs), for V8's threads in a collection's parallel phases and at its safepoints; and
 * when other processes keep every core busy (a CI runner's parallel test processes, a browser), a
 * thread of the lowest priority waits for a core behind all of them. `bench/contention_stalls.ts`
 * (two busy processes on the 2-core host, a write after each of 60 bursts and pauses) measured
 * single commands held up 234-1,586 ms with both lowered, up to 1,314 with V8's threads alone, 331
 * with the worker's alone, 35-56 ms in most runs with the worker at nice 19; at normal priority
 * 5.6-10.6 ms (issue 13, round 31). So no thread is lowered, and the server needs neither
 * `--allow-ffi` nor `--allow-sys`.
 *
 * @module
 */

/** What one checkpoint did: SQLite's `wal_checkpoint` row. */
export interface CheckpointResult {
  /** 1 if a reader or writer kept the checkpoint from finishing. */
  busy: number;
  /** Frames in the WAL when the checkpoint began. */
  log: number;
  /** Frames of those copied into the database file. */
  checkpointed: number;
  /** Whether the worker synced the database file after it (absent: it did not). */
  synced?: boolean;
}

/** What the worker answers a request with. */
type WorkerReply = CheckpointResult | { restarted: boolean };

/** A connection on another thread that checkpoints the database's WAL. */
export interface CheckpointWorker {
  /**
   * Starts the WAL over if its every frame is copied, so that the main connection's next write
   * does not: one write transaction that sets the database header's user version to the value
   * it has (one page, one frame), whose first frame makes SQLite write the WAL's header again
   * and sync it (and cut the file to its size limit), here instead of on the event loop.
   * Resolves `false`, having written nothing, if the main connection holds the write lock then
   * (the worker does not wait for it); rejects if the write failed or the worker died. One
   * request at a time, checkpoints included.
   */
  restart(): Promise<boolean>;
  /**
   * Runs one PASSIVE checkpoint; rejects if it failed or the worker died. One at a time: the
   * caller waits for the previous one before asking again.
   */
  checkpoint(): Promise<CheckpointResult>;
  /**
   * Closes the worker's connection and ends the worker, waiting (blocking) at most
   * {@linkcode CLOSE_WAIT_MS} for a checkpoint in flight to finish; a wedged worker is
   * terminated all the same.
   */
  close(): void;
  /** How many times the worker has synced the mail file (absent: a worker that never does). */
  readonly mailSyncs?: number;
}

/**
 * Starts a {@linkcode CheckpointWorker} for the database at `path`, whose mail file (if it has
 * one, mail_file.ts) is at `mailPath`; throws if it cannot.
 */
export type CheckpointWorkerFactory = (path: string, mailPath?: string) => CheckpointWorker;

/** How long `close` waits for the worker to finish its checkpoint and close its connection. */
export const CLOSE_WAIT_MS = 1_000;

/**
 * How long after the WAL's start-over the worker syncs the mail file (mail_file.ts), unless a
 * request came meanwhile (writes went on).
 */
export const MAIL_SYNC_DELAY_MS = 1_000;

/**
 * The worker: its first message is its setup (the database's and the mail file's paths, the
 * checkpoint statement, the shared `done` cell); each after is a checkpoint request
 * (`"checkpoint"`), a start-over (`"restart"`) or `"close"`, answered (a result,
 * `{ restarted }` or `{ error }`) and counted in `done`, which `close` waits on with
 * `Atomics.wait` (the event loop is not turning then). The
 * connection keeps SQLite's default busy timeout, none: a start-over that meets the main
 * connection's write lock gives up at once (SQLITE_BUSY) rather than hold up a delivery.
 */
const WORKER_CODE = `
import { DatabaseSync } from "node:sqlite";
let setup;
let db;
let statement;
/** The database file, for its syncs: undefined until the first, null once one failed. */
let databaseFile;
/** The WAL frames copied (SQLite's count) when the database file was last synced here. */
let synced = 0;
/** The mail file, for its syncs: undefined until the first, null once one failed. */
let mailFile;
/** The mail file's sync, due MAIL_SYNC_DELAY_MS after a start-over unless writes go on. */
let mailSyncTimer;
/** The start-over's statements, prepared at the first one. */
let restart;
/**
 * Whether a statement failed with SQLITE_BUSY (primary code 5): Node's errors carry the code,
 * Deno's (2.9) only SQLite's message for it.
 */
const isBusy = (error) =>
  typeof error?.errcode === "number"
    ? (error.errcode & 0xff) === 5
    : String(error?.message).includes("database is locked");
/**
 * Writes the mail file's bytes back to the disk, best effort, once writes have paused: a
 * second after the start-over, unless a checkpoint came meanwhile. Not in each checkpoint round
 * of a burst, where syncing the file beside the main thread's appends slowed them (issue 13,
 * round 25: 5,000 APPENDs 2,963-4,552 msgs/s against 4,040-4,467 without the syncs, and the
 * reads after them slower), nor at the start-over, where the write-back of a whole burst
 * (~100 MB) ran beside the first commands after it.
 */
const syncMailFile = () => {
  mailSyncTimer = undefined;
  if (!setup.mailPath || mailFile === null) return;
  try {
    mailFile ??= Deno.openSync(setup.mailPath, { read: true, write: true });
    mailFile.syncDataSync();
    self.postMessage({ mailSynced: true });
  } catch {
    mailFile?.close();
    mailFile = null;
  }
};
self.onmessage = ({ data: message }) => {
  if (setup === undefined) {
    setup = { ...message, done: new Int32Array(message.done) };
    return;
  }
  let reply = null;
  try {
    clearTimeout(mailSyncTimer);
    mailSyncTimer = undefined;
    if (message === "close") {
      db?.close();
      db = undefined;
      databaseFile?.close();
      databaseFile = undefined;
      mailFile?.close();
      mailFile = undefined;
    } else if (message === "restart") {
      db ??= new DatabaseSync(setup.path);
      restart ??= {
        begin: db.prepare("BEGIN IMMEDIATE"),
        version: db.prepare("PRAGMA user_version"),
        commit: db.prepare("COMMIT"),
      };
      let began = false;
      try {
        restart.begin.run();
        began = true;
      } catch (error) {
        if (!isBusy(error)) throw error;
      }
      if (began) {
        try {
          const version = Number(restart.version.get().user_version);
          db.exec("PRAGMA user_version = " + version);
          restart.commit.run();
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      }
      reply = { restarted: began };
    } else {
      db ??= new DatabaseSync(setup.path);
      statement ??= db.prepare(setup.statement);
      const row = statement.get();
      // SQLite syncs the database file only in the checkpoint that copies the whole WAL, the
      // main thread's tail under steady writes: it found every page copied since the last
      // start-over still to be written back. Written back here, as they are copied.
      // Best effort: where it cannot (no sync on this handle), SQLite's own sync stays the only
      // one, as before, and the checkpoints go on here. Opened for writing too: Windows flushes
      // only a handle with write access.
      let didSync = false;
      if (row.checkpointed !== synced && databaseFile !== null) {
        try {
          databaseFile ??= Deno.openSync(setup.path, { read: true, write: true });
          databaseFile.syncDataSync();
          synced = row.checkpointed;
          didSync = true;
        } catch {
          databaseFile?.close();
          databaseFile = null;
        }
      }
      reply = { busy: row.busy, log: row.log, checkpointed: row.checkpointed, synced: didSync };
    }
  } catch (error) {
    reply = { error: String(error?.message ?? error) };
  }
  Atomics.add(setup.done, 0, 1);
  Atomics.notify(setup.done, 0);
  self.postMessage(reply);
  if (message === "restart" && setup.mailPath) {
    mailSyncTimer = setTimeout(syncMailFile, ${MAIL_SYNC_DELAY_MS});
  }
};
`;

/**
 * Starts the checkpoint worker for the database file at `path`. `statement` is the checkpoint
 * statement (tests pass a slow one to wedge the worker).
 */
export function startCheckpointWorker(
  path: string,
  mailPath?: string,
  statement = "PRAGMA wal_checkpoint(PASSIVE)",
): CheckpointWorker {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const url = URL.createObjectURL(new Blob([WORKER_CODE], { type: "text/javascript" }));
  let worker: Worker;
  try {
    worker = new Worker(url, { type: "module" });
  } catch (error) {
    URL.revokeObjectURL(url);
    throw error;
  }
  worker.postMessage({
    path,
    mailPath,
    statement,
    done: done.buffer,
  });
  let sent = 0;
  /** The request in flight: a checkpoint's row or a start-over's `{ restarted }`. */
  let pending: { resolve(reply: WorkerReply): void; reject(error: Error): void } | null = null;
  let closed = false;
  /** False once the worker died: nothing to wait for then. */
  let alive = true;
  const fail = (error: Error) => {
    const waiting = pending;
    pending = null;
    waiting?.reject(error);
  };
  let mailSyncs = 0;
  worker.onmessage = (
    { data: reply }: MessageEvent<WorkerReply | { error: string } | { mailSynced: true } | null>,
  ) => {
    // Not an answer: the worker tells it on its own.
    if (reply !== null && "mailSynced" in reply) return void mailSyncs++;
    const waiting = pending;
    pending = null;
    if (!waiting || reply === null) return;
    if ("error" in reply) waiting.reject(new Error(`Cannot checkpoint: ${reply.error}`));
    else waiting.resolve(reply);
  };
  // An error the worker did not catch (it failed to load, say) ends it; handled here, it does
  // not reach the process.
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    alive = false;
    worker.terminate();
    URL.revokeObjectURL(url);
    fail(new Error(`Cannot checkpoint: the worker failed: ${event.message}`));
  };
  const ask = (request: "checkpoint" | "restart"): Promise<WorkerReply> => {
    if (closed) return Promise.reject(new Error("Cannot checkpoint: the worker is closed"));
    if (pending) return Promise.reject(new Error("Cannot checkpoint: one is in flight"));
    return new Promise((resolve, reject) => {
      pending = { resolve, reject };
      sent++;
      worker.postMessage(request);
    });
  };
  return {
    get mailSyncs() {
      return mailSyncs;
    },
    checkpoint: () => ask("checkpoint") as Promise<CheckpointResult>,
    restart: () => ask("restart").then((reply) => (reply as { restarted: boolean }).restarted),
    close() {
      if (closed) return;
      closed = true;
      if (alive) {
        worker.postMessage("close");
        sent++;
        const deadline = performance.now() + CLOSE_WAIT_MS;
        for (let seen = Atomics.load(done, 0); seen < sent; seen = Atomics.load(done, 0)) {
          const left = deadline - performance.now();
          if (left <= 0) break;
          Atomics.wait(done, 0, seen, left);
        }
      }
      fail(new Error("Cannot checkpoint: the worker is closed"));
      worker.terminate();
      // Not before: the worker loads its module from the URL after `new Worker` returns.
      URL.revokeObjectURL(url);
    },
  };
}
