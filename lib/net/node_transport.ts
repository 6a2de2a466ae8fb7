/**
 * The TLS half of the transport: `node:net` listeners whose connections can switch to TLS
 * (STARTTLS) or start with it (implicit TLS), through `node:tls` (`Deno.startTls` is
 * client-only). Loaded by `transport.ts` only when TLS is on, so plain startup never loads
 * `node:net`; it shares nothing with that module but `connection.ts`.
 *
 * STARTTLS follows RFC 3207 4.2 and RFC 9051 6.2.1: once the session has written its go-ahead
 * it calls {@linkcode Connection.startTls}; from then on nothing more is read in plaintext
 * (the plain socket's data listener is removed and the socket paused, so bytes the client
 * pipelined after the command are never delivered), and the handshake begins when the
 * go-ahead has been flushed.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import {
  addressKey,
  type ConnectionEvents,
  type ConnectionRegistry,
  DEFAULT_RECEIVE_TIMEOUT_MS,
  END_GRACE_MS,
  HIGH_WATER_MARK,
  type Listener,
  type ListenOptions,
  type ListenTls,
  LOW_WATER_MARK,
  type ManagedConnection,
  nextConnectionId,
  type TlsState,
} from "./connection.ts";
import { DeflateLayer } from "./compress.ts";
import { Deadline } from "./deadline.ts";
import { countInput } from "./input_count.ts";
import { InputGuard } from "./input_guard.ts";

const encoder = new TextEncoder();
const HANDSHAKE_TIMEOUT_MS = 30_000;

/** Binds a `node:net` server whose connections offer STARTTLS or start with TLS. */
export async function listenNode(
  options: ListenOptions,
  settings: ListenTls,
  registry: ConnectionRegistry,
): Promise<Listener> {
  const secureContext = tls.createSecureContext({
    cert: settings.cert,
    key: settings.key,
    minVersion: "TLSv1.2",
  });
  const server = net.createServer();
  let closing = false;
  // Sockets accepted before options.acceptFrom settles: node:net accepts on its own, so they
  // wait here, unread (a socket is paused until it gets a data listener), for the gate.
  let waiting: net.Socket[] | null = options.acceptFrom ? [] : null;
  const ignore = () => {};
  const serve = (socket: net.Socket) =>
    registry.serve(
      new NodeConnection(socket, {
        idleMs: options.idleTimeoutMs,
        receiveTimeoutMs: options.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS,
        mode: settings.mode,
        secureContext,
        handshakeTimeoutMs: settings.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        log: (id, text) => options.logger.traffic(`${options.name}#${id}`, "S", text),
      }),
    );
  server.on("connection", (socket: net.Socket) => {
    if (waiting === null) return serve(socket);
    // As many as the listener would take at once; past that, closed (Deno.listen's wait in
    // the kernel's backlog is bounded by it). Sockets already destroyed (reset) do not count.
    if (waiting.length >= options.maxConnections) {
      waiting = waiting.filter((waiter) => !waiter.destroyed);
      if (waiting.length >= options.maxConnections) return void socket.destroy();
    }
    // A client that resets meanwhile must not be an uncaught error.
    socket.on("error", ignore);
    waiting.push(socket);
  });
  const open = () => {
    const sockets = waiting ?? [];
    waiting = null;
    for (const socket of sockets) {
      socket.off("error", ignore);
      if (closing || socket.destroyed) socket.destroy();
      else serve(socket);
    }
  };
  options.acceptFrom?.then(open, open);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => options.logger.error(`${options.name}: accept failed`, error));
  const address = server.address() as net.AddressInfo;
  return {
    name: options.name,
    host: address.address,
    port: address.port,
    get connections() {
      return registry.size;
    },
    close: async () => {
      if (closing) return;
      closing = true;
      server.close();
      // Those waiting for acceptFrom are dropped (and skipped if it settles later).
      for (const socket of waiting ?? []) socket.destroy();
      await registry.shutdown();
    },
  };
}

