/**
 * Reading and deleting stored messages: `GET /messages`, `GET /messages/{id}`,
 * `GET /messages/{id}/raw`, `GET /messages/{id}/parts/{n}`, `DELETE /messages/{id}`.
 *
 * @module
 */

import { displayAddresses } from "../mail/address.ts";
import { decodeEncodedWords, headerValue } from "../mail/headers.ts";
import type { MessageIndex } from "../mail/message_index.ts";
import {
  decodeBody,
  extractContent,
  findPart,
  isKnownEncoding,
  partFilename,
} from "../mail/mime.ts";
import { responseBody } from "../mail/shared_bytes.ts";
import { type MessageMeta, parseMessageId, type Store } from "../store/types.ts";
import type { HttpContext } from "./context.ts";
import { findMessages, parseMessageFilter } from "./filters.ts";
import { HttpError, json } from "./json.ts";
import { LISTING_PARAMS, listingComparator, type Page, pageOf, parseListing } from "./listing.ts";
import { messageJson } from "./message_json.ts";
import type { RouteRequest } from "./router.ts";
import { sortMessages } from "./sort_messages.ts";

/**
 * The messages `GET /messages` and `DELETE /messages` act on: the filters (`filters.ts`),
 * ordered and paged (`listing.ts`).
 */
function selectMessages(store: Store, params: URLSearchParams): Page & { ascending: boolean } {
  const filter = parseMessageFilter(params, { extra: [...LISTING_PARAMS, "sort"] });
  const listing = parseListing(store, params);
  const found = findMessages(store, filter);
  const sort = params.get("sort");
  if (sort === null) {
    const page = pageOf(found, listing, listingComparator(params));
    return { ...page, ascending: listing.order === "asc" };
  }
  // `sort=` orders what matched the way IMAP SORT does (sort_messages.ts), in its own
  // direction (`-key` reverses; `order=desc` reverses again): positions in that order are the
  // comparator, and a cursor message outside the filter is sorted in to find its place.
  const cursors = [listing.before, listing.after].flatMap((c) =>
    c?.kind === "message" ? c.meta : []
  );
  const ids = new Set(found.map((meta) => meta.id));
  const extra = cursors.filter((meta) => !ids.has(meta.id));
  const rank = new Map(sortMessages(store, [...found, ...extra], sort).map((m, i) => [m.id, i]));
  const ascending = params.get("order") !== "desc";
  const page = pageOf(
    found,
    { ...listing, order: ascending ? "asc" : "desc" },
    (a, b) => rank.get(a.id)! - rank.get(b.id)!,
  );
  return { ...page, ascending };
}

/**
 * `GET /messages[?filters&order=&limit=&start=&before=&after=&sort=]`: newest first, or in
 * the `sort=` order (`sort_messages.ts`, IMAP SORT's keys). The body is
 * the array of messages (its shape before paging existed); the number that matched is in
 * `X-Total-Count`, and when more follow, `Link: <...>; rel="next"` (RFC 8288) has the URL of
 * the next page, which continues from the last message listed.
 */
export function listMessages(ctx: HttpContext, { url }: RouteRequest): Response {
  const page = selectMessages(ctx.store, url.searchParams);
  const headers: Record<string, string> = { "x-total-count": String(page.total) };
  const last = page.messages.at(-1);
  if (page.more && last) {
    const next = new URLSearchParams(url.searchParams);
    next.delete("start");
    next.set(page.ascending ? "after" : "before", last.id);
    headers.link = `</messages?${next}>; rel="next"`;
  }
  return json(200, page.messages.map(messageJson), headers);
}

/**
 * `DELETE /messages[?filters...]`: removes what `GET /messages` with the same query lists
 * (every message without one). `{ "deleted": n, "ids": [...] }`.
 */
export function deleteMessages(ctx: HttpContext, { url }: RouteRequest): Response {
  const { messages } = selectMessages(ctx.store, url.searchParams);
  const byMailbox = new Map<string, MessageMeta[]>();
  for (const meta of messages) {
    const key = `${meta.user}\n${meta.mailbox}`;
    const group = byMailbox.get(key);
    if (group) group.push(meta);
    else byMailbox.set(key, [meta]);
  }
  const ids: string[] = [];
  for (const group of byMailbox.values()) {
    const { user, mailbox } = group[0];
    const removed = new Set(ctx.store.expunge(user, mailbox, group.map((m) => m.uid), true));
    for (const meta of group) if (removed.has(meta.uid)) ids.push(meta.id);
  }
  return json(200, { deleted: ids.length, ids });
}

export interface Located {
  readonly meta: MessageMeta;
  readonly raw: Uint8Array;
  /** The store's cached MIME index of the message. */
  readonly index: MessageIndex;
}

