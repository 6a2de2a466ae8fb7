/**
 * `main.ts` with a full garbage collection every 200 ms, for the memory tests: the resident
 * size then follows what the server still references rather than when V8 chose to collect.
 * On SIGUSR2 it collects and prints `heap-used <bytes>` to stderr. Run with
 * `--v8-flags=--expose-gc`.
 *
 * @module
 */

import { main } from "../main.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
Deno.unrefTimer(setInterval(gc, 200));
Deno.addSignalListener("SIGUSR2", () => {
  gc();
  console.error(`heap-used ${Deno.memoryUsage().heapUsed}`);
});
Deno.exit(await main(Deno.args));
