/**
 * Timers for the paths a server runs from its start: sessions' deadlines, the index warmer and
 * the startup warm-up. In Deno 2.9 the global `setTimeout` is Node's (it returns a `Timeout`
 * object), and its first call loads Deno's Node timers (with their errors and util/inspect): 3.2 ms,
 * ~3 MB in a bare script and 1.2 MB of the idle server's memory, which it never needed (docs/performance-history.md, "Startup and idle, round
 * 10").
 *
 * {@linkcode startTimer} waits with `Atomics.waitAsync`, which V8 times out on its own task
 * runner and `Atomics.notify` wakes early; unlike `setTimeout`, a pending one does not keep the
 * event loop alive (a session's deadline runs beside its socket's read). {@linkcode sleep}
 * waits with `AbortSignal.timeout`, a web timer that does. The rare paths (IMAP IDLE's
 * keep-alive, fault injection, TLS handshakes, the failed-login guard, the warnings' summary)
 * keep `setTimeout`.
 *
 * @module
 */

/** A timer that {@linkcode startTimer} started. */
export interface Timer {
  /** Stops it; `fire` will not run. Does nothing once it has fired. */
  cancel(): void;
}

/**
 * Runs `fire` once, `ms` from now (at least 1 ms: a later turn of the event loop).
 *
 * @example
 * ```ts
 * const timer = startTimer(30_000, () => connection.close());
 * timer.cancel();
 * ```
 */
export function startTimer(ms: number, fire: () => void): Timer {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let cancelled = false;
  const wait = Atomics.waitAsync(cell, 0, 0, Math.max(1, ms));
  // Asynchronous whenever the timeout is above 0 and the cell holds 0, as here.
  (wait.value as Promise<string>).then(() => {
    if (!cancelled) fire();
  });
  return {
    cancel() {
      if (cancelled) return;
      cancelled = true;
      Atomics.notify(cell, 0);
    },
  };
}

/**
 * Resolves `ms` from now, after the event loop has had a turn for I/O. Unlike
 * {@linkcode startTimer}'s, this wait keeps the event loop alive (a web timer, which cannot be
 * cancelled: what sleeps wakes up).
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    AbortSignal.timeout(ms).addEventListener("abort", () => resolve(), { once: true });
  });
}
