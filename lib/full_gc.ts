/**
 * A full, memory-reducing garbage collection on request, for the one moment the server knows
 * it has just dropped a lot and nobody is waiting: after the startup warm-up
 * (lib/imap/warm_up.ts), whose private store, synthetic mail and responses are garbage then,
 * once the listeners are open and no client is connected ({@linkcode collectWhenIdle}).
 * Left to V8, that garbage (and the heap pages it grew) stays until the first major GC under
 * real traffic, which on an idle server may be never: the idle RSS measured after the
 * warm-up was about twice the one before it.
 *
 * The program's V8 flags (lib/v8_flags.ts) include `--expose-gc`, so `deno task start`, the
 * compiled binary and the benchmarks' server find `gc` on the global object and call it as
 * V8's "last-resort" collection: repeated memory-reducing mark-compacts that give the young
 * generation's pages back. Such a collection also flushes the bytecode of every function not
 * running, the warm-up's work, unless V8 runs with `--no-flush-bytecode`, which the same
 * flags include (lib/v8_flags.ts says what it measured). Run without the flags (`deno run main.ts`, from a checkout or a
 * URL), there is no `gc()`; V8's flag is then set at run time (`node:v8`) and a new context
 * (`node:vm`) carries the function. That way loads Deno's Node compatibility layer, which
 * costs the idle server ~2 MB more (issue 13: 56.0-56.7 vs 58.1-59.1 MB from the bundle,
 * `/proc/<pid>/smaps` 6 s after start, four alternating runs), for the same two
 * memory-reducing collections (`--trace-gc`).
 *
 * Tried instead (issue 13, idle RSS): a plain `gc()`, V8's ordinary full collection: it left
 * the young generation's 8 MB committed (+4-9 MB idle RSS). A last-resort collection with
 * bytecode flushing on made the first commands after it slower (SELECT, the header-list
 * FETCH, ENVELOPE BODYSTRUCTURE, STORE: lib/v8_flags.ts); the collection the `node:vm` way
 * does is the same pair of memory-reducing mark-compacts.
 *
 * @module
 */

import { startTimer, type Timer } from "./net/timer.ts";

/**
 * Runs a full, memory-reducing GC; returns its duration in ms, or null when the runtime offers
 * no way to (the collection is then left to V8). Without an exposed `gc`, loading `node:v8`,
 * loading `node:vm` and collecting each hold the event loop for 5-25 ms (~40-65 ms together,
 * measured with bench/loop_probe.ts at the end of the warm-up); `between` runs before each
 * step, so a caller can let waiting clients go first; if it rejects, the collection stops
 * there.
 *
 * @example
 * ```ts
 * const ms = await fullGc(); // e.g. 12.5
 * ```
 */
export async function fullGc(
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<number | null> {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") {
    await between();
    const start = performance.now();
    exposed({ type: "major", execution: "sync", flavor: "last-resort" });
    return performance.now() - start;
  }
  const gc = await contextGc(between);
  if (gc === null) return null;
  const start = performance.now();
  gc();
  return performance.now() - start;
}

/** V8's `gc` extension function, which takes the collection's options. */
type GcFunction = (options?: { type: "major"; execution: "sync" }) => void;

/** The `gc` of a `node:vm` context {@linkcode majorGc} made, kept for its next calls. */
let madeGc: GcFunction | null = null;

/**
 * `gc` from a new context, `--expose-gc` set at run time (`node:v8`); null if the runtime
 * refuses. `between` runs before each of the three steps, as in {@linkcode fullGc}, and may
 * reject.
 */
async function contextGc(between: () => Promise<void>): Promise<GcFunction | null> {
  try {
    await between();
    const { setFlagsFromString } = await import("node:v8");
    await between();
    const { runInNewContext } = await import("node:vm");
    await between();
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    return typeof gc === "function" ? gc : null;
  } catch {
    return null;
  }
}

/**
 * Runs V8's ordinary full collection (not the memory-reducing one {@linkcode fullGc} runs):
 * what V8 would start itself once enough memory outside its heap is garbage, for memory it
 * does not count (lib/mail/shared_bytes.ts). Returns its duration in ms, or null when the runtime
 * offers no way to collect. Without an exposed `gc`, the first call loads `node:v8` and
 * `node:vm` (see {@linkcode fullGc}).
 *
 * @example
 * ```ts
 * const ms = await majorGc(); // e.g. 8.1
 * ```
 */
export async function majorGc(): Promise<number | null> {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed !== "function" && madeGc === null) {
    madeGc = await contextGc(() => Promise.resolve());
  }
  const gc = typeof exposed === "function" ? exposed as GcFunction : madeGc;
  if (gc === null) return null;
  const start = performance.now();
  gc({ type: "major", execution: "sync" });
  return performance.now() - start;
}

/** A collection waiting for idle time; `cancel` drops it (the server is stopping). */
export interface PendingCollection {
  /** Settles after the collection, or when cancelled; never rejects. */
  readonly done: Promise<void>;
  cancel(): void;
}

/**
 * Runs {@linkcode fullGc} once nobody is there: the first time `busy` says no, looking every
 * `pollMs`, the first look `pollMs` after the call, and again before each of the collection's
 * later steps (without an exposed `gc` there are three, 5-25 ms each). The server ends its
 * startup warm-up this way (lib/server.ts): collected before the listeners opened, the
 * warm-up's garbage held the first greeting ~9 ms longer; collected beside a client, it would
 * stop its commands as long. A client that stays connected leaves it to V8's own collections.
 * Once a client came (`activity`, a count of client input, moved), it also waits for
 * `servedQuietMs` with no input at all: the collection then goes over the stored mail too,
 * 25-33 ms after 2,000 SMTP messages, and an IMAP client that connected 50 ms after such a burst
 * waited 14-35 ms for its greeting (issue 13, round 19, `bench/smtp_then_imap.ts --pause 50`);
 * never collected, that server idled ~10 MB higher (81 against 71 MB 15 s after the burst).
 * It looks with lib/net/timer.ts's timers, which do not load Deno's Node timers as the global
 * `setTimeout` does, and do not keep the event loop alive (the server's listeners do).
 *
 * @example
 * ```ts
 * const pending = collectWhenIdle(() => connections > 0);
 * // ... on shutdown:
 * pending.cancel();
 * ```
 */
export function collectWhenIdle(
  busy: () => boolean,
  pollMs = 50,
  activity: () => number = () => 0,
  servedQuietMs = 2000,
): PendingCollection {
  let timer: Timer | null = null;
  let cancelled = false;
  /** Ends the wait in progress with an error, which ends the collection. */
  let abandon: (() => void) | null = null;
  let first = true;
  const initial = activity();
  let seen = initial;
  let quietSince = performance.now();
  const quiet = () =>
    new Promise<void>((resolve, reject) => {
      if (cancelled) return reject(new Error("cancelled"));
      abandon = () => reject(new Error("cancelled"));
      const look = () => {
        timer = null;
        const now = performance.now();
        const count = activity();
        if (count !== seen) {
          seen = count;
          quietSince = now;
        }
        if (busy() || (count !== initial && now - quietSince < servedQuietMs)) {
          timer = startTimer(pollMs, look);
          return;
        }
        abandon = null;
        resolve();
      };
      if (first) timer = startTimer(pollMs, look);
      else look();
      first = false;
    });
  const done = fullGc(quiet).then(() => {}, () => {});
  return {
    done,
    cancel() {
      cancelled = true;
      timer?.cancel();
      timer = null;
      abandon?.();
      abandon = null;
    },
  };
}
