/**
 * Mailpit's message checks. `link-check` requests each link of the message (HEAD, then GET
 * if HEAD is refused) only when asked, and only links to loopback hosts: a test server must
 * not become a way to reach other machines. `html-check` answers Mailpit's shape with no
 * client-support tests run (we carry no caniemail database): every count but `Nodes` is 0.
 *
 * @module
 */

import { extractLinks } from "../../mail/links.ts";
import { extractContent } from "../../mail/mime.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, json } from "../json.ts";
import { locate } from "../messages.ts";
import type { Route, RouteRequest } from "../router.ts";
import { targetMessage } from "./shared.ts";

/** At most this many links are checked, each for at most this long. */
const MAX_CHECKED = 50;
const CHECK_TIMEOUT_MS = 5_000;

function content(ctx: HttpContext, id: string) {
  const meta = targetMessage(ctx.store, id);
  const { raw, index } = locate(ctx.store, meta.id);
  return extractContent(raw, index.root);
}

/** Whether a URL's host is a loopback address or name (the only hosts checked). */
function loopback(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host === "[::1]") return true;
  const octets = host.split(".");
  return octets.length === 4 && octets[0] === "127" &&
    octets.every((octet) => /^[0-9]{1,3}$/.test(octet) && Number(octet) <= 255);
}

async function check(link: string, follow: boolean) {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { URL: link, StatusCode: 0, Status: "Invalid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { URL: link, StatusCode: 0, Status: "Skipped (not http or https)" };
  }
  if (!loopback(url)) return { URL: link, StatusCode: 0, Status: "Skipped (not a loopback host)" };
  const request = async (method: string) => {
    const response = await fetch(url, {
      method,
      redirect: follow ? "follow" : "manual",
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => {});
    return response;
  };
  try {
    let response = await request("HEAD");
    if (response.status === 405 || response.status === 501) response = await request("GET");
    return { URL: link, StatusCode: response.status, Status: response.statusText };
  } catch (error) {
    return { URL: link, StatusCode: 0, Status: (error as Error).message };
  }
}

/** `GET /api/v1/message/{ID}/link-check[?follow=true]`: `{Errors, Links}`. */
async function linkCheck(ctx: HttpContext, { request, url, params }: RouteRequest) {
  if (request.headers.get("sec-fetch-site") === "cross-site") {
    throw new HttpError(403, "Cross-site link checks are not allowed");
  }
  const { text, html } = content(ctx, params[0]);
  const urls = [...new Set(extractLinks(text, html).map((link) => link.url))];
  const follow = url.searchParams.get("follow") === "true";
  const links = await Promise.all(urls.slice(0, MAX_CHECKED).map((link) => check(link, follow)));
  const checked = links.filter((link) => !link.Status.startsWith("Skipped"));
  const errors = checked.filter((link) => link.StatusCode === 0 || link.StatusCode >= 400);
  return json(200, { Errors: errors.length, Links: links });
}

/** `GET /api/v1/message/{ID}/html-check`: Mailpit's shape, no support tests run. */
function htmlCheck(ctx: HttpContext, { params }: RouteRequest): Response {
  const { html } = content(ctx, params[0]);
  if (html === null) throw new HttpError(404, "Message does not contain HTML");
  let nodes = 0;
  for (let i = html.indexOf("<"); i >= 0; i = html.indexOf("<", i + 1)) {
    const next = html.charCodeAt(i + 1);
    if ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a)) nodes++;
  }
  return json(200, {
    Platforms: {},
    Total: { Nodes: nodes, Partial: 0, Supported: 0, Tests: 0, Unsupported: 0 },
    Warnings: [],
  });
}

/** The check routes. */
export const MAILPIT_CHECK_ROUTES: readonly Route[] = [
  { path: "/api/v1/message/:id/link-check", methods: { GET: linkCheck } },
  { path: "/api/v1/message/:id/html-check", methods: { GET: htmlCheck } },
];
