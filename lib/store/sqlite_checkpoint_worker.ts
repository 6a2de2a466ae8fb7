/**
 * The SQLite store's checkpoint worker: a second `node:sqlite` connection to the same database
 * file, on a thread of its own, that runs `PRAGMA wal_checkpoint(PASSIVE)` when asked, so that
 * copying the WAL into the database file (and the two syncs) never holds the event loop. See
 * `sqlite_checkpoint.ts` for when it is asked.
 *
 * The worker's code is a string evaluated by `node:worker_threads` (`eval: true`): no module
 * file of its own to find, so it runs alike from `main.ts`, the code-split bundle
 * (tests/dist/bundle_test.ts) and a `deno compile` binary (not run here: no denort at hand;
 * should it fail there, checkpoints fall back to the main thread). A `node:worker_threads`
 * worker rather than a Blob-URL web `Worker` because only the former can be unref'd
 * (`unref()`): an idle worker must not keep the process alive, and a web `Worker` does until
 * terminated. What that costs: its RSS, ~26–29 MB measured alone (an isolate with Deno's Node
 * layer and the second connection; a web `Worker` ~15–18 MB), 17–31 MB more in the SMTP
 * benchmark's rounds, and 25–42 ms of the main thread to start it (`new Worker` waits for the
 * isolate; a web `Worker` ~10 ms), once per process, only with the SQLite store and only once
 * the first checkpoint is needed.
 *
 * @module
 */

import { Worker } from "node:worker_threads";

/** What one checkpoint did: SQLite's `wal_checkpoint` row. */
export interface CheckpointResult {
  /** 1 if a reader or writer kept the checkpoint from finishing. */
  busy: number;
  /** Frames in the WAL when the checkpoint began. */
  log: number;
  /** Frames of those copied into the database file. */
  checkpointed: number;
}

/** A connection on another thread that checkpoints the database's WAL. */
export interface CheckpointWorker {
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
}

/** Starts a {@linkcode CheckpointWorker} for the database at `path`; throws if it cannot. */
export type CheckpointWorkerFactory = (path: string) => CheckpointWorker;

/** How long `close` waits for the worker to finish its checkpoint and close its connection. */
export const CLOSE_WAIT_MS = 1_000;

/**
 * The worker: each message is a checkpoint request (`"checkpoint"`) or `"close"`; each is
 * answered (a result or `{ error }`) and counted in the shared `done` cell, which `close`
 * waits on with `Atomics.wait` (the event loop is not turning then).
 */
const WORKER_CODE = `
const { DatabaseSync } = require("node:sqlite");
const { parentPort, workerData } = require("node:worker_threads");
const done = new Int32Array(workerData.done);
let db;
let statement;
parentPort.on("message", (message) => {
  let reply = null;
  try {
    if (message === "close") {
      db?.close();
      db = undefined;
    } else {
      db ??= new DatabaseSync(workerData.path);
      statement ??= db.prepare(workerData.statement);
      const row = statement.get();
      reply = { busy: row.busy, log: row.log, checkpointed: row.checkpointed };
    }
  } catch (error) {
    reply = { error: String(error?.message ?? error) };
  }
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
  parentPort.postMessage(reply);
});
`;

/**
 * Starts the checkpoint worker for the database file at `path`. `statement` is the checkpoint
 * statement (tests pass a slow one to wedge the worker).
 */
export function startCheckpointWorker(
  path: string,
  statement = "PRAGMA wal_checkpoint(PASSIVE)",
): CheckpointWorker {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_CODE, {
    eval: true,
    workerData: { path, statement, done: done.buffer },
  });
  worker.unref();
  let sent = 0;
  let pending: { resolve(result: CheckpointResult): void; reject(error: Error): void } | null =
    null;
  let closed = false;
  /** False once the worker died: nothing to wait for then. */
  let alive = true;
  const fail = (error: Error) => {
    const waiting = pending;
    pending = null;
    waiting?.reject(error);
  };
  worker.on("message", (reply: CheckpointResult | { error: string } | null) => {
    const waiting = pending;
    pending = null;
    if (!waiting || reply === null) return;
    if ("error" in reply) waiting.reject(new Error(`Cannot checkpoint: ${reply.error}`));
    else waiting.resolve(reply);
  });
  worker.on("error", (error: Error) => {
    alive = false;
    fail(error);
  });
  worker.on("exit", () => {
    alive = false;
    fail(new Error("Cannot checkpoint: the worker exited"));
  });
  return {
    checkpoint() {
      if (closed) return Promise.reject(new Error("Cannot checkpoint: the worker is closed"));
      if (pending) return Promise.reject(new Error("Cannot checkpoint: one is in flight"));
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        sent++;
        worker.postMessage("checkpoint");
      });
    },
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
    },
  };
}
