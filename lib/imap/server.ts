/**
 * Ties IMAP sessions to the transport.
 *
 * @module
 */

import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { type Endpoint, listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/types.ts";
import type { ImapServerState } from "./context.ts";
import { createImapSession } from "./session.ts";

/** Per store: the plain and the implicit-TLS listener see one `\Recent` bookkeeping. */
const serverStates = new WeakMap<Store, ImapServerState>();

function serverState(store: Store): ImapServerState {
  let shared = serverStates.get(store);
  if (!shared) {
    const state: ImapServerState = { recentClaims: new Map() };
    store.subscribe((event) => {
      if (event.type === "reset") state.recentClaims.clear();
    });
    serverStates.set(store, state);
    shared = state;
  }
  return shared;
}

/** Starts an IMAP listener: by default the plain one on `config.imapPort`; `chaos` injects faults. */
export function startImap(
  config: Config,
  store: Store,
  logger: Logger,
  endpoint: Endpoint = { name: "imap", port: config.imapPort, tls: null },
  chaos?: Chaos,
): Promise<Listener> {
  const shared = serverState(store);
  return listen({
    name: endpoint.name,
    host: config.bindAddr,
    port: endpoint.port,
    tls: endpoint.tls,
    maxConnections: config.limits.maxConnections,
    idleTimeoutMs: config.limits.imapIdleTimeoutMs,
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
      }, {
        write: (bytes) => connection.write(bytes),
        drained: () => connection.drained(),
        close: () => connection.end(),
        startTls: () => connection.startTls(),
      });
      session.start();
      return {
        onData: (chunk) => session.receive(chunk),
        onIdle: () => session.idle(),
        onShutdown: () => session.shutdown(),
        onClose: () => {
          session.closed();
          logger.traffic(label, "S", "<closed>");
        },
      };
    },
  });
}
