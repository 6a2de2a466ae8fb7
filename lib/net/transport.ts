/**
 * The one transport module: TCP listeners, connection limits (per listener and per client
 * address), idle timeouts, receive deadlines (`input_guard.ts`), flow control (see
 * {@linkcode Connection}), TLS and shutdown. Protocol code sees only {@linkcode Connection}.
 *
 * Plain listeners use `Deno.listen`: loading `node:net` costs ~20 ms of startup and ~6 MB
 * of memory. Server-side TLS upgrade (STARTTLS) works only through `node:tls` on a
 * `node:net` socket, so listeners with TLS (STARTTLS-capable plain ports and implicit-TLS
 * ports) are `node:net` servers, in `node_transport.ts`, loaded only when TLS is on. Both
 * kinds share the connection registry (`registry.ts`): limits, session start, guards,
 * shutdown. The types protocol code uses are in `connection.ts`, re-exported here.
 *
 * @module
 */

import {
  addressKey,
  type ConnectionEvents,
  DEFAULT_RECEIVE_TIMEOUT_MS,
  END_GRACE_MS,
  HIGH_WATER_MARK,
  type Listener,
  type ListenOptions,
  LOW_WATER_MARK,
  type ManagedConnection,
  nextConnectionId,
  type TlsState,
} from "./connection.ts";
import { ByteSlab } from "./byte_slab.ts";
import { DeflateLayer } from "./compress.ts";
import { Deadline } from "./deadline.ts";
import { countInput } from "./input_count.ts";
import { InputGuard } from "./input_guard.ts";
import { GatherPool, OutputQueue } from "./output_queue.ts";
import { connectionRegistry } from "./registry.ts";
import { sleep, startTimer, type Timer } from "./timer.ts";

export type {
  Connection,
  ConnectionHandler,
  Endpoint,
  Listener,
  ListenOptions,
  ListenTls,
  TlsState,
} from "./connection.ts";

const READ_BUFFER_SIZE = 64 * 1024;
/**
 * A read goes into what is left of the read buffer while this much is, else into a fresh
 * one: small reads (command lines) share a buffer, and a stream of full reads costs at most
 * one short read per buffer.
 */
const MIN_READ_SPACE = 4 * 1024;
/** The slab short replies are encoded into, shared by a listener's connections. */
const REPLY_SLAB_SIZE = 16 * 1024;
const encoder = new TextEncoder();
/** At most one log line per this long about failed accepts. */
const ACCEPT_LOG_MS = 10_000;
/** The chunk between writes. */
const NOTHING = new Uint8Array(0);

/**
 * Starts listening: `Deno.listen` without TLS, a `node:net` server with it. Rejects with the
 * OS error (e.g. `AddrInUse`, `EADDRINUSE`) if the port cannot be bound.
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  const registry = connectionRegistry(options);
  if (options.tls) {
    const { listenNode } = await import("./node_transport.ts");
    return await listenNode(options, options.tls, registry);
  }
  const listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  const receiveTimeoutMs = options.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
  let closing = false;
  const replies = new ByteSlab(REPLY_SLAB_SIZE);
  const gather = new GatherPool();
  const closed = Promise.withResolvers<void>();
  const accepting = (async () => {
    // Connections made meanwhile wait in the backlog (ListenOptions.acceptFrom).
    if (options.acceptFrom) await Promise.race([options.acceptFrom, closed.promise]);
    // Failed accepts (out of file descriptors: EMFILE) come every 50 ms while it lasts: logged
    // once per ACCEPT_LOG_MS with a count, as refusals are.
    let failures = 0;
    let lastLogged = -Infinity;
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        if (error instanceof Deno.errors.BadResource) return;
        failures++;
        const now = Date.now();
        if (now - lastLogged >= ACCEPT_LOG_MS) {
          const count = failures === 1 ? "" : ` (${failures} times since the last report)`;
          options.logger.error(`${options.name}: accept failed${count}`, error);
          lastLogged = now;
          failures = 0;
        }
        await sleep(50);
        continue;
      }
      registry.serve(
        new SocketConnection(conn, options.idleTimeoutMs, receiveTimeoutMs, replies, gather),
      );
    }
  })();

  const address = listener.addr as Deno.NetAddr;
  return {
    name: options.name,
    host: address.hostname,
    port: address.port,
    get connections() {
      return registry.size;
    },
    close: async () => {
      if (closing) return;
      closing = true;
      closed.resolve();
      listener.close();
      await accepting;
      await registry.shutdown();
    },
  };
}

/** A `Deno.TcpConn` with a write queue, flow control, an idle timer and a receive deadline. */
class SocketConnection implements ManagedConnection {
  readonly id = nextConnectionId();
  readonly tls: TlsState = "off";
  readonly remote: string;
  readonly address: string;
  readonly #conn: Deno.TcpConn;
  /** Where short text writes are encoded (see {@linkcode encodeText}). */
  readonly #replies: ByteSlab;
  /** Output not yet taken for a write. */
  readonly #output: OutputQueue;
  /** A write is with the OS: `#chunk`, written up to `#sentTo`. */
  #writing = false;
  #chunk: Uint8Array = NOTHING;
  #sentTo = 0;
  #ending = false;
  #closed = false;
  #drainWaiters: Array<() => void> = [];
  /** Wakes the reader once reading is allowed again. */
  #wake: (() => void) | null = null;
  /** The session paused reading. */
  #paused = false;
  /** Unsent output reached the high-water mark and is not yet under the low-water mark. */
  #throttled = false;
  #idleMs: number;
  readonly #idleTimer = new Deadline(() => this.#events.idle());
  #endTimer: Timer | undefined;
  #events: ConnectionEvents = { data: () => {}, idle: () => {}, slow: () => {} };
  readonly #guard: InputGuard;
  readonly #closedSignal = Promise.withResolvers<void>();
  /** COMPRESS=DEFLATE, once started. */
  #deflate: DeflateLayer | null = null;