interface NodeConnectionOptions {
  readonly idleMs: number;
  readonly receiveTimeoutMs: number;
  readonly mode: ListenTls["mode"];
  readonly secureContext: tls.SecureContext;
  readonly handshakeTimeoutMs: number;
  /** Traffic log line for this connection (handshake failures). */
  readonly log: (id: number, text: string) => void;
}

/**
 * A `node:net` socket (later a `tls.TLSSocket` over it) as a {@linkcode ManagedConnection}:
 * the same write accounting, flow control, idle timer, receive deadline and close semantics
 * as the `Deno.listen` one. Reading stops with `pause()` on the socket data comes from and,
 * under a TLS socket, on the TCP handle too (see {@linkcode tcpReads}).
 */
class NodeConnection implements ManagedConnection {
  readonly id = nextConnectionId();
  readonly remote: string;
  readonly address: string;
  readonly #plain: net.Socket;
  /** What is read from and written to: the plain socket, or the TLS socket over it. */
  #socket: net.Socket;
  #tls: TlsState;
  readonly #options: NodeConnectionOptions;
  /** Bytes handed to the socket whose write callback has not run yet. */
  #unflushed = 0;
  /**
   * Writes made before the TLS handshake completed (the greeting of an implicit-TLS session,
   * anything written during STARTTLS): sent, encrypted, once it has. Writing them into the
   * TLS socket earlier leaves them waiting ~40 ms after the handshake in Deno's node:tls.
   */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #upgrading = false;
  /** The TLS handshake completed (only meaningful once TLS is active). */
  #handshaken = false;
  #closed = false;
  #ending = false;
  #drainWaiters: Array<() => void> = [];
  #flushWaiters: Array<() => void> = [];
  /** The session paused reading. */
  #paused = false;
  /** Unsent output reached the high-water mark and is not yet under the low-water mark. */
  #throttled = false;
  /** `#socket` is paused by the flow control. */
  #socketPaused = false;
  #idleMs: number;
  readonly #idleTimer = new Deadline(() => this.#events.idle());
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #events: ConnectionEvents = { data: () => {}, idle: () => {}, slow: () => {} };
  readonly #guard: InputGuard;
  readonly #closedSignal = Promise.withResolvers<void>();
  /** COMPRESS=DEFLATE, once started. */
  #deflate: DeflateLayer | null = null;
  /** `end()` was passed on to the socket. */
  #endSent = false;

