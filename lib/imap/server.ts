/**
 * Ties IMAP sessions to the transport.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/mod.ts";
import type { ImapServerState } from "./context.ts";
import { createImapSession } from "./session.ts";

/** Starts the IMAP listener on `config.imapPort`. */
export function startImap(config: Config, store: Store, logger: Logger): Promise<Listener> {
  const shared: ImapServerState = { recentClaims: new Map() };
  store.subscribe((event) => {
    if (event.type === "reset") shared.recentClaims.clear();
  });
  return listen({
    name: "imap",
    host: config.bindAddr,
    port: config.imapPort,
    maxConnections: config.limits.maxConnections,
    idleTimeoutMs: config.limits.imapIdleTimeoutMs,
    logger,
    refusal: "* BYE Too many connections, try again later\r\n",
    accept(connection) {
      const label = `imap#${connection.id}`;
      logger.traffic(label, "S", `<connected from ${connection.remote}>`);
      const session = createImapSession({ config, store, logger, label, shared }, {
        write: (bytes) => connection.write(bytes),
        drained: () => connection.drained(),
        close: () => connection.end(),
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
