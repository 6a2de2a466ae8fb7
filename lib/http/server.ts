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
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: ctx.config.bindAddr,
        port: ctx.config.httpPort ?? 0,
        onListen: (addr) => {
          resolve({
            host: addr.hostname,
            port: addr.port,
            close: () => {
              closeLive();
              return server.shutdown();
            },
          });
        },
        onError: (error) => {
          ctx.logger.error("http: request failed", error);
          return json(500, { error: "Internal server error" });
        },
      }, async (request) => {
        // A client came: idle work waits (lib/net/input_count.ts).
        countInput();
        return dispatch(ctx, await endpoints(), request, guard);
      });
    } catch (error) {
      closeLive();
      reject(error);
    }
  });
}