  constructor(socket: net.Socket, options: NodeConnectionOptions) {
    this.#plain = socket;
    this.#socket = socket;
    this.#options = options;
    this.#idleMs = options.idleMs;
    this.remote = `${socket.remoteAddress ?? "unknown"}:${socket.remotePort ?? 0}`;
    this.address = addressKey(socket.remoteAddress ?? "unknown");
    this.#guard = new InputGuard(options.receiveTimeoutMs, () => this.#events.slow());
    try {
      socket.setNoDelay(true);
    } catch {
      // not fatal
    }
    // The plain socket's end of life is the connection's, whatever runs over it.
    socket.on("error", () => this.#finish());
    socket.on("close", () => this.#finish());
    if (options.mode === "implicit") {
      this.#tls = "active";
      this.#socket = this.#secure(socket);
    } else {
      this.#tls = "offered";
      socket.on("data", this.#onPlainData);
      socket.on("end", this.#onEnd);
    }
    this.#closeFieldsMutable();
  }

  /** Fields written on close and by flow control, written twice: see `SocketConnection`. */
  #closeFieldsMutable(): void {
    this.#paused = true;
    this.#paused = false;
    this.#throttled = true;
    this.#throttled = false;
    this.#ending = true;
    this.#ending = false;
    this.#endSent = true;
    this.#endSent = false;
    this.#closed = true;
    this.#closed = false;
    this.#held = [];
    this.#flushWaiters = [];
    this.#drainWaiters = [];
  }

  get tls(): TlsState {
    return this.#tls;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closedPromise(): Promise<void> {
    return this.#closedSignal.promise;
  }

  run(events: ConnectionEvents): Promise<void> {
    this.#events = events;
    this.#armIdle();
    return this.#closedSignal.promise;
  }

  write(data: Uint8Array | string): boolean {
    if (this.#closed || this.#ending) return false;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length > 0) {
      if (this.#deflate) this.#deflate.write(bytes);
      else if (this.#holding) {
        this.#held.push(bytes);
        this.#heldBytes += bytes.length;
      } else this.#send(bytes);
      if (this.#unsent >= HIGH_WATER_MARK && !this.#throttled) {
        this.#throttled = true;
        this.#updateFlow();
      }
    }
    return this.#unsent < HIGH_WATER_MARK;
  }

  drained(): Promise<void> {
    if (this.#closed || this.#unsent === 0) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    this.#updateFlow();
    return drained;
  }

  pause(): void {
    this.#paused = true;
    this.#updateFlow();
  }

  resume(): void {
    this.#paused = false;
    this.#updateFlow();
  }

  expectBody(on: boolean): void {
    this.#guard.expectBody(on);
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    this.#endTimer = setTimeout(() => this.#finish(), END_GRACE_MS);
    // While holding, the end follows the held writes once the handshake is done; while
    // compressing, the last flush.
    if (!this.#holding) this.#endSocket();
  }

  #endSocket(): void {
    if (this.#endSent || (this.#deflate?.pending ?? 0) > 0) return;
    this.#endSent = true;
    this.#socket.end(() => this.#finish());
  }

  /** Writes wait for the TLS handshake. */
  get #holding(): boolean {
    return this.#upgrading || (this.#tls === "active" && !this.#handshaken);
  }

  destroy(): void {
    this.#finish();
  }

  setIdleTimeout(ms: number): void {
    this.#idleMs = ms;
    this.#armIdle();
  }

  startTls(): void {
    if (this.#tls !== "offered") throw new Error(`Cannot start TLS: TLS is ${this.#tls}`);
    if (this.#closed || this.#ending) return;
    this.#tls = "active";
    this.#upgrading = true;
    const plain = this.#plain;
    plain.off("data", this.#onPlainData);
    plain.off("end", this.#onEnd);
    plain.pause();
    this.#guard.suspend();
    const handshake = () => {
      if (this.#closed) return;
      this.#socket = this.#secure(plain);
      this.#socketPaused = false;
      this.#upgrading = false;
      this.#guard.resume();
      this.#updateFlow();
    };
    if (this.#unflushed === 0) handshake();
    else this.#flushWaiters.push(handshake);
  }

  startCompression(): void {
    if (this.#deflate) throw new Error("Cannot start compression: it is active");
    if (this.#closed || this.#ending) return;
    this.#deflate = new DeflateLayer({
      send: (compressed) => this.#send(compressed),
      deliver: (plain) => {
        if (this.#closed || this.#ending) return;
        this.#guard.input(plain);
        this.#events.data(plain);
        this.#updateFlow();
      },
      progress: () => this.#progress(),
      fail: (reason) => {
        this.#options.log(this.id, `<${reason}>`);
        this.#finish();
      },
    });
  }

  /** The compressor flushed or the inflater took input: recheck flow control. */
  #progress(): void {
    if (this.#throttled && this.#unsent <= LOW_WATER_MARK) this.#throttled = false;
    if (this.#unsent === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.#ending) this.#endSocket();
    this.#updateFlow();
  }

  /** Wraps the plain socket in a server-side TLS socket and reads from that. */
  #secure(plain: net.Socket): tls.TLSSocket {
    const secure = new tls.TLSSocket(plain, {
      isServer: true,
      secureContext: this.#options.secureContext,
    });
    this.#handshakeTimer = setTimeout(() => {
      this.#options.log(this.id, "<TLS handshake timed out>");
      this.#finish();
    }, this.#options.handshakeTimeoutMs);
    secure.on("secure", () => {
      clearTimeout(this.#handshakeTimer);
      this.#handshaken = true;
      const held = this.#held;
      this.#held = [];
      this.#heldBytes = 0;
      for (const bytes of held) this.#send(bytes);
      if (this.#ending) this.#endSocket();
    });
    secure.on("data", (chunk: Uint8Array) => this.#deliver(chunk));
    secure.on("end", this.#onEnd);
    secure.on("error", (error: Error) => {
      this.#options.log(this.id, `<TLS failed: ${error.message.split("\n")[0]}>`);
      this.#finish();
    });
    secure.on("close", () => this.#finish());
    return secure;
  }

  readonly #onPlainData = (chunk: Uint8Array) => {
    if (!this.#upgrading) this.#deliver(chunk);
  };

  /**
   * The peer closed its side: flush what is queued, then close (as the Deno transport). A
   * peer gone before the TLS handshake cannot be written to: close at once.
   */
  readonly #onEnd = () => {
    if (this.#tls === "active" && !this.#handshaken) this.#finish();
    else this.end();
  };

  #deliver(chunk: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    countInput();
    this.#armIdle();
    // A plain Uint8Array view: a Buffer's slice() would not copy, which sessions rely on.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#deflate) {
      this.#deflate.input(bytes);
      if (this.#deflate.inputFull) this.#updateFlow();
      return;
    }
    this.#guard.input(bytes);
    this.#events.data(bytes);
  }

  /**
   * Output not yet handed to the OS: written to the socket, held for the handshake, or
   * still in the compressor.
   */
  get #unsent(): number {
    return this.#unflushed + this.#heldBytes + (this.#deflate?.pending ?? 0);
  }

  /**
   * Pauses or resumes the socket data comes from, as the flow control of
   * {@linkcode Connection} says. During STARTTLS the plain socket stays paused (nothing is
   * read in plaintext); the TLS socket gets the current state once it exists.
   */
  #updateFlow(): void {
    if (this.#closed || this.#upgrading) return;
    const deliver = !this.#paused && !this.#throttled && this.#drainWaiters.length === 0;
    this.#deflate?.flow(deliver);
    const stop = !deliver || (this.#deflate?.inputFull ?? false);
    if (stop === this.#socketPaused) return;
    this.#socketPaused = stop;
    if (stop) {
      this.#socket.pause();
      if (this.#socket !== this.#plain) tcpReads(this.#plain, false);
      this.#guard.suspend();
    } else {
      if (this.#socket !== this.#plain) tcpReads(this.#plain, true);
      this.#socket.resume();
      this.#guard.resume();
    }
  }

  #send(bytes: Uint8Array): void {
    this.#unflushed += bytes.length;
    this.#socket.write(bytes, () => {
      this.#unflushed -= bytes.length;
      if (this.#throttled && this.#unsent <= LOW_WATER_MARK) {
        this.#throttled = false;
        this.#updateFlow();
      }
      if (this.#unflushed > 0) return;
      const flushed = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const resolve of flushed) resolve();
      if (this.#unsent > 0) return;
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
      this.#updateFlow();
    });
  }

  #armIdle(): void {
    if (this.#idleMs > 0 && !this.#closed) this.#idleTimer.set(this.#idleMs);
    else this.#idleTimer.clear();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#idleTimer.stop();
    clearTimeout(this.#endTimer);
    clearTimeout(this.#handshakeTimer);
    this.#guard.stop();
    this.#deflate?.close();
    this.#socket.destroy();
    this.#plain.destroy();
    this.#held = [];
    this.#heldBytes = 0;
    this.#unflushed = 0;
    this.#flushWaiters = [];
    for (const resolve of this.#drainWaiters) resolve();
    this.#drainWaiters = [];
    this.#closedSignal.resolve();
  }
}

/**
 * Stops or restarts reads on the TCP handle under a TLS socket. Deno's `node:tls` (2.9) does
 * not pass a paused TLS socket on to the handle under it: the TLS layer goes on reading and
 * decrypting into memory as fast as the peer sends (hundreds of MB in seconds from a peer
 * that does not read). The handle is internal API, so this degrades to nothing without it.
 */
function tcpReads(plain: net.Socket, on: boolean): void {
  const handle = (plain as unknown as { _handle?: TcpHandle | null })._handle;
  if (on) handle?.readStart?.();
  else handle?.readStop?.();
}

interface TcpHandle {
  readStart?(): number;
  readStop?(): number;
}
