/**
 * MailHog's HTTP API as MailHog 1.0.1 serves it (mailhog/MailHog-Server `api/v1.go`,
 * `api/v2.go`; the message object is mailhog/data `Message`), over the same store and
 * filters as `/messages`. MailHog has one mailbox: here it is every user's INBOX, newest
 * first, and a message's `ID` is our message id (`user:INBOX:uid`).
 *
 * | MailHog               | here                                                           |
 * | --------------------- | -------------------------------------------------------------- |
 * | `ID`                  | the message id                                                 |
 * | `From`, `To`          | the SMTP envelope (one recipient per stored copy); the header  |
 * |                       | addresses for a message stored without one                     |
 * | `Content`             | the stored bytes: headers (name as written, values in order),  |
 * |                       | the body undecoded, the size of the whole message              |
 * | `MIME.Parts`          | the multipart children, recursively, as `Content` objects      |
 * | `Created`             | INTERNALDATE                                                   |
 * | `Raw`                 | envelope and stored bytes; `Helo` the client's HELO/EHLO name  |
 * |                       | (`""` for a message that did not come over SMTP)               |
 *
 * @module
 */

import { decodeBase64Loose, decodeText } from "../../mail/headers.ts";
import type { MimePart } from "../../mail/mime.ts";
import type { MessageMeta, Store } from "../../store/types.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, json } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";
import {
  contentResponse,
  deleteAllInbox,
  inboxNewestFirst,
  locateInbox,
  mailhogEmpty,
} from "./shared.ts";
import { mailhogReleaseRoutes } from "./release.ts";
import { HeaderLines, searchableIncludes } from "./search_fields.ts";
import { jimRoutes } from "./mailhog_jim.ts";
import { hubWebSocket } from "./mailpit_events.ts";

/** MailHog's path object (mailhog/data `Path`). */
interface Path {
  Relays: string[] | null;
  Mailbox: string;
  Domain: string;
  Params: string;
}

/** MailHog's content object (mailhog/data `Content`); `MIME` is null for a single part. */
interface Content {
  Headers: Record<string, string[]>;
  Body: string;
  Size: number;
  MIME: { Parts: Content[] } | null;
}

/** `local@domain` as a MailHog path (the last `@` splits it; no `@` is all mailbox). */
function path(address: string): Path {
  const at = address.lastIndexOf("@");
  return {
    Relays: null,
    Mailbox: at < 0 ? address : address.slice(0, at),
    Domain: at < 0 ? "" : address.slice(at + 1),
    Params: "",
  };
}

/** The first address in a header value (`Name <a@b>` or `a@b`), for a message without envelope. */
function headerAddresses(value: string): string[] {
  const out: string[] = [];
  for (const item of value.split(",")) {
    const open = item.indexOf("<");
    const close = item.indexOf(">", open + 1);
    const address = (open >= 0 && close > open ? item.slice(open + 1, close) : item).trim();
    if (address !== "") out.push(address);
  }
  return out;
}

/** One part as MailHog's `Content`: headers in order, the undecoded body, children. */
function content(raw: Uint8Array, part: MimePart, size: number): Content {
  const headers: Record<string, string[]> = {};
  for (const field of part.fields) (headers[field.name] ??= []).push(field.value);
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  return {
    Headers: headers,
    Body: decodeText(body),
    Size: size,
    MIME: part.children.length === 0 ? null : {
      Parts: part.children.map((child) => content(raw, child, child.bodyEnd - child.bodyStart)),
    },
  };
}

/** The message as MailHog's `Message`. */
export function mailhogMessage(store: Store, meta: MessageMeta): Record<string, unknown> {
  const { raw, index } = locateInbox(store, meta.id);
  const whole = content(raw, index.root, raw.length);
  const from = meta.envelope?.from ?? headerAddresses(meta.summary.from)[0] ?? "";
  const to = meta.envelope ? [meta.envelope.to] : headerAddresses(meta.summary.to);
  return {
    ID: meta.id,
    From: path(from),
    To: to.map(path),
    Content: whole,
    Created: new Date(meta.internalDate).toISOString(),
    MIME: whole.MIME,
    Raw: { From: from, To: to, Data: decodeText(raw), Helo: meta.envelope?.helo ?? "" },
  };
}

/**
 * `start` or `limit` as MailHog v2 reads them (`getStartLimit`): a positive integer, capped
 * at `max`; anything else (absent, 0, negative, not a number) is the default.
 */
