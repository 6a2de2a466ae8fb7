/**
 * What the transport and the protocols share: the {@linkcode Connection} protocol code sees,
 * the options and handles of a listener, and what both connection kinds (`Deno.listen` in
 * `transport.ts`, `node:net` in `node_transport.ts`) implement for the connection registry
 * (`registry.ts`). Types and constants only, so neither kind imports the other.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/**
 * TLS on a connection: `off` (this listener has none), `offered` (plaintext now, STARTTLS
 * possible) or `active` (implicit TLS, or after STARTTLS).
 */
export type TlsState = "off" | "offered" | "active";

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
  readonly tls: TlsState;
  /**
   * STARTTLS, once the go-ahead reply is written: from now on no plaintext is read (bytes
   * the client pipelined after the command are dropped, never delivered); the handshake
   * starts when everything written so far has been flushed. Writes made meanwhile go out
   * encrypted. Throws unless {@linkcode tls} is `offered`.
   */
  startTls(): void;
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

/** TLS on a listener: STARTTLS offered on a plain port, or TLS from the first byte. */
export interface ListenTls {
  readonly mode: "starttls" | "implicit";
  /** PEM certificate chain and private key. */
  readonly cert: string;
  readonly key: string;
  /** A client that has not completed the handshake by then is cut off (default 30 s). */
  readonly handshakeTimeoutMs?: number;
}

/** Where a protocol listens: its name in logs and the banner, the port, TLS on it. */
export interface Endpoint {
  readonly name: string;
  readonly port: number;
  readonly tls: ListenTls | null;
}

export interface ListenOptions {
  /** Short protocol name for logs: `smtp`, `imap`, `smtps`. */
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
  /** null or absent: a plain `Deno.listen` listener, no TLS. */
  readonly tls?: ListenTls | null;
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

/** A connection as its listener drives it. */
export interface ManagedConnection extends Connection {
  /** Delivers data and idle events until the connection closes. */
  run(events: { data(chunk: Uint8Array): void; idle(): void }): Promise<void>;
  readonly closedPromise: Promise<void>;
}

/** The open connections of one listener; see {@linkcode connectionRegistry}. */
export interface ConnectionRegistry {
  readonly size: number;
  /** Refuses the connection when over the limit, else starts its session and runs it. */
  serve(connection: ManagedConnection): void;
  /** Tells open sessions, waits briefly for them to close, then closes the rest. */
  shutdown(): Promise<void>;
}

/** Queued output above which `write` asks the caller to wait. */
export const HIGH_WATER_MARK = 1024 * 1024;
/** How long a closing connection may take to flush before it is cut. */
export const END_GRACE_MS = 5000;

let lastConnectionId = 0;

/** A process-wide connection number, for logs. */
export function nextConnectionId(): number {
  return ++lastConnectionId;
}
