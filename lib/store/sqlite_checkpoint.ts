/**
 * WAL checkpoints in idle time, for the SQLite store.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its threshold
 * (1000 pages by default: every ~180 SMTP messages): it copies the pages into the database
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

/** WAL pages (4 KiB) at which a commit checkpoints at once: 16 MiB of WAL. */
export const AUTO_CHECKPOINT_PAGES = 4000;

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
