/**
 * What every protocol's listener hands its sans-IO session, and what it hands the transport
 * back: the two adapters between a {@linkcode Connection} and a session driver, written once
 * for SMTP, IMAP and POP3.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Connection, ConnectionHandler } from "./connection.ts";

/** A session's writer over a connection: every operation a session may ask of it. */
export function sessionIo(connection: Connection) {
  return {
    write: (data: Uint8Array | string) => connection.write(data),
    drained: () => connection.drained(),
    pause: () => connection.pause(),
    resume: () => connection.resume(),
    close: () => connection.end(),
    startTls: () => connection.startTls(),
    startCompression: () => connection.startCompression(),
    expectBody: (on: boolean) => connection.expectBody(on),
  };
}

/** The transport's events as a session driver takes them. */
export interface SessionEvents {
  receive(chunk: Uint8Array): void;
  /** See {@linkcode ConnectionHandler.readTarget}. */
  readTarget?(): Uint8Array | null;
  idle(): void;
  slowInput(): void;
  shutdown(): void;
  /** The connection is gone (absent: nothing to release). */
  closed?(): void;
}

/** Starts `session` and routes the connection's events to it; logs the close. */
export function sessionHandler(
  session: SessionEvents & { start(): void },
  logger: Logger,
  label: string,
): ConnectionHandler {
  session.start();
  return {
    onData: (chunk) => session.receive(chunk),
    readTarget: session.readTarget && (() => session.readTarget?.() ?? null),
    onIdle: () => session.idle(),
    onSlowInput: () => session.slowInput(),
    onShutdown: () => session.shutdown(),
    onClose: () => {
      session.closed?.();
      logger.traffic(label, "S", "<closed>");
    },
  };
}

/** The listener settings every protocol takes from the configuration, with its idle time. */
export function listenerLimits(config: Config, idleTimeoutMs: number) {
  return {
    host: config.bindAddr,
    maxConnections: config.limits.maxConnections,
    maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
    receiveTimeoutMs: config.limits.receiveTimeoutMs,
    idleTimeoutMs,
  };
}
