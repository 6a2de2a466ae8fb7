/**
 * WAL checkpoints for the SQLite store, off the event loop.
 *
 * A checkpoint copies the WAL's pages into the database file and syncs both files. SQLite's
 * automatic one runs inside the COMMIT that takes the WAL past its threshold, and the
 * delivery riding that commit waits for all of it: at the former 40,000-page threshold one
 * transaction every ~6,200 SMTP messages took 200-250 ms, and the checkpoint once writes
 * paused held the loop for tens of ms more (~80 ms for 15,000 frames), which whatever command
 * arrived just then waited for.
 *
 * Here the checkpoints run in a worker ({@linkcode CheckpointWorker}: a second connection to
 * the same file on a thread of its own), one at a time, never queued up:
 *
 * - every {@linkcode COMMITS_PER_CHECKPOINT} commits (the main side counts them: an SMTP
 *   message is one commit of ~6 WAL pages), and once writes have paused for
 *   {@linkcode IDLE_MS};
 * - a PASSIVE checkpoint copies the frames committed before it began, while the main thread
 *   goes on committing. The WAL starts over (and is cut to {@linkcode WAL_SIZE_LIMIT}) only
 *   at a write that finds every frame copied. A round that finishes with commits made
 *   meanwhile leaves them to the next round while the WAL is under
 *   {@linkcode RESTART_FRAMES}; past it, at most {@linkcode TAIL_COMMITS} of them, the main
 *   thread copies that tail itself; more, and another worker round follows at once, each
 *   shorter than the one before;
 * - SQLite syncs the database file only in a checkpoint that copies the whole WAL: under steady
 *   writes that is the main thread's tail, whose sync then wrote back every page the worker had
 *   copied since the last start-over (3-8 ms asleep in the kernel on the main thread, issue 13
 *   round 15). So the worker syncs the database file itself after each round that copied
 *   frames, and the tail's sync has only the tail's pages left (~0.3 ms);
 * - the main connection's automatic checkpoint stays, at {@linkcode AUTO_CHECKPOINT_PAGES}, as
 *   a far bound the worker keeps the WAL well below (it fires only if the worker lags or is
 *   wedged);
 * - once writes have paused ({@linkcode IDLE_MS}) and a checkpoint has copied the whole WAL,
 *   the worker also starts the WAL over (`CheckpointWorker.restart`: one write of one page),
 *   so that the next write on the main thread, which would have, does not sync the WAL's new
 *   header. After a burst of 5,000 IMAP APPENDs that sync (~0.7 ms here) was the first
 *   STORE's (issue 13, rounds 22 and 24). The main connection waits for the worker's write
 *   lock ({@linkcode MAIN_BUSY_TIMEOUT_MS}) if it wants to write meanwhile; under steady writes
 *   there is no pause, and the start-over stays with the main thread's first write after the
 *   tail.
 *
 * The worker starts with the first checkpoint needed, or when the store opens if it is told to
 * (the server does: {@linkcode Checkpoints.start}), and is ended by
 * {@linkcode Checkpoints.close} (until then it keeps the process alive): its connection closes first
 * (a bounded wait), so the main connection's close is the last one, and SQLite's own final
 * checkpoint then empties and removes the WAL. If the worker cannot start or a checkpoint of
 * its fails, checkpoints run on the main thread as before (once writes pause, and the
 * automatic one), after one warning. An in-memory database has no WAL and no worker. How the
 * worker runs from `main.ts`, the bundle and a compiled binary, and what it costs (RSS, the
 * main thread's wait while it starts): `sqlite_checkpoint_worker.ts`. Not handled: a worker
 * wedged in a checkpoint while the server runs keeps its round in flight (no further rounds;
 * the automatic checkpoint is then the only bound, and it cannot copy anything while the stuck
 * checkpoint holds SQLite's checkpoint lock: the WAL grows until the worker comes back).
 *
 * None of this changes durability: a commit is in the WAL file when COMMIT returns (and the
 * SMTP reply follows the commit), whenever it is copied into the database file.
 *
 * @module
 */

