/**
 * A timer that is moved far more often than it fires: a connection's idle timeout (moved on
 * every read) and its receive deadline (started and cleared for every SMTP message). Moving
 * it only notes the new time; the one pending timer checks when it fires and, if the time
 * has moved on, waits again for the rest. So a busy connection costs one timer per timeout
 * period instead of a cancel and a new timer per read (with `setTimeout`, a tenth of the
 * server's time in a run of small SMTP transactions). The timers are lib/net/timer.ts's, not
 * the global `setTimeout`, whose first use loads Deno's Node timers (that module says why).
 *
 * @module
 */

import { startTimer, type Timer } from "./timer.ts";

/** A re-armable deadline; `fire` runs once each time it passes. */
export class Deadline {
  readonly #fire: () => void;
  /** When it is due (`performance.now()` time); 0: not armed. */
  #due = 0;
  #timer: Timer | undefined;
  /** When the pending timer wakes up. */
  #wake = 0;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Fires `ms` from now (replacing any earlier time). */
  set(ms: number): void {
    const now = performance.now();
    this.#due = now + ms;
    // A pending timer that wakes up later than the new time is too late (a shorter timeout).
    if (this.#timer !== undefined && this.#wake <= this.#due) return;
    this.#timer?.cancel();
    this.#arm(now, ms);
  }

  /** Disarms it. The pending timer, if any, wakes up to find nothing due. */
  clear(): void {
    this.#due = 0;
  }

  /** Disarms it and cancels the pending timer (the connection is gone). */
  stop(): void {
    this.#due = 0;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(now: number, ms: number): void {
    this.#wake = now + ms;
    this.#timer = startTimer(ms, this.#check);
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (this.#due === 0) return;
    const now = performance.now();
    const left = this.#due - now;
    if (left > 0) return this.#arm(now, left);
    this.#due = 0;
    this.#fire();
  };
}
