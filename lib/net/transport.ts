/**
 * The one transport module: TCP listeners, connection limits, idle timeouts, backpressure
 * and shutdown. Protocol code sees only {@linkcode Connection}.
 *
 * Plain listeners use `Deno.listen`: loading `node:net` costs ~20 ms of startup and ~6 MB
 * of memory. Server-side TLS upgrade (STARTTLS) works only through `node:tls` on a
 * `node:net` socket, so TLS-enabled listeners will load those lazily, here.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** A client connection as protocol code sees it. */
export interface Connection {
  readonly id: number;
  /** `address:port` of the peer. */
  readonly remote: string;
  /** Queues bytes; returns false when the caller should wait for {@linkcode drained}. */
  write(data: Uint8Array | string): boolean;
  /** Resolves once queued bytes have been handed to the OS (or the connection closed). */
  drained(): Promise<void>;
  /** Stops delivering data until {@linkcode resume}. */
  pause(): void;
  resume(): void;
  /** Flushes what was written, then closes. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  readonly closed: boolean;
  /** Changes the idle timeout (0 turns it off). */
  setIdleTimeout(ms: number): void;
}

/** What a protocol does with a connection's events. */
export interface ConnectionHandler {
  onData(chunk: Uint8Array): void;
  /** The peer was idle longer than the timeout; the handler should say so and end. */
  onIdle(): void;
  /** The server is stopping; the handler should say so (SMTP 421, IMAP BYE). */
  onShutdown(): void;
  onClose(): void;
}

export interface ListenOptions {
  /** Short protocol name for logs: `smtp`, `imap`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
  /** Makes the handler of a new connection. */
  accept(connection: Connection): ConnectionHandler;
  /** Text written to a connection refused for being over the limit, before it is closed. */
  refusal: string;
}

/** A listening socket. */
export interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Open connections. */
  readonly connections: number;
  /** Stops accepting, tells open sessions, waits briefly for them to close, then closes them. */
  close(): Promise<void>;
}

/** Queued output above which `write` asks the caller to wait. */
const HIGH_WATER_MARK = 1024 * 1024;
const READ_BUFFER_SIZE = 64 * 1024;
/** Parts at least this large are written without copying; smaller ones are joined. */
const COALESCE_LIMIT = 64 * 1024;
/** How long a closing connection may take to flush before it is cut. */
const END_GRACE_MS = 5000;
const SHUTDOWN_GRACE_MS = 2000;

let nextConnectionId = 1;
const encoder = new TextEncoder();

/** Starts listening. Rejects with the OS error (e.g. `AddrInUse`) if the port cannot be bound. */
export function listen(options: ListenOptions): Promise<Listener> {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  } catch (error) {
    return Promise.reject(error);
  }
  const open = new Map<number, { connection: SocketConnection; handler: ConnectionHandler }>();
  let closing = false;

  const serve = (conn: Deno.TcpConn) => {
    const connection = new SocketConnection(conn, options.idleTimeoutMs);
    if (open.size >= options.maxConnections) {
      options.logger.warn(
        `${options.name}: refused a connection, ${open.size} open (limit ${options.maxConnections})`,
      );
      connection.write(options.refusal);
      connection.end();
      return;
    }
    let handler: ConnectionHandler;
    try {
      handler = options.accept(connection);
    } catch (error) {
      options.logger.error(`${options.name}: cannot start a session`, error);
      connection.destroy();
      return;
    }
    open.set(connection.id, { connection, handler });
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        options.logger.error(`${options.name}#${connection.id}: ${what} failed`, error);
        connection.destroy();
      }
    };
    connection.run({
      data: (chunk) => guard("session", () => handler.onData(chunk)),
      idle: () => guard("idle timeout", () => handler.onIdle()),
    }).finally(() => {
      open.delete(connection.id);
      guard("close", () => handler.onClose());
    });
  };

  const accepting = (async () => {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        if (error instanceof Deno.errors.BadResource) return;
        options.logger.error(`${options.name}: accept failed`, error);
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      serve(conn);
    }
  })();

  const address = listener.addr as Deno.NetAddr;
  return Promise.resolve({
    name: options.name,
    host: address.hostname,
    port: address.port,
    get connections() {
      return open.size;
    },
    close: async () => {
      if (closing) return;
      closing = true;
      listener.close();
      await accepting;
      for (const { handler } of open.values()) {
        try {
          handler.onShutdown();
        } catch {
          // a failing session must not stop the shutdown of the others
        }
      }
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const remaining = [...open.values()].map(({ connection }) => connection.closedPromise);
      for (const { connection } of open.values()) connection.destroy();
      await Promise.all(remaining);
    },
  });
}

