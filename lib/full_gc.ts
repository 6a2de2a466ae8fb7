/**
 * A full, memory-reducing garbage collection on request, for the one moment the server knows
 * it has just dropped a lot and nobody is waiting: the end of the startup warm-up
 * (lib/imap/warm_up.ts), whose private store, synthetic mail and responses are garbage then.
 * Left to V8, that garbage (and the heap pages it grew) stays until the first major GC under
 * real traffic, which on an idle server may be never: the idle RSS measured after the
 * warm-up was about twice the one before it.
 *
 * Deno has no `gc()` without `--expose-gc` on its command line; V8's flag can be set at run
 * time (`node:v8`), and a new context then carries the function.
 *
 * Tried instead (issue 13, idle RSS): `--expose-gc` in lib/v8_flags.ts and `globalThis.gc`,
 * to save loading `node:vm` and making a context (~0.5–1 MB). A plain `gc()` from there left
 * the young generation's 8 MB committed (+9 MB idle RSS; the collection here gives it back).
 * `gc({ flavor: "last-resort" })` gives it back too, but a last-resort GC also flushes the
 * bytecode of functions that ran only a few times, which the warm-up had compiled: the
 * commands of a client coming after the warm-up were slower (bench/imap_load.ts --cold
 * --start-delay 4, 5 alternating runs: server CPU of the ten commands 356–517 vs 353–496 ms,
 * FETCH 1:* (UID FLAGS) 4.8–7.9 vs 4.6–6.9 ms).
 *
 * @module
 */

/**
 * Runs a full GC; returns its duration in ms, or null when the runtime offers no way to
 * (the collection is then left to V8). Loading `node:v8`, loading `node:vm` and collecting
 * each hold the event loop for 5–25 ms (~40–65 ms together, measured with bench/loop_probe.ts
 * at the end of the warm-up); `between` runs before each of them, so a caller can let
 * waiting clients go first.
 *
 * @example
 * ```ts
 * const ms = await fullGc(); // e.g. 12.5
 * ```
 */
export async function fullGc(
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<number | null> {
  try {
    await between();
    const { setFlagsFromString } = await import("node:v8");
    await between();
    const { runInNewContext } = await import("node:vm");
    await between();
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    if (typeof gc !== "function") return null;
    const start = performance.now();
    gc();
    return performance.now() - start;
  } catch {
    return null;
  }
}
