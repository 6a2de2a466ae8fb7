/**
 * The connection registry of one listener: the connection limit, session start, error
 * guards and shutdown, the same for both connection kinds.
 *
 * @module
 */

import type {
  ConnectionHandler,
  ConnectionRegistry,
  ListenOptions,
  ManagedConnection,
} from "./connection.ts";

const SHUTDOWN_GRACE_MS = 2000;

/** Connection limit, session start, error guards and shutdown: the same for every listener. */
export function connectionRegistry(options: ListenOptions): ConnectionRegistry {
  const open = new Map<number, { connection: ManagedConnection; handler: ConnectionHandler }>();
  return {
    get size() {
      return open.size;
    },
    serve(connection) {
      if (open.size >= options.maxConnections) {
        options.logger.warn(
          `${options.name}: refused a connection, ${open.size} open (limit ${options.maxConnections})`,
        );
        connection.write(options.refusal);
        connection.end();
        return;
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
      const guard = (what: string, fn: () => void) => {
        try {
          fn();
        } catch (error) {
          options.logger.error(`${options.name}#${connection.id}: ${what} failed`, error);
          connection.destroy();
        }
      };
      connection.run({
        data: (chunk) => guard("session", () => handler.onData(chunk)),
        idle: () => guard("idle timeout", () => handler.onIdle()),
      }).finally(() => {
        open.delete(connection.id);
        guard("close", () => handler.onClose());
      });
    },
    async shutdown() {
      for (const { handler } of open.values()) {
        try {
          handler.onShutdown();
        } catch {
          // a failing session must not stop the shutdown of the others
        }
      }
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const remaining = [...open.values()].map(({ connection }) => connection.closedPromise);
      for (const { connection } of open.values()) connection.destroy();
      await Promise.all(remaining);
    },
  };
}
