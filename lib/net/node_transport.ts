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
  type ConnectionRegistry,
  END_GRACE_MS,
  HIGH_WATER_MARK,
  type Listener,
  type ListenOptions,
  type ListenTls,
  type ManagedConnection,
  nextConnectionId,
  type TlsState,
} from "./connection.ts";

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
  server.on("connection", (socket: net.Socket) => {
    registry.serve(
      new NodeConnection(socket, {
        idleMs: options.idleTimeoutMs,
        mode: settings.mode,
        secureContext,
        handshakeTimeoutMs: settings.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        log: (id, text) => options.logger.traffic(`${options.name}#${id}`, "S", text),
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => options.logger.error(`${options.name}: accept failed`, error));
  const address = server.address() as net.AddressInfo;
  let closing = false;
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
      await registry.shutdown();
    },
  };
}

interface NodeConnectionOptions {
  readonly idleMs: number;
  readonly mode: ListenTls["mode"];
  readonly secureContext: tls.SecureContext;
  readonly handshakeTimeoutMs: number;
  /** Traffic log line for this connection (handshake failures). */
  readonly log: (id: number, text: string) => void;
}

/**
 * A `node:net` socket (later a `tls.TLSSocket` over it) as a {@linkcode ManagedConnection}:
 * the same write accounting, idle timer and close semantics as the `Deno.listen` one.
 */
class NodeConnection implements ManagedConnection {
  readonly id = nextConnectionId();
  readonly remote: string;
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
  #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #events: { data(chunk: Uint8Array): void; idle(): void } = { data: () => {}, idle: () => {} };
  readonly #closedSignal = Promise.withResolvers<void>();

  constructor(socket: net.Socket, options: NodeConnectionOptions) {
    this.#plain = socket;
    this.#socket = socket;
    this.#options = options;
    this.#idleMs = options.idleMs;
    this.remote = `${socket.remoteAddress ?? "unknown"}:${socket.remotePort ?? 0}`;
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

  run(events: { data(chunk: Uint8Array): void; idle(): void }): Promise<void> {
    this.#events = events;
    this.#armIdle();
    return this.#closedSignal.promise;
  }

  write(data: Uint8Array | string): boolean {
    if (this.#closed || this.#ending) return false;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length > 0) {
      if (this.#holding) {
        this.#held.push(bytes);
        this.#heldBytes += bytes.length;
      } else this.#send(bytes);
    }
    return this.#unflushed + this.#heldBytes < HIGH_WATER_MARK;
  }

  drained(): Promise<void> {
    if (this.#closed || this.#unflushed + this.#heldBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  pause(): void {
    if (!this.#upgrading) this.#socket.pause();
  }

  resume(): void {
    if (!this.#upgrading) this.#socket.resume();
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    this.#endTimer = setTimeout(() => this.#finish(), END_GRACE_MS);
    // While holding, the end follows the held writes once the handshake is done.
    if (!this.#holding) this.#socket.end(() => this.#finish());
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
    const handshake = () => {
      if (this.#closed) return;
      this.#socket = this.#secure(plain);
      this.#upgrading = false;
    };
    if (this.#unflushed === 0) handshake();
    else this.#flushWaiters.push(handshake);
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
      if (this.#ending) secure.end(() => this.#finish());
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
    this.#armIdle();
    // A plain Uint8Array view: a Buffer's slice() would not copy, which sessions rely on.
    this.#events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  #send(bytes: Uint8Array): void {
    this.#unflushed += bytes.length;
    this.#socket.write(bytes, () => {
      this.#unflushed -= bytes.length;
      if (this.#unflushed > 0) return;
      const flushed = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const resolve of flushed) resolve();
      if (this.#heldBytes > 0) return;
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#idleMs > 0 && !this.#closed
      ? setTimeout(() => this.#events.idle(), this.#idleMs)
      : undefined;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#endTimer);
    clearTimeout(this.#handshakeTimer);
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
