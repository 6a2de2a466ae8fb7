/**
 * Preloaded (`deno run --preload`) before the program by tests/start_timers_test.ts: records
 * every read of the globals whose first read loads Deno's Node timers (lib/net/timer.ts says
 * why that matters), writing `timer-probe read <name>` and the reader's stack to stderr at
 * once. After the program's first full collection (lib/full_gc.ts `collectWhenIdle`, the end
 * of a start with its warm-up) and a moment of idle time it writes `timer-probe idle <bytes>`:
 * how much the V8 heap grew when it then read `setTimeout` itself, which loads Node's timers
 * only if nothing (the program, or Deno's own code for it) had loaded them already.
 *
 * @module
 */

/** The globals that load Deno's Node timers (and its util/inspect, errors, async hooks). */
const NODE_TIMER_GLOBALS = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "setImmediate",
  "clearImmediate",
  "process",
] as const;

const encoder = new TextEncoder();
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`timer-probe ${line}\n`));
const lazy = new Map<string, PropertyDescriptor>();

for (const name of NODE_TIMER_GLOBALS) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name)!;
  lazy.set(name, descriptor);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: true,
    get() {
      const stack = (new Error().stack ?? "").split("\n").slice(2, 7).join("\n");
      say(`read ${name}\n${stack}`);
      return descriptor.get!.call(globalThis);
    },
    set(value) {
      descriptor.set!.call(globalThis, value);
    },
  });
}

const global = globalThis as { gc?: (options?: unknown) => unknown };
const exposedGc = global.gc;
if (typeof exposedGc !== "function") say("no exposed gc (run with the program's V8 flags)");
let reported = false;
global.gc = (options?: unknown) => {
  const result = exposedGc!(options);
  if (!reported) {
    reported = true;
    // A web timer: it does not load Node's timers.
    AbortSignal.timeout(300).addEventListener("abort", () => {
      const heapUsed = () => {
        exposedGc!();
        exposedGc!();
        return Deno.memoryUsage().heapUsed;
      };
      const before = heapUsed();
      lazy.get("setTimeout")!.get!.call(globalThis);
      say(`idle ${heapUsed() - before}`);
    });
  }
  return result;
};
