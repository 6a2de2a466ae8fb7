/**
 * `startElektromail()`: the one entry point for the binary, the tests and embedders.
 *
 * @module
 */

import { AuthGuard } from "./auth_guard.ts";
import { Chaos } from "./chaos/mod.ts";
import type { Config } from "./config.ts";
import type { HttpListener } from "./http/server.ts";
import { collectWhenIdle, majorGc, type PendingCollection } from "./full_gc.ts";
import { type Logger, quietLogger } from "./log.ts";
import { inputCount } from "./net/input_count.ts";
import type { TlsMaterial } from "./net/tls.ts";
import { startTimer } from "./net/timer.ts";
import type { Endpoint, Listener, ListenTls } from "./net/connection.ts";
import { createImapServer } from "./imap/server.ts";
import { AddressColumns } from "./imap/address_columns.ts";
import { startIndexWarmer } from "./imap/warm.ts";
import { BEFORE_LISTENERS_LIMIT_MS, warmUpBeforeListeners } from "./imap/warm_up.ts";
import type { Pop3Server } from "./pop3/server.ts";
import { startSmtp } from "./smtp/server.ts";
import { SHARED_BYTES } from "./mail/shared_bytes.ts";
import { openMemoryStore } from "./store/memory.ts";
import type { Store } from "./store/types.ts";

/** The bound ports; null for a listener that is off. */
export interface Ports {
  readonly smtp: number;
  readonly imap: number;
  /** null: POP3 is off. */
  readonly pop3: number | null;
  readonly http: number | null;
  /** Implicit-TLS SMTP. */
  readonly smtps: number | null;
  /** Implicit-TLS IMAP. */
  readonly imaps: number | null;
  /** Implicit-TLS POP3. */
  readonly pop3s: number | null;
}

/** The server's certificate, for clients to trust (`GET /tls/cert`). */
export type TlsInfo = Omit<TlsMaterial, "key">;

/** A running server. */
export interface Elektromail {
  readonly config: Config;
  readonly ports: Ports;
  readonly store: Store;
  /** Fault-injection rules (what `POST /chaos` changes). */
  readonly chaos: Chaos;
  /** The certificate, or null when TLS is off. */
  readonly tls: TlsInfo | null;
  /** One line per listener: `smtp 127.0.0.1:2525`. */
  readonly listeners: ReadonlyArray<{ name: string; host: string; port: number }>;
  /** Stops accepting, tells open sessions (SMTP 421, IMAP BYE, POP3 -ERR), closes the store. */
  stop(): Promise<void>;
}

/** Options for embedding. */
export interface StartOptions {
  /** Defaults to a logger that prints only errors. */
  logger?: Logger;
  /** Use this store instead of opening one from `config.dbPath`. */
  store?: Store;
  /**
   * Warm the JIT before the listeners take connections (lib/imap/warm_up.ts; ~30 ms of the
   * start): the program does, so the first commands of a fresh server run compiled code;
   * embedders that start many servers in one process (tests) need it once at most.
   */
  warmUp?: boolean;
}

/** Why the server could not start: which setting, and what went wrong. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

/**
 * Answers the shared-bytes ledger (lib/mail/shared_bytes.ts) once enough mail the memory
 * store let go, or bytes it never kept, may be garbage: the full collection V8 would have
 * started had it counted them, in a timer's turn of its own, so the store call or the read
 * in progress ends first. One answer serves every server in the process.
 */