import type { CheckpointResult, CheckpointWorker } from "./sqlite_checkpoint_worker.ts";

/**
 * WAL pages (4 KiB) at which a commit on the main connection checkpoints at once (160 MiB of
 * WAL): only a bound now, for when the worker lags or is unavailable and writes never pause.
 */
export const AUTO_CHECKPOINT_PAGES = 40_000;

/**
 * Bytes the WAL file is cut back to when it starts over after a checkpoint
 * (`journal_size_limit`; SQLite truncates it at the first write after the checkpoint). Until
 * round 22 of issue 13, 32 MiB: a burst of 5,000 IMAP APPENDs (108 MB) left a 54 MB WAL, and
 * the first write after it (a STORE) truncated it on the main thread, 13 ms of `ftruncate`
 * here. A WAL larger than this, which only such a burst leaves, is cut; one under it keeps its
 * size until the store closes (SQLite then removes it).
 */
export const WAL_SIZE_LIMIT = 256 * 1024 * 1024;

/**
 * Commits after which the worker checkpoints even though writes go on: ~600 WAL pages (~2.3 MiB)
 * for SMTP messages. The copy is CPU on a core that, on a 2-core host, the SMTP client or the main
 * thread wanted, and a woken client could wait for the copy to end: at 300 commits (~1.5-2 ms of
 * copying) the four transactions in flight waited that long (issue 13 round 10), at 100 (~0.6 ms)
 * still a round's slowest 1-2% (round 11), so it was 30 (~0.2 ms) from round 11 to round 29, for
 * more rounds' syncs in the worker. Round 30 made it 100 with the worker under SCHED_IDLE, where
 * fewer rounds copied each page the deliveries keep rewriting (the mailbox's, the message table's
 * last) fewer times: a fresh server's first SMTP round (`bench/smtp_source.ts --client latency
 * --warm-up 0 --rounds 1 --store sqlite`, eleven alternating runs each) p99 1.39-2.26 ms (median
 * 1.58) against 1.48-2.29 (1.87). With the worker back at the normal priority (round 31,
 * sqlite_checkpoint_worker.ts says why) 100 stays: p99 2.63-3.48 ms against 3.02-4.25 at 30 (five
 * alternating pairs in a noisy spell).
 */
export const COMMITS_PER_CHECKPOINT = 100;

/**
 * Commits made during a worker round that the main thread checkpoints itself so that the
 * WAL can start over (~50 frames, but three syncs: the WAL's, the database file's, and the
 * WAL header's at the next commit, ~0.8-1 ms asleep in the kernel in all now that the worker
 * keeps the database file synced); more, and the worker goes again.
 */
export const TAIL_COMMITS = 8;

/**
 * WAL frames below which a worker round that finishes with commits made meanwhile leaves them
 * to the next round instead of starting the WAL over (~27 MiB, ~1,200 SMTP messages: under
 * {@linkcode WAL_SIZE_LIMIT}, so a WAL starting over is never cut, which on a discard-mounted
 * file system costs a discard). Starting over needs every frame copied, so under steady writes
 * a copy on the main thread (the tail): its syncs held the main thread 3-4 ms in the kernel
 * (state D) while the four SMTP transactions in flight waited (issue 13 round 10), ~0.8-1 ms
 * since the worker syncs the database file (round 15). At 16,000 (and a 80 MiB size limit) a
 * fresh server's first 2,000 messages had no start-over, but each one, before that change,
 * held the main thread 8-10 ms (more pages left for the tail's sync): not kept.
 */
export const RESTART_FRAMES = 7_000;

/** Writes must have paused this long before an idle checkpoint runs. */
export const IDLE_MS = 100;

/**
 * How long the main connection waits for the write lock (SQLite's busy timeout) before a write
 * fails with "database is locked". Only the worker's start-over takes the lock besides it, for
 * the few writes of one page and the sync of the WAL's header (~1 ms here; longer on a slow
 * disk, which the main thread's own sync would have taken as long). SQLite waits by sleeping
 * on the event loop's thread, 1 ms first, then 2, 5, 10 ...
 */
