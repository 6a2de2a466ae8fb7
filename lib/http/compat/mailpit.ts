/**
 * Mailpit's API v1 as Mailpit 1.2x documents it (mailpit.axllent.org, "API v1"), over the
 * same store as `/messages`: one mailbox, every user's INBOX, newest first; a message's `ID`
 * is our message id (`user:INBOX:uid`), stable and mapping back to user, mailbox and UID.
 * `\Seen` is Mailpit's read flag and IMAP keywords are its tags, so what IMAP does shows
 * here and the reverse.
 *
 * @module
 */

import { displayAddresses } from "../../mail/address.ts";
import { extractContent } from "../../mail/content.ts";
import { headerValue } from "../../mail/headers.ts";
import type { MessageMeta, Store } from "../../store/types.ts";
import { VERSION } from "../../version.ts";
import type { HttpContext } from "../context.ts";
import { searchableText } from "../filters.ts";
import { HttpError, json, readBody, readJsonObject } from "../json.ts";
import { locate } from "../messages.ts";
import type { Route, RouteRequest } from "../router.ts";
import { matchesSearch, parseSearch, type Searchable } from "./mailpit_search.ts";
import { HeaderLines, searchableIncludes } from "./search_fields.ts";
import {
  contentResponse,
  deleteAllInbox,
  inboxNewestFirst,
  intParam,
  locateInbox,
  mailhogEmpty,
  targetMessage,
} from "./shared.ts";
import { MAILPIT_EXTRA_ROUTES } from "./mailpit_extra.ts";
import { MAILPIT_CHAOS_ROUTES } from "./mailpit_chaos.ts";
import { MAILPIT_SEND_ROUTES } from "./mailpit_send.ts";
import { MAILPIT_CHECK_ROUTES } from "./mailpit_checks.ts";
import { MAILPIT_RELEASE_ROUTES } from "./release.ts";

const BODY_LIMIT = 1 << 20;

interface Address {
  Name: string;
  Address: string;
}

const isKeyword = (flag: string) => !flag.startsWith("\\");
const isRead = (meta: MessageMeta) => meta.flags.includes("\\Seen");

/** The message's parsed parts, its addresses and content, as Mailpit names them. */
function parsed(store: Store, meta: MessageMeta) {
  const { raw, index } = locate(store, meta.id);
  const root = index.root;
  const addresses = (name: string): Address[] =>
    displayAddresses(headerValue(root.fields, name) ?? "").map((a) => ({
      Name: a.name ?? "",
      Address: a.address,
    }));
  return { raw, root, addresses, content: extractContent(raw, root) };
}

/** Mailpit's `MessageSummary`. */
export function summary(store: Store, meta: MessageMeta): Record<string, unknown> {
  const { addresses, content } = parsed(store, meta);
  const snippet = (content.text ?? "").replace(/\s+/g, " ").trim().slice(0, 250);
  return {
    ID: meta.id,
    MessageID: meta.summary.messageId.replace(/^<|>$/g, ""),
    Read: isRead(meta),
    From: addresses("From")[0] ?? null,
    To: addresses("To"),
    Cc: addresses("Cc"),
    Bcc: addresses("Bcc"),
    ReplyTo: addresses("Reply-To"),
    Subject: meta.summary.subject,
    Created: new Date(meta.internalDate).toISOString(),
    Username: "",
    Tags: meta.flags.filter(isKeyword),
    Size: meta.size,
    Attachments: content.attachments.filter((a) => a.disposition !== "inline").length,
    Snippet: snippet,
  };
}

/** What a search term reads of a message, lower case, the costly parts on demand. */
function searchable(store: Store, meta: MessageMeta): Searchable {
  const envelopeTo = meta.envelope?.to ?? "";
  let cached: ReturnType<typeof parsed> | null = null;
  const get = () => (cached ??= parsed(store, meta));
  const header = (name: string) =>
    get().addresses(name).map((a) => `${a.Name} ${a.Address}`).join(", ").toLowerCase();
  return {
    from: meta.summary.from.toLowerCase(),
    to: `${meta.summary.to}, ${envelopeTo}`.toLowerCase(),
    cc: meta.summary.cc.toLowerCase(),
    get bcc() {
      return header("Bcc");
    },
    subject: meta.summary.subject.toLowerCase(),
    messageId: meta.summary.messageId.toLowerCase(),
    tags: meta.flags.filter(isKeyword),
    read: isRead(meta),
    created: meta.internalDate,
    attachments: () => get().content.attachments.length,
    textIncludes(needle) {
      // The header lines, LF, then Subject and bodies: across the LF only with one in it.
      const index = store.getIndex(meta.user, meta.mailbox, meta.uid);
      const lines = index ? HeaderLines.of(index).text : "";
      if (needle.includes("\n")) return `${lines}\n${searchableText(store, meta)}`.includes(needle);
      return lines.includes(needle) || searchableIncludes(store, meta, index, needle);
    },
  };
}

