/**
 * `GET /messages/{id}/links` and `GET /messages/{id}/codes`: the URLs and the likely
 * one-time codes of a message, since end-to-end tests mostly want the link or the code.
 *
 * @module
 */

import { extractCodes, extractLinks } from "../mail/links.ts";
import { extractContent } from "../mail/mime.ts";
import type { HttpContext } from "./context.ts";
import { json } from "./json.ts";
import { locate } from "./messages.ts";
import type { RouteRequest } from "./router.ts";

function content(ctx: HttpContext, id: string) {
  const { meta, raw, index } = locate(ctx.store, id);
  return { meta, ...extractContent(raw, index.root) };
}

/** `GET /messages/{id}/links`: `{ id, links: [{ url, text, source }] }`, html anchors first. */
export function getLinks(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, text, html } = content(ctx, params[0]);
  return json(200, { id: meta.id, links: extractLinks(text, html) });
}

/** `GET /messages/{id}/codes`: `{ id, codes: ["123456", ...] }`, most likely first. */
export function getCodes(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, text, html } = content(ctx, params[0]);
  return json(200, { id: meta.id, codes: extractCodes(meta.summary.subject, text, html) });
}