/** The message with this id, or 404. */
export function locate(store: Store, id: string): Located {
  const parsed = parseMessageId(id);
  const meta = parsed && store.getMessage(parsed.user, parsed.mailbox, parsed.uid);
  const raw = parsed && meta && store.getRaw(parsed.user, parsed.mailbox, parsed.uid);
  const index = parsed && raw && store.getIndex(parsed.user, parsed.mailbox, parsed.uid);
  if (!meta || !raw || !index) throw new HttpError(404, `No message with id "${id}"`);
  return { meta, raw, index };
}

/** `GET /messages/{id}`: headers, decoded bodies and attachments. */
export function getMessage(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, raw, index } = locate(ctx.store, params[0]);
  const root = index.root;
  const content = extractContent(raw, root);
  const addresses = (name: string) => displayAddresses(headerValue(root.fields, name) ?? "");
  return json(200, {
    ...messageJson(meta),
    addresses: {
      from: addresses("From"),
      sender: addresses("Sender"),
      replyTo: addresses("Reply-To"),
      to: addresses("To"),
      cc: addresses("Cc"),
      bcc: addresses("Bcc"),
    },
    headers: root.fields.map((field) => ({ name: field.name, value: field.value })),
    text: content.text,
    html: content.html,
    attachments: content.attachments,
  });
}

/**
 * The policy of every piece of message content served as it is (raw messages, parts): a
 * document made of it runs nothing, loads nothing and gets an opaque origin, so a mailed
 * `<script>` or SVG cannot act on the control plane's origin. A part that is an image is
 * still shown when opened: the browser's image view is not governed by the image's policy.
 */
export const CONTENT_CSP = "sandbox; default-src 'none'";

/**
 * Image types a browser shows inline and that cannot script (never SVG, which is a
 * document). Every other part is served as a download.
 */
const INLINE_IMAGES = new Set([
  "image/png",
  "image/apng",
  "image/jpeg",
  "image/pjpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "image/x-icon",
  "image/vnd.microsoft.icon",
]);

/** The headers of message content served as it is; `filename` as stored (may be anything). */
function contentHeaders(
  type: string,
  length: number,
  inline: boolean,
  filename: string | null,
): Record<string, string> {
  let disposition = inline ? "inline" : "attachment";
  if (filename !== null) {
    const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
    disposition += `; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
  }
  return {
    "content-type": type,
    "content-length": String(length),
    "content-disposition": disposition,
    "content-security-policy": CONTENT_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

/** `GET /messages/{id}/raw`: the stored bytes, exactly, as a download (`{id}.eml`). */
export function getRaw(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta, raw } = locate(ctx.store, params[0]);
  const filename = `${meta.id.replace(/[^\w.-]+/g, "_")}.eml`;
  // Streamed past 256 KiB, copied a chunk at a time (lib/mail/shared_bytes.ts).
  return new Response(responseBody(raw), {
    headers: contentHeaders("message/rfc822", raw.length, false, filename),
  });
}

/**
 * `GET /messages/{id}/parts/{n}`: one part, transfer encoding removed, sandboxed; a
 * download unless it is an image that cannot script.
 */
export function getPart(ctx: HttpContext, { params }: RouteRequest): Response {
  const { raw, index } = locate(ctx.store, params[0]);
  const part = findPart(index.root, params[1]);
  if (!part) throw new HttpError(404, `No part "${params[1]}" in message "${params[0]}"`);
  const { type, subtype, params: typeParams } = part.contentType;
  // Parameters only when they fit a header value: stored ones may hold anything.
  const { charset, boundary } = typeParams;
  let contentType = `${type}/${subtype}`;
  if (type === "text" && charset && /^[!#$%&'*+.^_`{|}~0-9A-Za-z-]+$/.test(charset)) {
    contentType += `; charset=${charset}`;
  }
  // A multipart is only readable with its boundary.
  if (part.children.length > 0 && boundary && /^[\x20-\x7e]+$/.test(boundary)) {
    contentType += `; boundary="${boundary.replace(/["\\]/g, "\\$&")}"`;
  }
  // An unknown transfer encoding cannot be removed: the bytes are served as stored.
  const body = isKnownEncoding(part.encoding) ? decodeBody(raw, part) : raw.subarray(
    part.bodyStart,
    part.bodyEnd,
  );
  const filename = partFilename(part);
  const inline = INLINE_IMAGES.has(`${type}/${subtype}`.toLowerCase());
  const headers = contentHeaders(
    contentType,
    body.length,
    inline,
    filename === null ? null : decodeEncodedWords(filename),
  );
  return new Response(responseBody(body), { headers });
}

/** `DELETE /messages/{id}`: removes the message from its mailbox. */
export function deleteMessage(ctx: HttpContext, { params }: RouteRequest): Response {
  const { meta } = locate(ctx.store, params[0]);
  const removed = ctx.store.expunge(meta.user, meta.mailbox, [meta.uid], true);
  if (removed.length === 0) throw new HttpError(404, `No message with id "${params[0]}"`);
  return json(200, { deleted: meta.id });
}