function startLimit(params: URLSearchParams, name: string, fallback: number, max: number) {
  const value = params.get(name) ?? "";
  const n = /^[+-]?[0-9]{1,15}$/.test(value) ? Number(value) : 0;
  return n > 0 ? Math.min(n, max) : fallback;
}

/** MailHog v2's list envelope over `messages[start, start + limit)`. */
function page(store: Store, messages: MessageMeta[], url: URL): Response {
  const start = startLimit(url.searchParams, "start", 0, Number.MAX_SAFE_INTEGER);
  const limit = startLimit(url.searchParams, "limit", 50, 250);
  const items = messages.slice(start, start + limit).map((meta) => mailhogMessage(store, meta));
  return json(200, { total: messages.length, count: items.length, start, items });
}

/** `GET /api/v2/messages?start&limit`. */
function listV2(ctx: HttpContext, { url }: RouteRequest): Response {
  return page(ctx.store, inboxNewestFirst(ctx.store), url);
}

/**
 * `GET /api/v2/search?kind=from|to|containing&query=...`: `from` and `to` search the envelope
 * and the header of that name, `containing` the headers, Subject and decoded text bodies;
 * all case-insensitive substrings, as MailHog's. `containing` reads what the index memo keeps
 * (`search_fields.ts`): no message is parsed again per search.
 */
function searchV2(ctx: HttpContext, { url }: RouteRequest): Response {
  const kind = url.searchParams.get("kind");
  const query = url.searchParams.get("query")?.toLowerCase() ?? "";
  if (kind !== "from" && kind !== "to" && kind !== "containing") {
    throw new HttpError(400, `"kind" must be from, to or containing`);
  }
  if (query === "") throw new HttpError(400, `"query" is missing`);
  if (query.length > 1000) throw new HttpError(400, `"query" is longer than 1000 characters`);
  const has = (value: string | undefined) => value?.toLowerCase().includes(query) ?? false;
  const found = inboxNewestFirst(ctx.store).filter((meta) => {
    if (kind === "from") return has(meta.envelope?.from) || has(meta.summary.from);
    if (kind === "to") return has(meta.envelope?.to) || has(meta.summary.to);
    const index = ctx.store.getIndex(meta.user, meta.mailbox, meta.uid);
    if (searchableIncludes(ctx.store, meta, index, query)) return true;
    return index ? HeaderLines.of(index).fieldHas(query) : false;
  });
  return page(ctx.store, found, url);
}

/** `GET /api/v1/messages`: every message, as an array. */
function listV1(ctx: HttpContext): Response {
  return json(200, inboxNewestFirst(ctx.store).map((meta) => mailhogMessage(ctx.store, meta)));
}

/** `GET /api/v1/messages/{id}`. */
function getV1(ctx: HttpContext, { params }: RouteRequest): Response {
  return json(200, mailhogMessage(ctx.store, locateInbox(ctx.store, params[0]).meta));
}

/** `GET /api/v1/messages/{id}/download`: the stored bytes as `{id}.eml`, sandboxed. */
function downloadV1(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, raw } = locateInbox(ctx.store, params[0]);
  return contentResponse(
    raw,
    "message/rfc822",
    "attachment",
    `${meta.id.replace(/[^\w.-]+/g, "_")}.eml`,
  );
}

/** `DELETE /api/v1/messages`: empties every INBOX; MailHog's empty `text/json` 200. */
async function deleteAllV1(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  deleteAllInbox(ctx.store);
  return mailhogEmpty();
}

/** `DELETE /api/v1/messages/{id}`: MailHog's empty `text/json` 200; 404 for an unknown id. */
async function deleteV1(ctx: HttpContext, { request, params }: RouteRequest): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  const { meta } = locateInbox(ctx.store, params[0]);
  ctx.store.expunge(meta.user, meta.mailbox, [meta.uid], true);
  return mailhogEmpty();
}

/**
 * `GET /api/v1/messages/{id}/mime/part/{n}/download`: the n-th (from 0) part of `MIME.Parts`
 * as a download named `{id}-part-{n}`, base64 decoded as MailHog does (other encodings as
 * stored). Only the part's media type is served, not its headers (MailHog copies them all
 * into the response).
 */
