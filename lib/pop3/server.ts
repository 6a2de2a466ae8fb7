/**
 * Ties POP3 sessions to the transport: the plain listener (STLS where TLS is on) and the
 * implicit-TLS one share the maildrop locks, so one POP3 session per user holds its INBOX
 * whichever port it came in on.
 *
 * @module
 */

import { acceptsAnyCredentials } from "../auth.ts";
import type { AuthGuard } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { listenerLimits, sessionHandler, sessionIo } from "../net/session_io.ts";
import { type Endpoint, listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/types.ts";
import { MaildropLocks } from "./maildrop.ts";
import { createPop3Session } from "./session.ts";
import { errLine } from "./wire.ts";

/** What the POP3 listeners of one server share. */
export interface Pop3ServerOptions {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Fault injection; none when absent. */
  readonly chaos?: Chaos;
  /** Counts failed logins; none: not counted. */
  readonly authGuard?: AuthGuard;
}

/** The POP3 side of a server. */
export interface Pop3Server {
  /** Starts a listener: by default the plain one on `config.pop3Port`. */
  listen(endpoint?: Endpoint): Promise<Listener>;
}

/**
 * Creates the POP3 side of a server.
 *
 * @example
 * ```ts
 * const pop3 = createPop3Server({ config, store, logger });
 * const listener = await pop3.listen({ name: "pop3", port: 0, tls: null });
 * await listener.close();
 * ```
 */
export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const locks = new MaildropLocks();
  return {
    listen: (endpoint = { name: "pop3", port: options.config.pop3Port ?? 0, tls: null }) =>
      startListener(options, locks, endpoint),
  };
}

function startListener(
  { config, store, logger, chaos, authGuard }: Pop3ServerOptions,
  locks: MaildropLocks,
  endpoint: Endpoint,
): Promise<Listener> {
  return listen({
    name: endpoint.name,
    ...listenerLimits(config, config.limits.pop3IdleTimeoutMs),
    port: endpoint.port,
    tls: endpoint.tls,
    acceptFrom: endpoint.acceptFrom,
    logger,
    refusal: errLine("SYS/TEMP", "Too many connections, try again later."),
    accept(connection) {
      const label = `${endpoint.name}#${connection.id}`;
      logger.traffic(label, "S", `<connected from ${connection.remote}>`);
      const session = createPop3Session({
        config,
        store,
        logger,
        label,
        locks,
        tls: connection.tls,
        timestamp: acceptsAnyCredentials(config)
          ? null
          : apopTimestamp(connection.id, config.hostname),
        chaos,
        authAttempts: authGuard?.connection(endpoint.name, connection.remote),
      }, sessionIo(connection));
      return sessionHandler(session, logger, label);
    },
  });
}

/**
 * The APOP timestamp of a greeting (RFC 1939 7): `<connection.time.random@host>`, unique per
 * connection, so a digest seen once cannot be replayed.
 */
function apopTimestamp(connectionId: number, hostname: string): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const hex = [...random].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `<${connectionId}.${Date.now()}.${hex}@${hostname}>`;
}
