/**
 * An event-loop lag probe, preloaded into a benchmark's server (`deno run --preload`) by
 * `bench/smtp_load.ts --probe`: a 1 ms interval timer notes every gap between its ticks of at
 * least {@linkcode GAP_MS}, i.e. every stretch the loop was held by one task, a GC pause, or
 * the OS running something else on the core. To tell those apart it reads the JavaScript
 * thread's `/proc/thread-self/schedstat` at each tick: of each gap, the time the thread ran
 * and the time it waited for a core.
 *
 * On SIGUSR2 it writes what it noted to `$LOOP_PROBE_FILE` as JSON: gaps as `[start, length,
 * ran, waited]` (ms; start on the wall clock, `performance.timeOrigin` + `performance.now()`,
 * comparable across processes), and `anchor`, the wall-clock time of one GC run at once when
 * the server has `--expose-gc`: its `--trace-gc` line (stamped in ms since the isolate
 * started) relates the trace's times to the wall clock.
 *
 * It also notes, per TCP connection the server accepts (by the client's port), when each read
 * came back to JavaScript and when each write was called (`io`: port → `[time, +bytes read |
 * -bytes written]` pairs, wall clock ms): the client's own times then split each reply's wait
 * into the way in, the server's work on it, and the way out.
 *
 * The timer costs the server ~1,000 wake-ups a second: compare figures with and without it.
 *
 * @module
 */

/** Gaps between ticks at least this long are noted, in ms. */
const GAP_MS = 1.5;

const file = Deno.env.get("LOOP_PROBE_FILE");
if (file) {
  const origin = performance.timeOrigin;
  const gaps: number[][] = [];
  let anchor: number | null = null;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    anchor = origin + performance.now();
  }
  const stat = Deno.openSync("/proc/thread-self/schedstat");
  const buffer = new Uint8Array(128);
  const latin1 = new TextDecoder("latin1");
  /** [ran, waited] of the thread so far, in ms. */
  const times = (): [number, number] => {
    stat.seekSync(0, Deno.SeekMode.Start);
    const n = stat.readSync(buffer) ?? 0;
    const [ran, waited] = latin1.decode(buffer.subarray(0, n)).split(" ");
    return [Number(ran) / 1e6, Number(waited) / 1e6];
  };
  let last = performance.now();
  let [ran, waited] = times();
  const timer = setInterval(() => {
    const now = performance.now();
    const [ranNow, waitedNow] = times();
    if (now - last >= GAP_MS) {
      gaps.push([origin + last, now - last, ranNow - ran, waitedNow - waited]);
    }
    last = now;
    ran = ranNow;
    waited = waitedNow;
  }, 1);
  Deno.unrefTimer(timer);
  const io: Record<number, number[]> = {};
  const ioOf = (conn: Deno.Conn) => (io[(conn.remoteAddr as Deno.NetAddr).port] ??= []);
  const listen = Deno.listen;
  let patched = false;
  // Conn's prototype is only reachable from a connection: patched at the first accept.
  const patch = (conn: Deno.Conn) => {
    if (patched) return;
    patched = true;
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(conn));
    const { read, write } = proto;
    proto.read = function (this: Deno.Conn, buffer: Uint8Array) {
      return read.call(this, buffer).then((n: number | null) => {
        ioOf(this).push(origin + performance.now(), n ?? 0);
        return n;
      });
    };
    proto.write = function (this: Deno.Conn, bytes: Uint8Array) {
      ioOf(this).push(origin + performance.now(), -bytes.length);
      return write.call(this, bytes);
    };
  };
  // deno-lint-ignore no-explicit-any
  (Deno as any).listen = (options: Deno.TcpListenOptions) => {
    const listener = listen(options);
    const accept = listener.accept.bind(listener);
    listener.accept = () =>
      accept().then((conn) => {
        patch(conn);
        return conn;
      });
    return listener;
  };
  Deno.addSignalListener("SIGUSR2", () => {
    Deno.writeTextFileSync(file, JSON.stringify({ anchor, gaps, io }));
  });
}