function collectSharedGarbage(): void {
  startTimer(0, () => {
    majorGc().then(() => SHARED_BYTES.collected(), () => SHARED_BYTES.collected());
  });
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
  SHARED_BYTES.onThreshold ??= collectSharedGarbage;
  // Loaded only with a POP3 listener (POP3_PORT or POP3S_PORT), as HTTP is only with its port.
  const pop3Module = config.pop3Port !== null || config.tls?.pop3sPort != null
    ? await import("./pop3/server.ts")
    : null;
  // Loaded only with TLS on, as the TLS transport and the SQLite store are.
  const tls = config.tls
    ? await (await import("./net/tls.ts")).loadTlsMaterial({
      tls: config.tls,
      dbPath: config.dbPath,
      hostname: config.hostname,
      bindAddr: config.bindAddr,
      logger,
    })
    : null;
  const tlsInfo: TlsInfo | null = tls && {
    cert: tls.cert,
    fingerprint: tls.fingerprint,
    names: tls.names,
    validTo: tls.validTo,
    origin: tls.origin,
  };
  // Mail is indexed as it is delivered while someone may read it at once (see warm.ts).
  let readersConnected = () => true;
  const readersNow = () => readersConnected();
  const store = options.store ?? await openStore(config, logger, readersNow);
  const chaos = new Chaos(config.chaos);
  // One per server: failed logins over IMAP and SMTP count together, per client address.
  const authGuard = new AuthGuard(config.limits, logger);
  // Filled by the warmer as mail is indexed, read by IMAP address searches.
  const addressColumns = new AddressColumns();
  const warmer = startIndexWarmer(store, {
    addressColumns,
    indexAtDelivery: readersNow,
    inputCount,
  });
  const imapServer = createImapServer({ config, store, logger, chaos, authGuard, addressColumns });
  const pop3Server: Pop3Server | null = pop3Module &&
    pop3Module.createPop3Server({ config, store, logger, chaos, authGuard });
  const tlsMode = (mode: ListenTls["mode"]): ListenTls | null =>
    tls && { mode, cert: tls.cert, key: tls.key };
  // With the startup warm-up, the ports are bound before it and take connections after it: a
  // client that connects meanwhile waits in the backlog for its greeting instead of being
  // refused, and a port in use is reported before the warm-up is played.
  const warmedUp = Promise.withResolvers<void>();
  const acceptFrom = options.warmUp ? warmedUp.promise : undefined;
  /** A plain listener: it offers STARTTLS when TLS is on. */
  const plain = (name: string, port: number): Endpoint => ({
    name,
    port,
    tls: tlsMode("starttls"),
    acceptFrom,
  });
  const started: Array<Listener | (HttpListener & { name: string })> = [];
  let stopped = false;
  // The warm-up's full collection, waiting until the listeners are open and nobody is there.
  let collection: PendingCollection | null = null;
  const stopAll = async () => {
    collection?.cancel();
    await Promise.allSettled(started.map((listener) => listener.close()));
    chaos.close();
    authGuard.close();
    warmer.close();
    imapServer.close();
  };
  try {
    started.push(
      await bind(
        "SMTP_PORT (--smtp-port)",
        config.smtpPort,
        () =>
          startSmtp(
            config,
            store,
            logger,
            plain("smtp", config.smtpPort),
            chaos,
            authGuard,
          ),
      ),
    );
    const smtp = started[0];
    const imap = await bind(
      "IMAP_PORT (--imap-port)",
      config.imapPort,
      () => imapServer.listen(plain("imap", config.imapPort)),
    );
    started.push(imap);
    let pop3: Listener | null = null;
    if (config.pop3Port !== null && pop3Server) {
      const port = config.pop3Port;
      pop3 = await bind(
        "POP3_PORT (--pop3-port)",
        port,
        () => pop3Server.listen(plain("pop3", port)),
      );
      started.push(pop3);
    }
    const implicit = async (
      name: "smtps" | "imaps" | "pop3s",
      port: number | null | undefined,
    ): Promise<Listener | null> => {
      if (port === null || port === undefined) return null;
      const variable = `${name.toUpperCase()}_PORT (--${name}-port)`;
      const listener = await bind(
        variable,
        port,
        () => {
          const endpoint = { name, port, tls: tlsMode("implicit"), acceptFrom };
          if (name === "smtps") {
            return startSmtp(config, store, logger, endpoint, chaos, authGuard);
          }
          // A POP3S port loaded the POP3 server above.
          return name === "imaps" ? imapServer.listen(endpoint) : pop3Server!.listen(endpoint);
        },
      );
      started.push(listener);
      return listener;
    };
    const smtps = await implicit("smtps", config.tls?.smtpsPort);
    const imaps = await implicit("imaps", config.tls?.imapsPort);
    const pop3s = await implicit("pop3s", config.tls?.pop3sPort);
    const ports = (httpPort: number | null): Ports => ({
      smtp: smtp.port,
      imap: imap.port,
      pop3: pop3?.port ?? null,
      http: httpPort,
      smtps: smtps?.port ?? null,
      imaps: imaps?.port ?? null,
      pop3s: pop3s?.port ?? null,
    });
    if (options.warmUp) {
      // Before the listeners take connections: played beside the first clients, a client
      // that bulk-loaded mail at once left the warm-up so few loop turns that its last steps
      // ran beside the first reading commands (lib/imap/warm_up.ts). ~30 ms of a start.
      try {
        const { result } = await warmUpBeforeListeners(config);
        if (result === null) {
          logger.warn(
            `startup warm-up: not over after ${BEFORE_LISTENERS_LIMIT_MS} ms, stopped; ` +
              "the listeners take connections now",
          );
        }
      } finally {
        warmedUp.resolve();
      }
    }
    let http: HttpListener | null = null;
    if (config.httpPort !== null) {
      // Loaded only when asked for: a server without HTTP starts faster and smaller.
      const { startHttp } = await import("./http/server.ts");
      http = await bind("HTTP_PORT (--http-port)", config.httpPort, () =>
        startHttp({
          config,
          store,
          logger,
          chaos,
          healthy: () => !stopped,
          ports: () => ({ ...ports(http?.port ?? null) }),
          tls: tlsInfo,
        }));
      started.push({ ...http, name: "http" });
    }
    const protocols = started.filter((listener): listener is Listener => "connections" in listener);
    const readers = protocols.filter((listener) => !listener.name.startsWith("smtp"));
    readersConnected = () => readers.some((l) => l.connections > 0);
    if (options.warmUp) {
      // Once a client came (its input counted), only after a longer quiet: `collectWhenIdle`.
      collection = collectWhenIdle(
        () => protocols.some((l) => l.connections > 0),
        undefined,
        inputCount,
      );
    }
    return {
      config,
      ports: ports(http?.port ?? null),
      store,
      chaos,
      tls: tlsInfo,
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

async function openStore(
  config: Config,
  logger: Logger,
  readersConnected: () => boolean,
): Promise<Store> {
  // Configured users are always created and do not count toward the cap.
  const options = {
    maxUsers: config.limits.maxUsers,
    exemptUsers: config.users.map((entry) => entry.user),
  };
  if (config.dbPath === null) {
    return openMemoryStore({ ...options, indexAtAppend: readersConnected });
  }
  const { openSqliteStore } = await import("./store/sqlite.ts");
  try {
    return openSqliteStore(config.dbPath, {
      ...options,
      warn: (message) => logger.warn(message),
      checkpointWorkerAtOpen: true,
      // Not the global setTimeout, whose first use loads Deno's Node timers (lib/net/timer.ts).
      startTimer,
    });
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
