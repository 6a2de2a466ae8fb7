/**
 * The one transport module: TCP listeners, connection limits, idle timeouts, backpressure,
 * TLS and shutdown. Protocol code sees only {@linkcode Connection}.
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
  END_GRACE_MS,
  HIGH_WATER_MARK,
  type Listener,
  type ListenOptions,
  type ManagedConnection,
  nextConnectionId,
  type TlsState,
} from "./connection.ts";
import { connectionRegistry } from "./registry.ts";

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
/** Parts at least this large are written without copying; smaller ones are joined. */
const COALESCE_LIMIT = 64 * 1024;
const encoder = new TextEncoder();

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
  let closing = false;
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
      registry.serve(new SocketConnection(conn, options.idleTimeoutMs));
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
      listener.close();
      await accepting;
      await registry.shutdown();
    },
  };
}

/** A `Deno.TcpConn` with a write queue, pause/resume and an idle timer. */
class SocketConnection implements ManagedConnection {
  readonly id = nextConnectionId();
  readonly tls: TlsState = "off";
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

  startTls(): void {
    throw new Error("Cannot start TLS: this listener has no TLS");
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
