/**
 * `startElektromail()`: the one entry point for the binary, the tests and embedders.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { type HttpListener, startHttp } from "./http/server.ts";
import { type Logger, quietLogger } from "./log.ts";
import type { Listener } from "./net/transport.ts";
import { startImap } from "./imap/server.ts";
import { startSmtp } from "./smtp/server.ts";
import { openMemoryStore, openSqliteStore, type Store } from "./store/mod.ts";

/** The bound ports; `http` is null when the control plane is off. */
export interface Ports {
  readonly smtp: number;
  readonly imap: number;
  readonly http: number | null;
}

/** A running server. */
export interface Elektromail {
  readonly config: Config;
  readonly ports: Ports;
  readonly store: Store;
  /** One line per listener: `smtp 127.0.0.1:2525`. */
  readonly listeners: ReadonlyArray<{ name: string; host: string; port: number }>;
  /** Stops accepting, tells open sessions (SMTP 421, IMAP BYE), closes the store. */
  stop(): Promise<void>;
}

/** Options for embedding. */
export interface StartOptions {
  /** Defaults to a logger that prints only errors. */
  logger?: Logger;
  /** Use this store instead of opening one from `config.dbPath`. */
  store?: Store;
}

/** Why the server could not start: which setting, and what went wrong. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

/**
 * Opens the store and starts every listener. Port 0 picks a free port; the bound ports are
 * in the result. Each call has its own store and state.
 *
 * @example
 * ```ts
 * const server = await startElektromail(testConfig());
 * console.log(server.ports.smtp);
 * await server.stop();
 * ```
 */
export async function startElektromail(
  config: Config,
  options: StartOptions = {},
): Promise<Elektromail> {
  const logger = options.logger ?? quietLogger();
  const store = options.store ?? openStore(config);
  const started: Array<Listener | (HttpListener & { name: string })> = [];
  let stopped = false;
  const stopAll = async () => {
    await Promise.allSettled(started.map((listener) => listener.close()));
  };
  try {
    started.push(
      await bind(
        "SMTP_PORT (--smtp-port)",
        config.smtpPort,
        () => startSmtp(config, store, logger),
      ),
    );
    const smtp = started[0];
    const imap = await bind(
      "IMAP_PORT (--imap-port)",
      config.imapPort,
      () => startImap(config, store, logger),
    );
    started.push(imap);
    let http: HttpListener | null = null;
    if (config.httpPort !== null) {
      http = await bind("HTTP_PORT (--http-port)", config.httpPort, () =>
        startHttp({
          config,
          store,
          logger,
          healthy: () => !stopped,
          ports: () => ({ smtp: smtp.port, imap: imap.port, http: http?.port ?? null }),
        }));
      started.push({ ...http, name: "http" });
    }
    return {
      config,
      ports: { smtp: smtp.port, imap: imap.port, http: http?.port ?? null },
      store,
      listeners: started.map(({ name, host, port }) => ({ name, host, port })),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
        if (!options.store) store.close();
      },
    };
  } catch (error) {
    await stopAll();
    if (!options.store) store.close();
    throw error;
  }
}

function openStore(config: Config): Store {
  if (config.dbPath === null) return openMemoryStore();
  try {
    return openSqliteStore(config.dbPath);
  } catch (error) {
    throw new StartError(
      `ELEKTROMAIL_DB (--db): cannot open ${config.dbPath}: ${(error as Error).message}`,
    );
  }
}

async function bind<T>(variable: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    if (code === "EADDRINUSE" || code === "AddrInUse") {
      throw new StartError(`${variable}: port ${port} is already in use (0 picks a free port)`);
    }
    if (code === "EACCES" || code === "PermissionDenied") {
      throw new StartError(`${variable}: not allowed to listen on port ${port}`);
    }
    if (code === "EADDRNOTAVAIL" || code === "AddrNotAvailable") {
      throw new StartError("BIND_ADDR (--bind-addr): the address is not available on this machine");
    }
    throw new StartError(`${variable}: cannot listen on port ${port}: ${(error as Error).message}`);
  }
}
