/**
 * The HTTP control plane (`Deno.serve`): a JSON API for tests. Off unless `HTTP_PORT` is set.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { addChaos, clearChaos, deleteChaosRule, listChaos } from "./chaos.ts";
import type { HttpContext, HttpOptions } from "./context.ts";
import { EventHub } from "./event_hub.ts";
import { streamEvents } from "./events.ts";
import { createRequestGuard } from "./guard.ts";
import { changeFlags } from "./flags.ts";
import { inject } from "./inject.ts";
import { json } from "./json.ts";
import { getCodes, getLinks } from "./links.ts";
import {
  deleteMessage,
  deleteMessages,
  getMessage,
  getPart,
  getRaw,
  listMessages,
} from "./messages.ts";
import { dispatch, type Route } from "./router.ts";
import { tlsCertificate } from "./tls.ts";
import { listUsers } from "./users.ts";
import { waitForMessage } from "./wait.ts";
import { WaitRegistry } from "./wait_registry.ts";
import { WEB_ROUTES } from "./web/routes.ts";
import { mailhogRoutes } from "./compat/mailhog.ts";
import { MAILPIT_ROUTES } from "./compat/mailpit.ts";
import { mailpitEvents } from "./compat/mailpit_events.ts";

export type { HttpContext, HttpOptions } from "./context.ts";
export { json } from "./json.ts";

/** A running HTTP listener. */
export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Every endpoint of the control plane. */
export const ROUTES: readonly Route[] = [
  { path: "/health", methods: { GET: health } },
  { path: "/reset", methods: { POST: reset } },
  { path: "/inject", methods: { POST: inject } },
  { path: "/users", methods: { GET: listUsers } },
  { path: "/messages", methods: { GET: listMessages, DELETE: deleteMessages } },
  { path: "/messages/wait", methods: { GET: waitForMessage } },
  { path: "/messages/:id", methods: { GET: getMessage, DELETE: deleteMessage } },
  { path: "/messages/:id/raw", methods: { GET: getRaw } },
  { path: "/messages/:id/flags", methods: { POST: changeFlags } },
  { path: "/messages/:id/parts/:part", methods: { GET: getPart } },
  { path: "/tls/cert", methods: { GET: tlsCertificate } },
  { path: "/messages/:id/links", methods: { GET: getLinks } },
  { path: "/messages/:id/codes", methods: { GET: getCodes } },
  { path: "/events", methods: { GET: streamEvents } },
  { path: "/chaos", methods: { GET: listChaos, POST: addChaos, DELETE: clearChaos } },
  { path: "/chaos/:id", methods: { DELETE: deleteChaosRule } },
  ...WEB_ROUTES,
  // Mailpit's API at its paths; MailHog's under /mailhog, and at its own where not Mailpit's.
  ...MAILPIT_ROUTES,
  { path: "/api/events", methods: { GET: mailpitEvents } },
  ...mailhogRoutes("/mailhog", true),
  ...mailhogRoutes("", false),
];

function health(ctx: HttpContext): Response {
  const ok = ctx.healthy();
  return json(ok ? 200 : 503, {
    status: ok ? "ok" : "unavailable",
    version: VERSION,
    ports: ctx.ports(),
    waiting: ctx.waiters.size,
    eventListeners: ctx.events.size,
  });
}

async function reset(ctx: HttpContext, { request }: { request: Request }): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  ctx.chaos.reset();
  ctx.store.reset();
  return json(200, { status: "ok" });
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
      }, (request) => dispatch(ctx, ROUTES, request, guard));
    } catch (error) {
      closeLive();
      reject(error);
    }
  });
}