  constructor(
    conn: Deno.TcpConn,
    idleMs: number,
    receiveTimeoutMs: number,
    replies: ByteSlab,
    gather: GatherPool,
  ) {
    this.#conn = conn;
    this.#replies = replies;
    this.#output = new OutputQueue(gather);
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    this.address = addressKey(addr.hostname);
    this.#idleMs = idleMs;
    this.#guard = new InputGuard(receiveTimeoutMs, () => this.#events.slow());
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    this.#closeFieldsMutable();
  }

  /**
   * Writes the fields that a close or flow control writes, with their other values and back.
   * V8 treats a field written only once as a constant and compiles code on that: the first
   * connection to close (or to be throttled) would throw away the compiled hot path of every
   * connection at once, which then ran interpreted until V8 compiled it again (on a fresh
   * server, all four SMTP clients of a burst stalled 3-5 ms when the first of them quit; issue
   * 13, bench/close_deopts.ts). Written twice here, they are plain fields from the first
   * connection on. The other connection classes and the session objects do the same, citing
   * this.
   */
  #closeFieldsMutable(): void {
    this.#ending = true;
    this.#ending = false;
    this.#closed = true;
    this.#closed = false;
    this.#paused = true;
    this.#paused = false;
    this.#throttled = true;
    this.#throttled = false;
    this.#drainWaiters = [];
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closedPromise(): Promise<void> {
    return this.#closedSignal.promise;
  }

