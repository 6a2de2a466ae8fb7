/**
 * A full, memory-reducing garbage collection on request, for the one moment the server knows
 * it has just dropped a lot and nobody is waiting: the end of the startup warm-up
 * (lib/imap/warm_up.ts), whose private store, synthetic mail and responses are garbage then.
 * Left to V8, that garbage (and the heap pages it grew) stays until the first major GC under
 * real traffic, which on an idle server may be never: the idle RSS measured after the
 * warm-up was about twice the one before it.
 *
 * The program is started with `--expose-gc` (lib/v8_flags.ts), so `globalThis.gc` is there.
 * Without it (a plain `deno run main.ts`, the tests), V8's flag is set at run time (`node:v8`)
 * and a new context (`node:vm`) carries the function: that path loads two modules and makes a
 * context, ~0.5–1 MB more idle memory (bench/smtp_load.ts --idle-at).
 *
 * @module
 */

/**
 * What `gc()` is asked for: a full, synchronous collection of the "last resort" kind, which
 * also gives back the pages of the young generation. A plain `gc()` left its 8 MB (two
 * semi-spaces of `--max-semi-space-size=4`) committed after the warm-up; the collection of the
 * `node:vm` path shrank them only because making a context asks V8 to reduce memory.
 */
const FULL_GC = { type: "major", execution: "sync", flavor: "last-resort" } as const;

type Gc = (options?: typeof FULL_GC) => void;

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
  const gc = await gcFunction();
  if (gc === null) return null;
  const start = performance.now();
  gc(FULL_GC);
  return performance.now() - start;
}

/** `globalThis.gc` when `--expose-gc` put it there; otherwise the one of a new context. */
async function gcFunction(): Promise<Gc | null> {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return exposed as Gc;
  try {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    return typeof gc === "function" ? gc : null;
  } catch {
    return null;
  }
}
