/**
 * The connection registry of one listener: the connection limits (per listener and per
 * client address), session start, error guards, the receive deadline's cut-off and
 * shutdown, the same for both connection kinds.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import {
  type ConnectionHandler,
  type ConnectionRegistry,
  defaultMaxConnectionsPerAddress,
  type ListenOptions,
  type ManagedConnection,
} from "./connection.ts";
import { countInput } from "./input_count.ts";
import { sleep } from "./timer.ts";

const SHUTDOWN_GRACE_MS = 2000;
/**
 * Refusals and cut-offs are logged once per this interval per kind, with a count: a flood of
 * connections (the very thing the limits stop) must not become a flood of log lines.
 */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Connection limits, session start, error guards and shutdown: the same for every listener. */
export function connectionRegistry(options: ListenOptions): ConnectionRegistry {
  const open = new Map<number, { connection: ManagedConnection; handler: ConnectionHandler }>();
  const perAddress = new Map<string, number>();
  const perAddressLimit = options.maxConnectionsPerAddress ??
    defaultMaxConnectionsPerAddress(options.maxConnections);
  const log = intervalLog(options.logger, REFUSAL_LOG_INTERVAL_MS);
  const refuse = (connection: ManagedConnection, kind: string, text: string) => {
    log.note(kind, `${options.name}: ${text}`);
    connection.write(options.refusal);
    connection.end();
  };
  return {
    get size() {
      return open.size;
    },
    serve(connection) {
      // A client came: the index warmer's idle slices wait (input_count.ts).
      countInput();
      const { address } = connection;
      const fromAddress = perAddress.get(address) ?? 0;
      if (open.size >= options.maxConnections) {
        return refuse(
          connection,
          "listener",
          `refused a connection, ${open.size} open (limit ${options.maxConnections})`,
        );
      }
      if (fromAddress >= perAddressLimit) {
        return refuse(
          connection,
          "address",
          `refused a connection from ${address}, ${fromAddress} open from there ` +
            `(limit ${perAddressLimit} per address)`,
        );
      }
      let handler: ConnectionHandler;
      try {
        handler = options.accept(connection);
      } catch (error) {
        options.logger.error(`${options.name}: cannot start a session`, error);
        connection.destroy();
        return;
      }
      open.set(connection.id, { connection, handler });
      perAddress.set(address, fromAddress + 1);
      const guard = (what: string, fn: () => void) => {
        try {
          fn();
        } catch (error) {
          options.logger.error(`${options.name}#${connection.id}: ${what} failed`, error);
          connection.destroy();
        }
      };
      connection.run({
        // Called per read: no closure made for the guard.
        data: (chunk) => {
          try {
            handler.onData(chunk);
          } catch (error) {
            options.logger.error(`${options.name}#${connection.id}: session failed`, error);
            connection.destroy();
          }
        },
        // Absent when the handler has none (SMTP, POP3): the transport then asks nothing per read.
        readTarget: handler.readTarget && (() => handler.readTarget?.() ?? null),
        idle: () => guard("idle timeout", () => handler.onIdle()),
        slow: () => {
          log.note(
            "slow",
            `${options.name}: cut off ${address}: a command line or message data did not ` +
              `arrive in time`,
          );
          guard("receive timeout", () => (handler.onSlowInput ?? handler.onIdle).call(handler));
          connection.end();
        },
      }).finally(() => {
        open.delete(connection.id);
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
        guard("close", () => handler.onClose());
      });
    },
    async shutdown() {
      log.close();
      for (const { handler } of open.values()) {
        try {
          handler.onShutdown();
        } catch {
          // a failing session must not stop the shutdown of the others
        }
      }
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      // Not the global setTimeout, which loads Deno's Node timers (lib/net/timer.ts): the startup
      // warm-up's private SMTP listener shuts down with its connection still closing.
      while (open.size > 0 && Date.now() < deadline) await sleep(10);
      const remaining = [...open.values()].map(({ connection }) => connection.closedPromise);
      for (const { connection } of open.values()) connection.destroy();
      await Promise.all(remaining);
    },
  };
}

/** A warning log that says the first event of a kind at once, then one count per interval. */
interface IntervalLog {
  note(kind: string, text: string): void;
  /** Logs what is still counted and stops the timer. */
  close(): void;
}

function intervalLog(logger: Logger, intervalMs: number): IntervalLog {
  /** Kinds logged in this interval -> events not logged since, and the latest text. */
  const quiet = new Map<string, { count: number; text: string }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const seconds = Math.round(intervalMs / 1000);
  const summarize = () => {
    for (const [kind, { count, text }] of quiet) {
      if (count === 0) quiet.delete(kind);
      else {
        logger.warn(`${text} (${count} like it in the last ${seconds} s)`);
        quiet.set(kind, { count: 0, text });
      }
    }
  };
  const tick = () => {
    summarize();
    timer = quiet.size > 0 ? later() : undefined;
  };
  const later = () => {
    const id = setTimeout(tick, intervalMs);
    // A pending summary must not keep the process alive.
    Deno.unrefTimer(id);
    return id;
  };
  return {
    note(kind, text) {
      const seen = quiet.get(kind);
      if (seen) {
        seen.count++;
        seen.text = text;
        return;
      }
      logger.warn(text);
      quiet.set(kind, { count: 0, text });
      timer ??= later();
    },
    close() {
      // Only when one is pending: even `clearTimeout(undefined)` loads Deno's Node timers
      // (lib/net/timer.ts), and the startup warm-up's private SMTP listener closes.
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      summarize();
      quiet.clear();
    },
  };
}
