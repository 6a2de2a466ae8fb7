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
 * On Linux the worker puts its own thread under SCHED_IDLE (through glibc, `Deno.dlopen`,
 * allowed by the server's `--allow-ffi`; where it cannot, at nice 19 through `node:os`
 * `setPriority`, allowed by `--allow-sys=setPriority`): after a burst of 5,000 IMAP APPENDs it
 * still copies the burst's WAL while the first commands come, and on a 2-core host it took a core
 * from them (issue 13, round 22, `bench/cold_compare.ts --store sqlite --runs 1`, alternating, at
 * nice 19: SELECT 0.45-0.52 ms against 0.81-1.00 and `FETCH 1:* (UID FLAGS)` 1.52-1.77 against
 * 2.45-4.18 with the Deno client, three pairs; with Python SELECT 0.32-0.50 in 12 runs of 14
 * against 0.43-0.95 in ten). Its copying waits for idle cores instead; the event loop never
 * waits on it. `node:os` costs the SQLite server's idle RSS ~2 MB (60.9-61.8 MB against
 * 58.9-59.1, `bench/idle_rss.ts --store sqlite`, three alternating runs), and so did FFI with
 * synchronous calls (59.9-60.2 against 59.9-60.2 with `node:os`); with nonblocking ones
 * (below) 58.1-59.2 against 60.3-60.9 (three alternating runs, round 30).
 *
 * When the process asks for it (lib/store/thread_priority.ts: the program does, an embedder's process
 * keeps its threads unless it does too), it puts V8's worker threads under SCHED_IDLE as well
 * (the process's "V8 DefaultWorker" threads, found by name in /proc/self/task: Maglev's compile
 * jobs and concurrent marking), which the main isolate cannot without FFI of its own (0.6-1.4 MB
 * of the idle memory store, which the 45 MB goal has no room for). A fresh SQLite
 * server's first SMTP round compiles ~140 functions with Maglev in its first ~130 ms, and on two
 * cores those jobs took the core the SMTP client needed when a reply woke it: a thread at nice 19
 * still keeps a core for its slice under Linux's EEVDF scheduler, one under SCHED_IDLE yields it
 * to any thread that wakes. Issue 13, round 30, eight alternating pairs of
 * `bench/smtp_source.ts --client latency --warm-up 0 --rounds 1 --store sqlite`: p99 1.45-2.58
 * ms, under 2 in 6, against 1.87-2.25, under 2 in 3 (V8's threads at nice 0: round 29 reniced
 * them from /proc, which Deno lets only `--allow-all` read, so `deno task start` never had it),
 * p90 0.84-0.94 against 0.95-1.01, 6,013-6,485 msgs/s against 5,741-6,083; the first-touch rows
 * level (three pairs of `bench/cold_compare.ts --runs 1 --no-dovecot --store sqlite`). The
 * directory is read and the threads set through glibc too: Deno's own file API asks for
 * `--allow-all` for anything under /proc.
 *
 * @module
 */

import { processThreads } from "./thread_priority.ts";

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
/**
 * Linux: this thread, and V8's worker threads if \`idleV8\` ("V8 DefaultWorker": Maglev's compile
 * jobs, concurrent marking), under SCHED_IDLE, through glibc (--allow-ffi: reading /proc through
 * Deno needs --allow-all). Otherwise, or if this thread could not be set, this thread alone at
 * nice 19 (node:os, --allow-sys=setPriority), loaded only then. No prompt either way.
 */
const lowerPriority = async (idleV8) => {
  if (Deno.build.os !== "linux") return;
  let own = false;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
      own = await idleThreads(idleV8);
    }
  } catch {
    // Not glibc, or no such symbol: the fallback.
  }
  if (!own) (await import("node:os")).setPriority(19);
};
const SCHED_IDLE = 5;
/** d_name's offset in glibc's struct dirent on 64-bit Linux. */
const D_NAME = 19;
/**
 * Puts V8's worker threads and this one under SCHED_IDLE; resolves whether this one is. It is
 * found by name too (Deno names a web worker's thread "worker-N"; the server has no other):
 * the calls are nonblocking, each made on a thread of Deno's blocking pool, since a synchronous
 * foreign call has Deno generate machine code for it, whose generator cost ~2 MB of resident
 * code (issue 13, round 30).
 */
const idleThreads = async (idleV8) => {
  const call = (parameters, result) => ({ parameters, result, nonblocking: true });
  const libc = Deno.dlopen("libc.so.6", {
    sched_setscheduler: call(["i32", "i32", "buffer"], "i32"),
    opendir: call(["buffer"], "pointer"),
    readdir: call(["pointer"], "pointer"),
    closedir: call(["pointer"], "i32"),
    open: call(["buffer", "i32"], "i32"),
    read: call(["i32", "buffer", "usize"], "isize"),
    close: call(["i32"], "i32"),
  });
  try {
    const c = libc.symbols;
    const path = (text) => new TextEncoder().encode(text + "\\0");
    const param = new Uint8Array(4);
    const name = new Uint8Array(16);
    const tasks = "/proc/self/task";
    let own = false;
    const dir = await c.opendir(path(tasks));
    if (dir === null) return false;
    try {
      for (let entry = await c.readdir(dir); entry !== null; entry = await c.readdir(dir)) {
        const tid = new Deno.UnsafePointerView(entry).getCString(D_NAME);
        if (!/^[0-9]+$/.test(tid)) continue;
        const fd = await c.open(path(tasks + "/" + tid + "/comm"), 0);
        if (fd < 0) continue;
        const length = Number(await c.read(fd, name, BigInt(name.length)));
        await c.close(fd);
        const comm = new TextDecoder().decode(name.subarray(0, Math.max(length, 0))).trimEnd();
        const mine = /^worker-[0-9]+$/.test(comm);
        if (!mine && !(idleV8 && comm === "V8 DefaultWorke")) continue;
        const done = await c.sched_setscheduler(Number(tid), SCHED_IDLE, param) === 0;
        if (mine && done) own = true;
      }
    } finally {
      await c.closedir(dir);
    }
    return own;
  } finally {
    libc.close();
  }
};
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
    lowerPriority(setup.idleV8).catch(() => {});
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
    idleV8: processThreads.idleV8,
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
