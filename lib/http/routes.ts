/**
 * The control plane's endpoints: the JSON API, the web inbox and the MailHog and Mailpit
 * compatibility APIs. Loaded by lib/http/server.ts on the first request, not at startup: this
 * module graph (~190 KB of source) is most of the control plane, and most servers of a test
 * run never get an HTTP request, or get their first one well after the banner.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { addChaos, clearChaos, deleteChaosRule, listChaos } from "./chaos.ts";
import type { HttpContext } from "./context.ts";
import { streamEvents } from "./events.ts";
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
import type { Route } from "./router.ts";
import { tlsCertificate } from "./tls.ts";
import { listUsers } from "./users.ts";
import { waitForMessage } from "./wait.ts";
import { WEB_ROUTES } from "./web/routes.ts";
import { mailhogRoutes } from "./compat/mailhog.ts";
import { MAILPIT_ROUTES } from "./compat/mailpit.ts";
import { mailpitEvents } from "./compat/mailpit_events.ts";

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
