/**
 * Ties IMAP sessions to the transport.
 *
 * @module
 */

import { InFlightBudget } from "../net/in_flight.ts";
import type { AuthGuard } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { listenerLimits, sessionHandler, sessionIo } from "../net/session_io.ts";
import { type Endpoint, listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/types.ts";
import type { ImapServerState } from "./context.ts";
import type { AddressColumns } from "./address_columns.ts";
import { SortOrders } from "./sort_cache.ts";
import { HeaderFieldItems } from "./header_fields.ts";
import { createImapSession } from "./session.ts";

/** What the IMAP listeners of one server share. */
export interface ImapServerOptions {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Fault injection; none when absent. */
  readonly chaos?: Chaos;
  /** Counts failed logins; none: not counted. */
  readonly authGuard?: AuthGuard;
  /** Address columns the index warmer fills (address_columns.ts); none: not used. */
  readonly addressColumns?: AddressColumns;
}

/** The IMAP side of a server: its listeners share one `\Recent` bookkeeping. */
export interface ImapServer {
  /** Starts a listener: by default the plain one on `config.imapPort`. */
  listen(endpoint?: Endpoint): Promise<Listener>;
  /** Stops following the store (after the listeners have closed). */
  close(): void;
}

/**
 * Creates the IMAP side of a server; the plain and the implicit-TLS listener it starts see
 * one server state, which follows the store's resets until {@linkcode ImapServer.close}.
 *
 * @example
 * ```ts
 * const imap = createImapServer({ config, store, logger });
 * const listener = await imap.listen();
 * // ...
 * await listener.close();
 * imap.close();
 * ```
 */
/**
 * Messages of the largest size whose APPEND literals the server's sessions may hold at once (100
 * MiB with the default 25 MiB limit): past it a literal is refused, `NO [LIMIT]`, before its `+`
 * (a synchronizing one) or after it is drained. 150 unfinished APPENDs of 25 MiB from one
 * address took a fresh server to 1 GB per 40 (hostile-client audit, round 34).
 */
const IN_FLIGHT_MESSAGES = 4;

export function createImapServer(options: ImapServerOptions): ImapServer {
  const { config, store } = options;
  const shared: ImapServerState = {
    recentClaims: new Map(),
    fieldItems: new HeaderFieldItems(),
    sortOrders: new SortOrders(),
    addressColumns: options.addressColumns,
    literalBudget: new InFlightBudget(IN_FLIGHT_MESSAGES * config.limits.maxMessageSize),
  };
  const unsubscribe = store.subscribe((event) => {
    if (event.type === "reset") shared.recentClaims.clear();
    // After these a mailbox name may hold other messages under the same UIDs.
    if (event.type === "reset") shared.sortOrders?.forget();
    if (event.type === "mailbox.deleted" || event.type === "mailbox.renamed") {
      shared.sortOrders?.forget(event.user);
    }
  });
  return {
    listen: (endpoint = { name: "imap", port: config.imapPort, tls: null }) =>
      startListener(options, shared, endpoint),
    close: unsubscribe,
  };
}

function startListener(
  { config, store, logger, chaos, authGuard }: ImapServerOptions,
  shared: ImapServerState,
  endpoint: Endpoint,
): Promise<Listener> {
  return listen({
    name: endpoint.name,
    ...listenerLimits(config, config.limits.imapIdleTimeoutMs),
    port: endpoint.port,
    tls: endpoint.tls,
    acceptFrom: endpoint.acceptFrom,
    logger,
    refusal: "* BYE Too many connections, try again later\r\n",
    accept(connection) {
      const label = `${endpoint.name}#${connection.id}`;
      logger.traffic(label, "S", `<connected from ${connection.remote}>`);
      const session = createImapSession({
        config,
        store,
        logger,
        label,
        shared,
        tls: connection.tls,
        chaos,
        authAttempts: authGuard?.connection(endpoint.name, connection.remote),
      }, sessionIo(connection));
      return sessionHandler(session, logger, label);
    },
  });
}