function find(store: Store, query: string | null): MessageMeta[] {
  const all = inboxNewestFirst(store);
  if (query === null || query.trim() === "") return all;
  const terms = parseSearch(query);
  return all.filter((meta) => matchesSearch(terms, searchable(store, meta)));
}

/** Mailpit's `MessagesSummary` over `found[start, start + limit)`. */
function listing(store: Store, found: MessageMeta[], url: URL): Response {
  const start = intParam(url.searchParams, "start", 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(url.searchParams, "limit", 50, Number.MAX_SAFE_INTEGER);
  const all = inboxNewestFirst(store);
  const tags = new Set(all.flatMap((meta) => meta.flags.filter(isKeyword)));
  return json(200, {
    total: all.length,
    unread: all.filter((meta) => !isRead(meta)).length,
    count: Math.max(0, Math.min(limit, found.length - start)),
    messages_count: found.length,
    messages_unread: found.filter((meta) => !isRead(meta)).length,
    start,
    tags: [...tags].sort(),
    messages: found.slice(start, start + limit).map((meta) => summary(store, meta)),
  });
}

/** `GET /api/v1/messages?start&limit`. */
function listMessages(ctx: HttpContext, { url }: RouteRequest): Response {
  return listing(ctx.store, inboxNewestFirst(ctx.store), url);
}

/** `GET /api/v1/search?query&start&limit`. */
function search(ctx: HttpContext, { url }: RouteRequest): Response {
  return listing(ctx.store, find(ctx.store, url.searchParams.get("query")), url);
}

const ok = () => new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });

/** `DELETE /api/v1/search?query`: deletes what the search finds. */
function deleteSearch(ctx: HttpContext, { url }: RouteRequest): Response {
  const query = url.searchParams.get("query");
  if (query === null || query.trim() === "") throw new HttpError(400, `"query" is missing`);
  remove(ctx.store, find(ctx.store, query));
  return ok();
}

function remove(store: Store, messages: readonly MessageMeta[]): void {
  for (const meta of messages) store.expunge(meta.user, meta.mailbox, [meta.uid], true);
}

/** The JSON body of a PUT or DELETE, `{}` when there is none. */
async function body(request: Request): Promise<Record<string, unknown>> {
  if (request.body === null) return {};
  if (request.headers.has("content-type")) return await readJsonObject(request, BODY_LIMIT);
  // No type (a DELETE without body, as clients send it): only an empty body is read.
  if ((await readBody(request, BODY_LIMIT)).length === 0) return {};
  throw new HttpError(415, "Cannot read body: expected Content-Type application/json");
}

function ids(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((id) => typeof id === "string")) {
    throw new HttpError(400, `"IDs" must be an array of message ids`);
  }
  return value;
}

/**
 * `DELETE /api/v1/messages` with `{"IDs": [...]}` (answers `ok`), or without IDs: every
 * message (answers with an empty body, as MailHog, whose delete-all has the same path).
 */
async function deleteMessages(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const list = ids((await body(request)).IDs);
  if (list.length > 0) {
    remove(ctx.store, list.map((id) => locateInbox(ctx.store, id).meta));
    return ok();
  }
  deleteAllInbox(ctx.store);
  // MailHog's delete-all is this path too, and its clients parse any body they get as JSON:
  // MailHog's empty answer suits both (Mailpit's `ok` is text nobody needs to read).
  return mailhogEmpty();
}

/** `PUT /api/v1/messages` with `{"IDs"?, "Read": bool, "Search"?}`: sets or clears `\Seen`. */
async function setRead(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const request_ = await body(request);
  const list = ids(request_.IDs);
  const read = request_.Read ?? false;
  if (typeof read !== "boolean") throw new HttpError(400, `"Read" must be true or false`);
  const search = typeof request_.Search === "string" ? request_.Search : null;
  const targets = list.length > 0
    ? list.map((id) => locateInbox(ctx.store, id).meta)
    : find(ctx.store, search);
  for (const meta of targets) {
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], read ? "add" : "remove", ["\\Seen"]);
  }
  return ok();
}

