/**
 * WAL checkpoints in idle time, for the SQLite store.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its threshold
 * (1000 pages by default: every ~160 SMTP messages): it copies the pages into the database
 * file and syncs both files, milliseconds to tens of milliseconds on a busy disk, and the
 * delivery whose commit it rode waits for all of it (most of the SQLite store's p99). Here a
 * checkpoint runs once writes have paused for a moment instead, and the automatic one stays
 * as the bound for a load that never pauses, at a higher threshold
 * ({@linkcode AUTO_CHECKPOINT_PAGES}).
 *
 * When the checkpoint runs changes nothing for durability: a commit is in the WAL file when
 * COMMIT returns, whatever is copied into the database file later.
 *
 * @module
 */

/**
 * WAL pages (4 KiB) at which a commit checkpoints at once: 160 MiB of WAL. An SMTP message
 * (a commit of its own) adds ~6 pages to the WAL (its blob and the B-tree pages it touches,
 * written again by each commit: 13,669 frames for 2,200 messages), so at the former 4,000
 * pages a burst of 2,000 messages met three checkpoints, each a stall of ~10–40 ms (copying
 * and syncing both files) for the four transactions in flight, most of the SQLite store's
 * p99 (`deno task bench`, alternating runs: p99 6.4–12.1 → 4.1–7.0 ms, max 25–39 → 10–19
 * ms). A load that never pauses for {@linkcode IdleCheckpoint}'s moment now meets one every
 * ~6,500 messages, longer (more pages to copy, the same two syncs), instead of ten shorter.
 */
export const AUTO_CHECKPOINT_PAGES = 40_000;

/**
 * Bytes the WAL file is cut back to when it starts over after a checkpoint
 * (`journal_size_limit`; SQLite truncates it at the first write after the checkpoint): a
 * burst may grow it towards {@linkcode AUTO_CHECKPOINT_PAGES}, and afterwards it takes the
 * disk the former 4,000-page bound let it grow to.
 */
export const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

/** Writes must have paused this long before an idle checkpoint runs. */
const IDLE_MS = 100;

/** Runs `checkpoint` once writes have paused; see the module documentation. */
export class IdleCheckpoint {
  readonly #checkpoint: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the last write committed (`performance.now()`). */
  #lastWrite = 0;

  constructor(checkpoint: () => void) {
    this.#checkpoint = checkpoint;
  }

  /** A write transaction committed. */
  wrote(): void {
    this.#lastWrite = performance.now();
    if (this.#timer === undefined) this.#arm(IDLE_MS);
  }

  /** No checkpoint from now on (the database is closing). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#run, ms);
    // A pending checkpoint must not keep the process alive.
    Deno.unrefTimer(this.#timer);
  }

  readonly #run = (): void => {
    this.#timer = undefined;
    const quiet = performance.now() - this.#lastWrite;
    if (quiet < IDLE_MS) return this.#arm(IDLE_MS - quiet);
    this.#checkpoint();
  };
}
