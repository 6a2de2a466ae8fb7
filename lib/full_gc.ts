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
 * @module
 */

/**
 * Runs a full GC; returns its duration in ms, or null when the runtime offers no way to
 * (the collection is then left to V8).
 *
 * @example
 * ```ts
 * const ms = await fullGc(); // e.g. 12.5
 * ```
 */
export async function fullGc(): Promise<number | null> {
  try {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
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
