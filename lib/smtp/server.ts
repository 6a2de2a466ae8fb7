/**
 * Ties SMTP sessions to the transport.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/mod.ts";
import { reply } from "./reply.ts";
import { createSmtpSession } from "./session.ts";

/** Starts the SMTP listener on `config.smtpPort`. */
export function startSmtp(config: Config, store: Store, logger: Logger): Promise<Listener> {
  let queueCounter = 0;
  return listen({
    name: "smtp",
    host: config.bindAddr,
    port: config.smtpPort,
    maxConnections: config.limits.maxConnections,
    idleTimeoutMs: config.limits.smtpIdleTimeoutMs,
    logger,
    refusal: reply(421, "4.7.0", `${config.hostname} Too many connections, try again later`),
    accept(connection) {
      const label = `smtp#${connection.id}`;
      logger.traffic(label, "S", `<connected from ${connection.remote}>`);
      const session = createSmtpSession({
        config,
        store,
        logger,
        remote: connection.remote,
        label,
        nextQueueId: () => `EM${(++queueCounter).toString(36).toUpperCase().padStart(6, "0")}`,
        now: Date.now,
      }, {
        write: (text) => connection.write(text),
        close: () => connection.end(),
      });
      session.start();
      return {
        onData: (chunk) => session.receive(chunk),
        onIdle: () => session.idle(),
        onShutdown: () => session.shutdown(),
        onClose: () => logger.traffic(label, "S", "<closed>"),
      };
    },
  });
}
