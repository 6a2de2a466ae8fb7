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

/**
 * A client connection as protocol code sees it.
 *
 * Flow control is the transport's: no data is delivered while the unsent output is above
 * {@linkcode HIGH_WATER_MARK} (until it is back under {@linkcode LOW_WATER_MARK}), nor while
 * someone waits for {@linkcode drained}, nor while the session has paused it. So a peer that
 * does not read cannot make the server buffer without bound, whatever the protocol.
 */
export interface Connection {
  readonly id: number;
  /** `address:port` of the peer. */
  readonly remote: string;
  /** Queues bytes; returns false when the caller should wait for {@linkcode drained}. */
  write(data: Uint8Array | string): boolean;
  /**
   * Resolves once queued bytes have been handed to the OS (or the connection closed). No
   * data is delivered meanwhile: a session waiting for its output reads no more input.
   */
  drained(): Promise<void>;
  /** Stops delivering data until {@linkcode resume}. */
  pause(): void;
  resume(): void;
  /**
   * Whether message data is coming (SMTP after `354`): while it is, line ends do not satisfy
   * the receive deadline, only progress does (see `input_guard.ts`).
   */
  expectBody(on: boolean): void;
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
  /**
   * COMPRESS=DEFLATE (RFC 4978), once the go-ahead reply is written: from now on input is
   * inflated and output deflated (over TLS when it is active), with the same flow control and
   * input bounds on the plaintext side (see `compress.ts`). Throws if already compressed.
   */
  startCompression(): void;
}

/** What a protocol does with a connection's events. */
export interface ConnectionHandler {
  onData(chunk: Uint8Array): void;
  /**
   * Where the next read may put its bytes, which are then passed to {@linkcode onData} as a
   * view of that space (the IMAP framer's unfilled literal: no copy of the bytes); null or
   * absent: the transport's own buffer, copied.
   */
  readTarget?(): Uint8Array | null;
  /** The peer was idle longer than the timeout; the handler should say so and end. */
  onIdle(): void;
  /**
   * The peer started a command line (or message data) and did not finish it in time
   * (slowloris); the handler should say so. The transport ends the connection after it.
   * Absent: {@linkcode onIdle} is called instead.
   */
  onSlowInput?(): void;
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
  /** When the listener starts taking connections; see {@linkcode ListenOptions.acceptFrom}. */
  readonly acceptFrom?: Promise<void>;
}

export interface ListenOptions {
  /** Short protocol name for logs: `smtp`, `imap`, `smtps`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  /**
   * Open connections from one client address; absent:
   * {@linkcode defaultMaxConnectionsPerAddress} of `maxConnections`.
   */
  readonly maxConnectionsPerAddress?: number;
  readonly idleTimeoutMs: number;
  /**
   * How long a started command line may take to end, and message data to make progress
   * (see `input_guard.ts`); 0 turns it off; absent: {@linkcode DEFAULT_RECEIVE_TIMEOUT_MS}.
   */
  readonly receiveTimeoutMs?: number;
  readonly logger: Logger;
  /** Makes the handler of a new connection. */
  accept(connection: Connection): ConnectionHandler;
  /** Text written to a connection refused for being over a limit, before it is closed. */
  refusal: string;
  /** null or absent: a plain `Deno.listen` listener, no TLS. */
  readonly tls?: ListenTls | null;
  /**
   * The port is bound at once, but no connection is taken (greeted, read, counted) before this
   * settles: the server binds its ports before its startup warm-up and serves after it, so a
   * client that connects meanwhile waits in the kernel's backlog instead of being refused
   * (lib/server.ts). Absent: at once.
   */
  readonly acceptFrom?: Promise<void>;
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

/** What a running connection reports to its registry. */
export interface ConnectionEvents {
  data(chunk: Uint8Array): void;
  /** See {@linkcode ConnectionHandler.readTarget}. */
  readTarget?(): Uint8Array | null;
  idle(): void;
  /** The receive deadline passed; the connection ends right after. */
  slow(): void;
}

/** A connection as its listener drives it. */
export interface ManagedConnection extends Connection {
  /** The peer's address without the port, for the per-address limit. */
  readonly address: string;
  /** Delivers data and idle events until the connection closes. */
  run(events: ConnectionEvents): Promise<void>;
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

/**
 * Unsent output at which `write` asks the caller to wait and the transport stops reading.
 * 1 MiB is far above what a well-behaved client ever leaves unread (a pipelined batch of
 * SMTP replies is a few KB; IMAP FETCH writes out every 256 KiB and waits for the drain), so
 * only a peer that does not read meets it, yet 200 such connections hold at most ~200 MB
 * (plus what the last 64 KiB read produces) instead of whatever they can make us write.
 */
export const HIGH_WATER_MARK = 1024 * 1024;
/**
 * Unsent output under which reading starts again: well below the high-water mark, so a slow
 * reader does not flip the socket between paused and reading on every write.
 */
export const LOW_WATER_MARK = 256 * 1024;
/**
 * Default receive deadline (see `input_guard.ts`): long enough for a debugger breakpoint or
 * a human at a terminal in the middle of a line, short enough that a slowloris client gives
 * its slot back within a minute instead of holding it for good (each byte re-arms the idle
 * timer).
 */
export const DEFAULT_RECEIVE_TIMEOUT_MS = 60_000;
/** How long a closing connection may take to flush before it is cut. */
export const END_GRACE_MS = 5000;

/**
 * The default per-address limit: three quarters of the per-listener limit (150 of the
 * default 200). One address, a slowloris or a runaway client, can never take the last
 * quarter of the slots, so clients from other addresses still get in; a test suite on
 * loopback (all one address) keeps 150 parallel connections per protocol, well above 100
 * plus the lag between a client's close and the server's; raising `maxConnections` for a
 * bigger suite raises it too. On loopback it cannot tell an attacker from the suite: there
 * the receive deadline is what frees the slots.
 */
export function defaultMaxConnectionsPerAddress(maxConnections: number): number {
  return Math.max(1, Math.ceil(maxConnections * 3 / 4));
}

/** The host part of a socket address, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4. */
export function addressKey(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}

let lastConnectionId = 0;

/** A process-wide connection number, for logs. */
export function nextConnectionId(): number {
  return ++lastConnectionId;
}