  /** Reads until the peer closes or the connection is destroyed. */
  async run(events: ConnectionEvents): Promise<void> {
    this.#events = events;
    this.#armIdle();
    // Each read fills a fresh region, handed over as it is: the session may keep it
    // (literals, message data) and nothing overwrites it.
    const input = new ByteSlab(READ_BUFFER_SIZE);
    try {
      while (!this.#closed) {
        if (!this.#reading) {
          this.#guard.suspend();
          await new Promise<void>((resolve) => (this.#wake = resolve));
          this.#guard.resume();
          continue;
        }
        // Large literal data is read straight into the session's buffer for it.
        const target = this.#deflate ? null : this.#events.readTarget?.() ?? null;
        const n = await this.#conn.read(target ?? input.space(MIN_READ_SPACE));
        if (n === null) break;
        countInput();
        this.#armIdle();
        if (this.#ending) continue;
        const chunk = target ? target.subarray(0, n) : input.take(n);
        if (this.#deflate) this.#deflate.input(chunk);
        else this.#deliver(chunk);
      }
    } catch {
      // reset by peer, or destroyed while reading
    } finally {
      this.#finish();
    }
  }

  write(data: Uint8Array | string): boolean {
    if (this.#closed || this.#ending) return false;
    const bytes = typeof data === "string" ? encodeText(data, this.#replies) : data;
    if (bytes.length === 0) return this.#unsent < HIGH_WATER_MARK;
    if (this.#deflate) this.#deflate.write(bytes);
    else this.#enqueue(bytes);
    if (this.#unsent >= HIGH_WATER_MARK) this.#throttled = true;
    this.#deflate?.flow(this.#delivering);
    return this.#unsent < HIGH_WATER_MARK;
  }

  drained(): Promise<void> {
    if (this.#closed || this.#unsent === 0) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    this.#deflate?.flow(false);
    return drained;
  }

  pause(): void {
    this.#paused = true;
    this.#deflate?.flow(false);
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader();
  }

  expectBody(on: boolean): void {
    this.#guard.expectBody(on);
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing && this.#unsent === 0) this.#finish();
    else this.#endTimer = startTimer(END_GRACE_MS, () => this.destroy());
  }

  destroy(): void {
    this.#finish();
  }

  setIdleTimeout(ms: number): void {
    this.#idleMs = ms;
    this.#armIdle();
  }

  startTls(): void {
    throw new Error("Cannot start TLS: this listener has no TLS");
  }

  startCompression(): void {
    if (this.#deflate) throw new Error("Cannot start compression: it is active");
    if (this.#closed || this.#ending) return;
    this.#deflate = new DeflateLayer({
      send: (compressed) => this.#enqueue(compressed),
      deliver: (plain) => {
        if (this.#closed || this.#ending) return;
        this.#deliver(plain);
        if (!this.#delivering) this.#deflate?.flow(false);
      },
      progress: () => this.#progress(),
      fail: () => this.#finish(),
    });
  }

  /** Data may be delivered: see the flow control of {@linkcode Connection}. */
  get #delivering(): boolean {
    return !this.#paused && !this.#throttled && this.#drainWaiters.length === 0;
  }

  /** The socket may be read: data may be delivered and the inflater has room. */
  get #reading(): boolean {
    return this.#delivering && !this.#deflate?.inputFull;
  }

  /** Output not yet handed to the OS: queued, or still in the compressor. */
  get #unsent(): number {
    return this.#output.length + this.#chunk.length - this.#sentTo + (this.#deflate?.pending ?? 0);
  }

  #deliver(plain: Uint8Array): void {
    this.#guard.input(plain);
    this.#events.data(plain);
  }

  #enqueue(bytes: Uint8Array): void {
    if (this.#writing || this.#closed) {
      this.#output.push(bytes);
      return;
    }
    // Nothing queued (it is written out before `#writing` ends): the bytes go to the OS as
    // they are, as `#writeNext` would send a lone part, without a turn through the queue's
    // list (a reply per SMTP command, whose list was a fresh array each time).
    this.#chunk = bytes;
    this.#sentTo = 0;
    this.#writing = true;
    this.#writeChunk();
  }

  /** The compressor flushed or the inflater took input: recheck flow control. */
  #progress(): void {
    if (this.#throttled && this.#unsent <= LOW_WATER_MARK) this.#throttled = false;
    if (!this.#writing && this.#unsent === 0) this.#settle();
    else this.#wakeReader();
  }

  #wakeReader(): void {
    this.#deflate?.flow(this.#delivering);
    if (!this.#reading && !this.#closed) return;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #armIdle(): void {
    if (this.#idleMs > 0 && !this.#closed) this.#idleTimer.set(this.#idleMs);
    else this.#idleTimer.clear();
  }

  /**
   * Hands the queued output to the OS in order, one write at a time (see output_queue.ts for
   * how it is cut), without an async function or an await per write: a write's completion
   * starts the next. Each reply (a command's, at least one per SMTP command) is one write, so
   * the turns saved are per command.
   */
  #writeNext(): void {
    const chunk = this.#closed ? null : this.#output.next();
    if (!chunk) {
      this.#writing = false;
      this.#chunk = NOTHING;
      this.#sentTo = 0;
      // Output still in the compressor comes back through #progress once flushed.
      if (!this.#closed && this.#unsent === 0) this.#settle();
      return;
    }
    this.#chunk = chunk;
    this.#sentTo = 0;
    this.#writing = true;
    this.#writeChunk();
  }

  #writeChunk(): void {
    const chunk = this.#chunk;
    const offset = this.#sentTo;
    let writing: Promise<number>;
    try {
      writing = this.#conn.write(offset === 0 ? chunk : chunk.subarray(offset));
    } catch {
      return this.#writeFailed();
    }
    writing.then(this.#written, this.#writeFailed);
  }

  readonly #written = (n: number): void => {
    if (this.#closed) {
      this.#writing = false;
      return;
    }
    this.#sentTo += n;
    if (this.#sentTo < this.#chunk.length) return this.#writeChunk();
    this.#chunk = NOTHING;
    this.#sentTo = 0;
    if (this.#throttled && this.#unsent <= LOW_WATER_MARK) {
      this.#throttled = false;
      this.#wakeReader();
    }
    this.#writeNext();
  };

  readonly #writeFailed = (): void => {
    this.#writing = false;
    this.#finish();
  };

  /** Everything written is out: wake whoever waits for it. */
  #settle(): void {
    // Nobody waits nearly always (a settle per reply): then no new array and no iterator.
    if (this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.#wakeReader();
    if (this.#ending) this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#idleTimer.stop();
    this.#endTimer?.cancel();
    this.#guard.stop();
    this.#deflate?.close();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#output.clear();
    this.#chunk = NOTHING;
    this.#sentTo = 0;
    for (const resolve of this.#drainWaiters) resolve();
    this.#drainWaiters = [];
    this.#wakeReader();
    this.#closedSignal.resolve();
  }
}

/** Longest string {@linkcode encodeText} converts itself. */
const SHORT_TEXT = 512;

/**
 * UTF-8 bytes of `text`. A short ASCII string (an SMTP reply, most IMAP responses) is
 * copied char by char into the listener's slab, cheaper than a call into the encoder and an
 * array of its own.
 */
function encodeText(text: string, slab: ByteSlab): Uint8Array {
  if (text.length > SHORT_TEXT) return encoder.encode(text);
  return slab.ascii(text) ?? encoder.encode(text);
}
