/**
 * What the MailHog and Mailpit adapters share: the one mailbox they show (every user's
 * INBOX, newest first), paging, and message content served as it is. Both read the same
 * store through the same filters as `/messages` (DESIGN.md: never a second model of the mail).
 *
 * @module
 */

import { responseBody } from "../../mail/shared_bytes.ts";
import type { MessageMeta, Store } from "../../store/types.ts";
import { findMessages, parseMessageFilter } from "../filters.ts";
import { HttpError } from "../json.ts";
import { CONTENT_CSP, locate, type Located } from "../messages.ts";

/**
 * Every user's INBOX as one list, newest first: by INTERNALDATE, then (for messages of the
 * same millisecond) the later delivery first, so the order is the same on every call.
 */
export function inboxNewestFirst(store: Store): MessageMeta[] {
  const all = findMessages(store, parseMessageFilter(new URLSearchParams({ mailbox: "INBOX" })));
  // findMessages gives users in creation order, UIDs ascending: reversed, a stable sort by
  // date keeps later deliveries of one millisecond first.
  return all.reverse().sort((a, b) => b.internalDate - a.internalDate);
}

/** The message with this id if it is in an INBOX (the one mailbox both APIs know), or 404. */
export function locateInbox(store: Store, id: string): Located {
  const found = locate(store, id);
  if (found.meta.mailbox !== "INBOX") throw new HttpError(404, `No message with id "${id}"`);
  return found;
}

/**
 * A non-negative integer query parameter: `fallback` when absent or empty, a 400 when it is
 * not a number, capped at `max`.
 */
export function intParam(params: URLSearchParams, name: string, fallback: number, max: number) {
  const value = params.get(name);
  if (value === null || value === "") return fallback;
  if (!/^[0-9]{1,9}$/.test(value)) {
    throw new HttpError(400, `"${name}" must be a non-negative integer, got "${value}"`);
  }
  return Math.min(Number(value), max);
}

/** Removes every INBOX message of every user; the number removed. */
export function deleteAllInbox(store: Store): number {
  let removed = 0;
  for (const user of store.listUsers()) {
    if (!store.listMailboxes(user).some((mailbox) => mailbox.name === "INBOX")) continue;
    const uids = store.listMessages(user, "INBOX").map((meta) => meta.uid);
    if (uids.length > 0) removed += store.expunge(user, "INBOX", uids, true).length;
  }
  return removed;
}

/**
 * Stored bytes served as they are, with the sandboxing headers of the control plane's own
 * raw and part routes (README, Security): a mailed document runs nothing there.
 */
export function contentResponse(
  bytes: Uint8Array,
  type: string,
  disposition: "inline" | "attachment",
  filename: string | null,
): Response {
  let value: string = disposition;
  if (filename !== null) {
    const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
    value += `; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
  }
  return new Response(responseBody(bytes), {
    headers: {
      "content-type": type,
      "content-length": String(bytes.length),
      "content-disposition": value,
      "content-security-policy": CONTENT_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}

/** Mailpit's message reference: `latest` (the newest message) or an id; 404 otherwise. */
export function targetMessage(store: Store, id: string): MessageMeta {
  if (id !== "latest") return locateInbox(store, id).meta;
  const newest = inboxNewestFirst(store)[0];
  if (!newest) throw new HttpError(404, "No messages");
  return newest;
}

/**
 * MailHog 1.0.1's answer to a delete or a release (MailHog-Server `api/v1.go`): 200, the
 * `Content-Type: text/json` it sets before doing anything, and no body.
 */
export function mailhogEmpty(): Response {
  return new Response(null, { status: 200, headers: { "content-type": "text/json" } });
}