export const MAIN_BUSY_TIMEOUT_MS = 5_000;

/** A pending timer of a {@linkcode StartTimer}. */
export interface IdleTimer {
  /** Stops it: its callback will not run. */
  cancel(): void;
}

/**
 * Runs `fire` once, `ms` from now, without keeping the process alive. The server passes
 * lib/net/timer.ts's `startTimer`, whose first use does not load Deno's Node timers as the
 * global `setTimeout` does (the store does not import the network layer).
 */
export type StartTimer = (ms: number, fire: () => void) => IdleTimer;

/** {@linkcode StartTimer} on the global `setTimeout`, unref'd: the default. */
export const globalStartTimer: StartTimer = (ms, fire) => {
  const id = setTimeout(fire, ms);
  // A pending checkpoint must not keep the process alive.
  Deno.unrefTimer(id);
  return { cancel: () => clearTimeout(id) };
};

/** How {@linkcode Checkpoints} checkpoints. */
export interface CheckpointsOptions {
  /**
   * Runs a PASSIVE checkpoint on the main connection (the tail, and the fallback); returns
   * SQLite's row, or undefined if it failed.
   */
  checkpointHere(): CheckpointResult | undefined;
  /** Starts the worker; throws if it cannot. `null`: main thread only (in-memory database). */
  startWorker: (() => CheckpointWorker) | null;
  /** Told once when the worker is given up for the main thread. */
  warn(message: string): void;
  /**
   * Called when the worker has started the WAL over: the main connection then drops its page
   * cache at its next statement (SQLite does whenever another connection wrote), ~0.4 ms for a
   * full 2 MB cache here, which a statement run now spends in the pause instead of the next
   * command's.
   */
  restarted?(): void;
  /** The idle checkpoint's timer; {@linkcode globalStartTimer} by default. */
  startTimer?: StartTimer;
}

/** Checkpoints done so far, by where they ran (for tests and benchmarks). */
export interface CheckpointCounts {
  /** Rounds the worker finished. */
  worker: number;
  /** Checkpoints on the main thread: tails and fallback ones. */
  main: number;
  /** Worker rounds after which the worker synced the database file. */
  syncs: number;
  /** Start-overs of the WAL the worker made. */
  restarts: number;
}

/** Whether a checkpoint copied every frame the WAL had when it began. */
function copiedAll(result: CheckpointResult): boolean {
  return result.busy === 0 && result.log > 0 && result.checkpointed === result.log;
}

/** Schedules the WAL checkpoints of one SQLite database; see the module documentation. */
export class Checkpoints {
  readonly #options: CheckpointsOptions;
  /** `undefined`: not started yet; `null`: unavailable, the main thread checkpoints. */
  #worker: CheckpointWorker | null | undefined;
  #inFlight = false;
  #closed = false;
  /** Commits not yet covered by a checkpoint that has begun. */
  #commits = 0;
  /** The idle checkpoint's (it does not keep the process alive). */
  #timer: IdleTimer | undefined;
  /** When the last write committed (`performance.now()`). */
  #lastWrite = 0;
  /** A checkpoint copied the whole WAL and nothing was written since: it may start over. */
  #copied = false;
  readonly counts: CheckpointCounts = { worker: 0, main: 0, syncs: 0, restarts: 0 };

  constructor(options: CheckpointsOptions) {
    this.#options = options;
    if (!options.startWorker) this.#worker = null;
  }