function downloadPartV1(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, raw, index } = locateInbox(ctx.store, params[0]);
  const part = /^[0-9]{1,4}$/.test(params[1]) ? index.root.children[Number(params[1])] : undefined;
  if (!part) throw new HttpError(404, `No part ${params[1]} in message "${meta.id}"`);
  const field = (name: string) =>
    part.fields.find((f) => f.name.toLowerCase() === name)?.value.trim() ?? "";
  const media = field("content-type").split(";")[0].trim().toLowerCase();
  const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(media) ? media : "text/plain";
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  const bytes = field("content-transfer-encoding").toLowerCase() === "base64"
    ? decodeBase64Loose(decodeText(body))
    : body;
  const name = `${meta.id}-part-${params[1]}`.replace(/[^\w.-]+/g, "_");
  return contentResponse(bytes, type, "attachment", name);
}

/**
 * `GET /api/v1/events`: each new INBOX message as `data: {Message}` (no event name, so an
 * `EventSource`'s `message` listener gets it), over the control plane's event hub and its
 * bounds; its keepalive comments pass through.
 */
function eventsV1(ctx: HttpContext, { url }: RouteRequest): Response {
  if ([...url.searchParams.keys()].length > 0) throw new HttpError(400, "No parameters here");
  const source = ctx.events.open({ user: null, types: new Set(["message.added"]) });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let carry = "";
  const translate = (block: string): string | null => {
    if (block.startsWith(":")) return block + "\n\n";
    const lines = block.split("\n");
    const data = lines.find((line) => line.startsWith("data: "));
    if (!lines.includes("event: message.added") || !data) return null;
    const event = JSON.parse(data.slice(6)) as { message?: { id?: string; mailbox?: string } };
    const id = event.message?.id;
    if (!id || event.message?.mailbox !== "INBOX") return null;
    try {
      const { meta } = locateInbox(ctx.store, id);
      return `data: ${JSON.stringify(mailhogMessage(ctx.store, meta))}\n\n`;
    } catch {
      return null; // gone before the listener read it
    }
  };
  const stream = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        // The hub hands over whole events; the carry only guards a split one.
        const blocks = (carry + decoder.decode(chunk, { stream: true })).split("\n\n");
        carry = blocks.pop() ?? "";
        for (const block of blocks) {
          const out = translate(block);
          if (out !== null) controller.enqueue(encoder.encode(out));
        }
      },
    }),
  );
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}

/**
 * `GET /api/v2/websocket`: what MailHog's UI listens to, each new INBOX message as its
 * `Message` JSON, one per WebSocket message (MailHog-Server `websockets/hub.go`).
 */
function websocketV2(ctx: HttpContext, { request }: RouteRequest): Response {
  return hubWebSocket(ctx, request, (event) => {
    if (event.type !== "message.added" || event.message?.mailbox !== "INBOX") return [];
    const meta = ctx.store.getMessage(event.user ?? "", "INBOX", event.message.uid);
    return meta ? [mailhogMessage(ctx.store, meta)] : [];
  });
}

/** `GET /api/v2/outgoing-smtp`: the saved release servers; none are kept here. */
function outgoingSmtpV2(): Response {
  return json(200, {});
}

/**
 * MailHog's routes under `prefix` (`""` or `"/mailhog"`). At the root, `/api/v1/messages`
 * is Mailpit's (its DELETE empties the mailbox as MailHog's does); `withV1List` adds
 * MailHog's own.
 */
export function mailhogRoutes(prefix: string, withV1List: boolean): Route[] {
  const routes: Route[] = [
    { path: `${prefix}/api/v2/messages`, methods: { GET: listV2 } },
    { path: `${prefix}/api/v2/search`, methods: { GET: searchV2 } },
    { path: `${prefix}/api/v1/messages/:id`, methods: { GET: getV1, DELETE: deleteV1 } },
    { path: `${prefix}/api/v1/messages/:id/download`, methods: { GET: downloadV1 } },
    {
      path: `${prefix}/api/v1/messages/:id/mime/part/:part/download`,
      methods: { GET: downloadPartV1 },
    },
    { path: `${prefix}/api/v1/events`, methods: { GET: eventsV1 } },
    { path: `${prefix}/api/v2/websocket`, methods: { GET: websocketV2 } },
    { path: `${prefix}/api/v2/outgoing-smtp`, methods: { GET: outgoingSmtpV2 } },
    ...mailhogReleaseRoutes(prefix),
    ...jimRoutes(prefix),
  ];
  if (withV1List) {
    routes.push({
      path: `${prefix}/api/v1/messages`,
      methods: { GET: listV1, DELETE: deleteAllV1 },
    });
  }
  return routes;
}
