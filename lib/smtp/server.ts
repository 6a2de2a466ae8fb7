/**
 * Ties SMTP sessions to the transport.
 *
 * @module
 */

import { InFlightBudget } from "../net/in_flight.ts";
import type { AuthGuard } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { messageSlab } from "../delivery.ts";
import { listenerLimits, sessionHandler, sessionIo } from "../net/session_io.ts";
import { type Endpoint, listen, type Listener } from "../net/transport.ts";
import type { Store } from "../store/types.ts";
import { reply } from "./reply.ts";
import { createSmtpSession } from "./session.ts";

/**
 * Bytes per slab the listener cuts delivered messages from: a few dozen typical messages of
 * a few KB share one allocation (an `ArrayBuffer` each cost V8 an allocation, its external
 * memory accounting and a sweep, per message kept).
 */
const MESSAGE_SLAB_SIZE = 64 * 1024;

/**
 * Messages of the largest size whose data a listener's connections may hold at once (100 MiB
 * with the default 25 MiB limit); past it a message is refused at its end, `452 4.3.1`
 * (lib/net/in_flight.ts). Ordinary traffic is nowhere near it: a message's data is held only
 * until its final dot, and delivered then.
 */
const IN_FLIGHT_MESSAGES = 4;

/**
 * Starts an SMTP listener: by default the plain one on `config.smtpPort`; `chaos` injects
 * faults, `authGuard` counts failed AUTHs.
 */
export function startSmtp(
  config: Config,
  store: Store,
  logger: Logger,
  endpoint: Endpoint = { name: "smtp", port: config.smtpPort, tls: null },
  chaos?: Chaos,
  authGuard?: AuthGuard,
): Promise<Listener> {
  let queueCounter = 0;
  const slab = messageSlab(MESSAGE_SLAB_SIZE, store);
  const dataBudget = new InFlightBudget(IN_FLIGHT_MESSAGES * config.limits.maxMessageSize);
  // Queue ids are unique within the server: the implicit-TLS listener counts on its own.
  const queuePrefix = endpoint.name === "smtp" ? "EM" : "ES";
  return listen({
    name: endpoint.name,
    ...listenerLimits(config, config.limits.smtpIdleTimeoutMs),
    port: endpoint.port,
    tls: endpoint.tls,
    acceptFrom: endpoint.acceptFrom,
    logger,
    refusal: reply(421, "4.7.0", `${config.hostname} Too many connections, try again later`),
    accept(connection) {
      const label = `${endpoint.name}#${connection.id}`;
      logger.traffic(label, "S", `<connected from ${connection.remote}>`);
      const session = createSmtpSession({
        config,
        store,
        logger,
        remote: connection.remote,
        label,
        nextQueueId: () =>
          `${queuePrefix}${(++queueCounter).toString(36).toUpperCase().padStart(6, "0")}`,
        now: Date.now,
        tls: connection.tls,
        chaos,
        authAttempts: authGuard?.connection(endpoint.name, connection.remote),
        messageSlab: slab,
        dataBudget,
      }, sessionIo(connection));
      return sessionHandler(session, logger, label);
    },
  });
}
