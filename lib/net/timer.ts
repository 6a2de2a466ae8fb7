/**
 * Timers for the paths a server runs from its start: sessions' deadlines, the index warmer and
 * the startup warm-up. In Deno 2.9 the global `setTimeout` is Node's (it returns a `Timeout`
 * object), and its first call loads Deno's Node timers: 3.2 ms and ~3 MB of idle memory that a
 * server which never needed them keeps (docs/performance-history.md, "Startup and idle, round
 * 10"). These wait with `Atomics.waitAsync` instead, which V8 times out on its own task runner
 * and `Atomics.notify` wakes early.
 *
 * Unlike `setTimeout`, a pending timer does not keep the event loop alive: whoever waits for
 * one also waits for a socket or a listener's accept (lib/server.ts stops the warm-up before it
 * closes the listeners). The rare paths (IMAP IDLE's keep-alive, fault injection, TLS
 * handshakes, the failed-login guard, the accept retry, the shutdown wait) keep `setTimeout`.
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
 * Resolves `ms` from now (at least 1 ms), after the event loop has had a turn for I/O.
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => startTimer(ms, resolve));
}