/** A `Deno.TcpConn` with a write queue, pause/resume and an idle timer. */
class SocketConnection implements Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  readonly #conn: Deno.TcpConn;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #ending = false;
  #closed = false;
  #drainWaiters: Array<() => void> = [];
  #resumeWaiter: (() => void) | null = null;
  #paused = false;
  #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #onIdle: () => void = () => {};
  readonly #closedSignal = Promise.withResolvers<void>();

  constructor(conn: Deno.TcpConn, idleMs: number) {
    this.#conn = conn;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    this.#idleMs = idleMs;
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closedPromise(): Promise<void> {
    return this.#closedSignal.promise;
  }

  /** Reads until the peer closes or the connection is destroyed. */
  async run(events: { data(chunk: Uint8Array): void; idle(): void }): Promise<void> {
    this.#onIdle = events.idle;
    this.#armIdle();
    const buffer = new Uint8Array(READ_BUFFER_SIZE);
    try {
      while (!this.#closed) {
        if (this.#paused) await new Promise<void>((resolve) => (this.#resumeWaiter = resolve));
        if (this.#closed) break;
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#armIdle();
        // The session may keep the chunk (literals, message data): hand it a copy.
        if (!this.#ending) events.data(buffer.slice(0, n));
      }
    } catch {
      // reset by peer, or destroyed while reading
    } finally {
      this.#finish();
    }
  }

  write(data: Uint8Array | string): boolean {
    if (this.#closed || this.#ending) return false;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length === 0) return this.#queued < HIGH_WATER_MARK;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) this.#pump();
    return this.#queued < HIGH_WATER_MARK;
  }

  drained(): Promise<void> {
    if (this.#closed || this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const waiter = this.#resumeWaiter;
    this.#resumeWaiter = null;
    waiter?.();
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing) this.#finish();
    else this.#endTimer = setTimeout(() => this.destroy(), END_GRACE_MS);
  }

  destroy(): void {
    this.#finish();
  }

  setIdleTimeout(ms: number): void {
    this.#idleMs = ms;
    this.#armIdle();
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#idleMs > 0 && !this.#closed
      ? setTimeout(() => this.#onIdle(), this.#idleMs)
      : undefined;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const parts = this.#queue;
        this.#queue = [];
        for (const chunk of coalesce(parts)) {
          let offset = 0;
          while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
          this.#queued -= chunk.length;
        }
      }
    } catch {
      this.#finish();
      return;
    } finally {
      this.#writing = false;
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.#ending) this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#endTimer);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#queue = [];
    this.#queued = 0;
    for (const resolve of this.#drainWaiters) resolve();
    this.#drainWaiters = [];
    this.resume();
    this.#closedSignal.resolve();
  }
}

/**
 * Groups queued writes into few syscalls without copying large buffers: small parts are
 * joined (responses are many short lines), a large part (a message body) goes out as is.
 */
function coalesce(parts: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let batched = 0;
  const close = () => {
    if (batch.length > 0) out.push(batch.length === 1 ? batch[0] : concat(batch));
    batch = [];
    batched = 0;
  };
  for (const part of parts) {
    if (part.length >= COALESCE_LIMIT) {
      close();
      out.push(part);
      continue;
    }
    batch.push(part);
    batched += part.length;
    if (batched >= COALESCE_LIMIT) close();
  }
  close();
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
