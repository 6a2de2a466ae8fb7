/**
 * The web inbox at `/`: the page, its script and style sheet (TypeScript string modules,
 * so `deno run <URL>` and `deno compile` need no asset files), and the sandboxed HTML body
 * endpoint the page frames.
 *
 * @module
 */

import type { Route } from "../router.ts";
import { APP_JS } from "./app.ts";
import { getHtmlBody } from "./html_body.ts";
import { PAGE_HTML } from "./page.ts";
import { STYLE_CSS } from "./style.ts";

/** The page's own policy: only its script, style and API; frames only from this server. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

function asset(body: string, type: string, extra: Record<string, string> = {}) {
  return () =>
    new Response(body, {
      headers: {
        "content-type": `${type}; charset=utf-8`,
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
        ...extra,
      },
    });
}

export const WEB_ROUTES: readonly Route[] = [
  {
    path: "/",
    methods: {
      GET: asset(PAGE_HTML, "text/html", {
        "content-security-policy": PAGE_CSP,
        "referrer-policy": "no-referrer",
      }),
    },
  },
  { path: "/app.js", methods: { GET: asset(APP_JS, "text/javascript") } },
  { path: "/app.css", methods: { GET: asset(STYLE_CSS, "text/css") } },
  { path: "/messages/:id/html", methods: { GET: getHtmlBody } },
];