/** `GET /api/v1/message/{ID}`: the whole message; opening it marks it read, as Mailpit does. */
function getMessage(ctx: HttpContext, { request, params }: RouteRequest): Response {
  const meta = targetMessage(ctx.store, params[0]);
  // Not for a cross-site page's GET (an image, a link): only a change it cannot make otherwise.
  const crossSite = request.headers.get("sec-fetch-site") === "cross-site";
  if (!isRead(meta) && !crossSite) {
    ctx.store.setFlags(meta.user, meta.mailbox, [meta.uid], "add", ["\\Seen"]);
  }
  const { root, addresses, content } = parsed(ctx.store, meta);
  const attachment = (a: (typeof content.attachments)[number]) => ({
    PartID: a.part,
    FileName: a.filename ?? "",
    ContentType: a.contentType,
    ContentID: a.contentId ?? "",
    Size: a.size,
  });
  return json(200, {
    ID: meta.id,
    MessageID: meta.summary.messageId.replace(/^<|>$/g, ""),
    From: addresses("From")[0] ?? null,
    To: addresses("To"),
    Cc: addresses("Cc"),
    Bcc: addresses("Bcc"),
    ReplyTo: addresses("Reply-To"),
    ReturnPath: meta.envelope?.from ?? "",
    Subject: meta.summary.subject,
    ListUnsubscribe: {
      Header: headerValue(root.fields, "List-Unsubscribe") ?? "",
      Links: [],
      Errors: "",
      HeaderPost: headerValue(root.fields, "List-Unsubscribe-Post") ?? "",
    },
    Date: new Date(meta.internalDate).toISOString(),
    Tags: meta.flags.filter(isKeyword),
    Username: "",
    Text: content.text ?? "",
    HTML: content.html ?? "",
    Size: meta.size,
    Inline: content.attachments.filter((a) => a.disposition === "inline").map(attachment),
    Attachments: content.attachments.filter((a) => a.disposition !== "inline").map(attachment),
  });
}

/** `GET /api/v1/message/{ID}/headers`: each name as written, its values in order. */
function getHeaders(ctx: HttpContext, { params }: RouteRequest): Response {
  const meta = targetMessage(ctx.store, params[0]);
  const headers: Record<string, string[]> = {};
  for (const field of parsed(ctx.store, meta).root.fields) {
    (headers[field.name] ??= []).push(field.value);
  }
  return json(200, headers);
}

/** `GET /api/v1/message/{ID}/raw`: the stored bytes as text, sandboxed. */
function getRaw(ctx: HttpContext, { params }: RouteRequest): Response {
  const meta = targetMessage(ctx.store, params[0]);
  const { raw } = locate(ctx.store, meta.id);
  return contentResponse(raw, "text/plain; charset=utf-8", "inline", null);
}

/** `GET /api/v1/info`: Mailpit's `AppInformation`, with our version. */
function info(ctx: HttpContext): Response {
  const all = inboxNewestFirst(ctx.store);
  const tags: Record<string, number> = {};
  for (const meta of all) {
    for (const tag of meta.flags.filter(isKeyword)) tags[tag] = (tags[tag] ?? 0) + 1;
  }
  return json(200, {
    Version: `elektromail ${VERSION}`,
    LatestVersion: "",
    Database: "",
    DatabaseSize: 0,
    Messages: all.length,
    Unread: all.filter((meta) => !isRead(meta)).length,
    Tags: tags,
    RuntimeStats: { Memory: 0, Uptime: 0, MessagesDeleted: 0, SMTPAccepted: 0 },
  });
}

/** Mailpit's routes; `/api/v1/messages` answers MailHog's delete-all too (same meaning). */
export const MAILPIT_ROUTES: readonly Route[] = [
  {
    path: "/api/v1/messages",
    methods: { GET: listMessages, PUT: setRead, DELETE: deleteMessages },
  },
  { path: "/api/v1/search", methods: { GET: search, DELETE: deleteSearch } },
  { path: "/api/v1/info", methods: { GET: info } },
  { path: "/api/v1/message/:id", methods: { GET: getMessage } },
  { path: "/api/v1/message/:id/headers", methods: { GET: getHeaders } },
  { path: "/api/v1/message/:id/raw", methods: { GET: getRaw } },
  ...MAILPIT_EXTRA_ROUTES,
  ...MAILPIT_CHAOS_ROUTES,
  ...MAILPIT_SEND_ROUTES,
  ...MAILPIT_CHECK_ROUTES,
  ...MAILPIT_RELEASE_ROUTES,
];
