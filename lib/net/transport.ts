/**
 * The one transport module: TCP listeners over `node:net` (server-side TLS upgrade needs
 * `node:tls`, which only works on `node:net` sockets), connection limits, idle timeouts,
 * backpressure, and shutdown. Protocol code sees only {@linkcode Connection}.
 *
 * @module
 */

import net from "node:net";
import type { Logger } from "../log.ts";

/** A client connection as protocol code sees it. */
export interface Connection {
  readonly id: number;
  /** `address:port` of the peer. */
  readonly remote: string;
  /** Queues bytes; returns false when the caller should wait for {@linkcode drained}. */
  write(data: Uint8Array | string): boolean;
  /** Resolves once queued bytes have been handed to the OS. */
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

let nextConnectionId = 1;

/**
 * Starts listening. Rejects with the OS error (e.g. `EADDRINUSE`) if the port cannot be bound.
 */
export function listen(options: ListenOptions): Promise<Listener> {
  const open = new Map<net.Socket, { connection: Connection; handler: ConnectionHandler }>();
  const server = net.createServer({ pauseOnConnect: false }, (socket) => {
    if (open.size >= options.maxConnections) {
      socket.end(options.refusal);
      setTimeout(() => socket.destroy(), 1000).unref?.();
      options.logger.warn(
        `${options.name}: refused a connection, ${open.size} open (limit ${options.maxConnections})`,
      );
      return;
    }
    const connection = wrapSocket(socket, options.idleTimeoutMs);
    let handler: ConnectionHandler;
    try {
      handler = options.accept(connection);
    } catch (error) {
      options.logger.error(`${options.name}: cannot start a session`, error);
      socket.destroy();
      return;
    }
    open.set(socket, { connection, handler });
    socket.on("data", (chunk: Uint8Array) => {
      try {
        handler.onData(chunk);
      } catch (error) {
        options.logger.error(`${options.name}#${connection.id}: session failed`, error);
        socket.destroy();
      }
    });
    socket.on("timeout", () => handler.onIdle());
    socket.on("error", () => {}); // resets and the like: "close" follows
    socket.on("close", () => {
      open.delete(socket);
      try {
        handler.onClose();
      } catch (error) {
        options.logger.error(`${options.name}#${connection.id}: close failed`, error);
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off("error", reject);
      server.on("error", (error) => options.logger.error(`${options.name}: listener error`, error));
      const address = server.address() as net.AddressInfo;
      resolve({
        name: options.name,
        host: address.address,
        port: address.port,
        get connections() {
          return open.size;
        },
        close: async () => {
          const closed = new Promise<void>((done) => server.close(() => done()));
          for (const { handler } of open.values()) {
            try {
              handler.onShutdown();
            } catch {
              // a failing session must not stop the shutdown of the others
            }
          }
          const deadline = Date.now() + 2000;
          while (open.size > 0 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 10));
          }
          for (const socket of open.keys()) socket.destroy();
          await closed;
        },
      });
    });
  });
}

function wrapSocket(socket: net.Socket, idleTimeoutMs: number): Connection {
  socket.setNoDelay(true);
  if (idleTimeoutMs > 0) socket.setTimeout(idleTimeoutMs);
  const id = nextConnectionId++;
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  return {
    id,
    remote,
    write: (data) => socket.destroyed ? false : socket.write(data),
    drained: () =>
      socket.destroyed || socket.writableLength === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
          const done = () => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        }),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => {
      if (!socket.destroyed) socket.end();
      // A peer that never reads must not hold the socket open.
      setTimeout(() => socket.destroy(), 5000).unref?.();
    },
    destroy: () => socket.destroy(),
    get closed() {
      return socket.destroyed;
    },
    setIdleTimeout: (ms) => socket.setTimeout(ms),
  };
}