  /**
   * Starts the worker now rather than at the first checkpoint: `new Worker` holds the main
   * thread ~12 ms, which the server spends at startup instead of in the transactions that
   * are in flight when the first checkpoint comes (four to six of a fresh server's first
   * SMTP round of 2,000 waited 11-15 ms; issue 13, round 15). Nothing if it runs already or
   * there is none (in-memory database, or given up).
   */
  start(): void {
    if (this.#worker === undefined && !this.#closed) this.#start();
  }

  /** A write transaction committed. */
  wrote(): void {
    this.#commits++;
    this.#copied = false;
    this.#lastWrite = performance.now();
    if (this.#commits >= COMMITS_PER_CHECKPOINT && !this.#inFlight && this.#worker !== null) {
      this.#inWorker();
    }
    if (this.#timer === undefined) this.#arm(IDLE_MS);
  }

  /** Ends the worker (after its connection closed, or a bounded wait); no checkpoint after. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#worker?.close();
  }

  #arm(ms: number): void {
    this.#timer = (this.#options.startTimer ?? globalStartTimer)(ms, this.#idle);
  }

  readonly #idle = (): void => {
    this.#timer = undefined;
    const quiet = performance.now() - this.#lastWrite;
    if (quiet < IDLE_MS) return this.#arm(IDLE_MS - quiet);
    // The request in flight ends in another round, the tail, the start-over or this timer again.
    if (this.#inFlight) return;
    if (this.#commits > 0) {
      if (this.#worker === null) this.#here();
      else this.#inWorker();
    } else this.#restart();
  };

  #here(): void {
    this.#commits = 0;
    this.counts.main++;
    const result = this.#options.checkpointHere();
    this.#copied = result !== undefined && copiedAll(result);
  }

  /** Has the worker start the WAL over, if a checkpoint copied it all and writes paused. */
  #restart(): void {
    const worker = this.#worker;
    if (!worker || !this.#copied || this.#closed) return;
    if (performance.now() - this.#lastWrite < IDLE_MS) return; // The idle timer comes back.
    this.#copied = false;
    this.#inFlight = true;
    worker.restart().then(this.#restarted, this.#restartFailed);
  }

  readonly #restarted = (wrote: boolean): void => {
    this.#inFlight = false;
    if (this.#closed) return;
    if (wrote) {
      this.counts.restarts++;
      this.#options.restarted?.();
    }
    if (this.#commits >= COMMITS_PER_CHECKPOINT) this.#inWorker();
    else this.#later();
  };

  /**
   * Commits made while a request was in the worker, left for later: the idle timer copies them
   * once writes pause. It may have fired during the request (it does nothing then) and wait for
   * no write: armed again here, or the WAL would keep them, not started over, until the next
   * write (a round slower than {@linkcode IDLE_MS}, as on a loaded CI machine, after a burst).
   */
  #later(): void {
    if (this.#commits === 0 || this.#inFlight || this.#timer !== undefined) return;
    this.#arm(Math.max(0, IDLE_MS - (performance.now() - this.#lastWrite)));
  }

  /**
   * The start-over failed (a full disk, say): the next write on the main connection starts
   * the WAL over, as it did before; the checkpoints stay in the worker. A worker that died
   * fails its next checkpoint, which gives it up.
   */
  readonly #restartFailed = (): void => this.#restarted(false);

  #inWorker(): void {
    const worker = this.#worker ?? this.#start();
    if (!worker) return this.#here();
    this.#commits = 0;
    this.#inFlight = true;
    worker.checkpoint().then(this.#finished, this.#failed);
  }

  #start(): CheckpointWorker | null {
    try {
      this.#worker = this.#options.startWorker!();
    } catch (error) {
      this.#giveUp(error);
    }
    return this.#worker ?? null;
  }

  readonly #finished = (result: CheckpointResult): void => {
    this.#inFlight = false;
    this.counts.worker++;
    if (result.synced) this.counts.syncs++;
    if (this.#closed) return;
    if (this.#commits === 0) {
      this.#copied = copiedAll(result);
      return this.#restart();
    }
    if (result.log < RESTART_FRAMES) return this.#later();
    if (this.#commits <= TAIL_COMMITS) this.#here();
    else this.#inWorker();
  };

  readonly #failed = (error: unknown): void => {
    this.#inFlight = false;
    if (this.#closed) return;
    this.#worker?.close();
    this.#giveUp(error);
    if (this.#commits > 0) this.#here();
  };

  #giveUp(error: unknown): void {
    this.#worker = null;
    this.#options.warn(
      `SQLite checkpoints run on the main thread: the checkpoint worker failed (${
        (error as Error)?.message ?? error
      })`,
    );
  }
}
