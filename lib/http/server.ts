/**
 * The HTTP control plane (`Deno.serve`): a JSON API for tests. Off unless `HTTP_PORT` is set.
 *
 * @module
 */

import type { HttpContext, HttpOptions } from "./context.ts";
import { EventHub } from "./event_hub.ts";
import { createRequestGuard } from "./guard.ts";
import { json } from "./json.ts";
import { countInput } from "../net/input_count.ts";
import { startTimer, type Timer } from "../net/timer.ts";
import { dispatch, type Route } from "./router.ts";
import { WaitRegistry } from "./wait_registry.ts";

export type { HttpContext, HttpOptions } from "./context.ts";
export { json } from "./json.ts";

/** A running HTTP listener. */
export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the control plane on `config.httpPort`. Closing it ends pending waits (503) and
 * event streams first, so the shutdown does not wait for them.
 */
export function startHttp(options: HttpOptions): Promise<HttpListener> {
  const ctx: HttpContext = {
    ...options,
    waiters: new WaitRegistry(options.store),
    events: new EventHub(options.store, options.logger, options.config.limits),
  };
  const guard = createRequestGuard(ctx.config);
  // The endpoints (lib/http/routes.ts) load with the first request: see there why.
  let routes: Promise<readonly Route[]> | null = null;
  const endpoints = () =>
    routes ??= import("./routes.ts").then((module) => module.ROUTES, (error) => {
      routes = null; // a later request tries again
      throw error;
    });
  const closeLive = () => {
    ctx.waiters.close();
    ctx.events.close();
  };
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  let closed = false;
  let restart: Timer | null = null;
  let lastLogged = -Infinity;
  const handler = async (request: Request) => {
    // A client came: idle work waits (lib/net/input_count.ts).
    countInput();
    return dispatch(ctx, await endpoints(), request, guard);
  };
  const onError = (error: unknown) => {
    ctx.logger.error("http: request failed", error);
    return json(500, { error: "Internal server error" });
  };
  /**
   * Deno.serve's accept loop ends, rejecting `finished`, on an error such as running out of file
   * descriptors (EMFILE: hostile-client audit, round 34); unhandled, that rejection ended the
   * process, every protocol with it. So it is logged (at most once per
   * {@linkcode RESTART_LOG_MS}) and the listener is opened again on the same port a moment
   * later, until it is closed.
   */
  const watch = (running: Deno.HttpServer<Deno.NetAddr>, port: () => number) => {
    running.finished.catch((error) => {
      if (closed) return;
      const now = Date.now();
      if (now - lastLogged >= RESTART_LOG_MS) {
        lastLogged = now;
        ctx.logger.error(`http: the listener stopped; opening it again in ${RESTART_MS} ms`, error);
      }
      const again = () => {
        restart = null;
        if (closed) return;
        try {
          const next = Deno.serve({
            hostname: ctx.config.bindAddr,
            port: port(),
            onListen: () => {},
            onError,
          }, handler);
          server = next;
          watch(next, port);
        } catch {
          restart = startTimer(RESTART_MS, again);
        }
      };
      restart = startTimer(RESTART_MS, again);
    });
  };
  /** The port the listener got (the one it is opened on again). */
  let port = 0;
  return new Promise((resolve, reject) => {
    try {
      const first = Deno.serve({
        hostname: ctx.config.bindAddr,
        port: ctx.config.httpPort ?? 0,
        onListen: (addr) => {
          port = addr.port;
          resolve({
            host: addr.hostname,
            port: addr.port,
            close: () => {
              closed = true;
              restart?.cancel();
              closeLive();
              return server?.shutdown() ?? Promise.resolve();
            },
          });
        },
        onError,
      }, handler);
      server = first;
      watch(first, () => port);
    } catch (error) {
      closeLive();
      reject(error);
    }
  });
}

/** How long after its accept loop failed the listener is opened again. */
const RESTART_MS = 1_000;

/** At most one log line per this long about a listener that stopped. */
const RESTART_LOG_MS = 10_000;
