/**
 * The order and paging of `GET /messages` and `DELETE /messages`: newest first across users
 * by default (`order=asc` reverses), `before`/`after` cursors, `start` (an offset) and
 * `limit`, and the total before paging.
 *
 * The order is one comparator, {@linkcode listingComparator}: the key is the arrival time
 * (INTERNALDATE), then user, mailbox and UID, so it is total and the same on every call.
 * A `sort=` parameter plugs in there; the cursors compare with the same comparator, so they
 * keep working with any key.
 *
 * @module
 */

import { type MessageMeta, parseMessageId, type Store } from "../store/types.ts";
import { canonicalUserName } from "../store/names.ts";
import { HttpError } from "./json.ts";

/** The parameters `GET /messages` accepts besides the filters. */
export const LISTING_PARAMS = ["order", "limit", "start", "before", "after"];

/** A cursor: a stored message (by its key), or a time. */
export type Cursor =
  | { readonly kind: "message"; readonly meta: MessageMeta }
  | { readonly kind: "time"; readonly ms: number };

/** How to order and cut the matching messages. */
export interface Listing {
  /** `desc` (default): newest first. */
  readonly order: "asc" | "desc";
  /** Only messages whose key is below this cursor's (older, for the default key). */
  readonly before: Cursor | null;
  /** Only messages whose key is above this cursor's (newer). */
  readonly after: Cursor | null;
  /** Messages skipped after the cursors, before `limit`. */
  readonly start: number;
  readonly limit: number;
}

/** A comparator of the listing key, ascending. */
export type Comparator = (a: MessageMeta, b: MessageMeta) => number;

/**
 * The listing key, ascending: arrival time, then user, mailbox and UID (a later delivery
 * into one mailbox in the same millisecond has the higher UID, so it counts as newer).
 */
export function listingComparator(_params: URLSearchParams): Comparator {
  return (a, b) =>
    a.internalDate - b.internalDate || compareText(a.user, b.user) ||
    compareText(a.mailbox, b.mailbox) || a.uid - b.uid;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads `order`, `limit`, `start`, `before` and `after`; a bad value is a 400 naming it. */
export function parseListing(store: Store, params: URLSearchParams): Listing {
  const order = params.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw new HttpError(400, `"order" must be asc or desc, got "${order}"`);
  }
  return {
    order,
    before: parseCursor(store, params, "before"),
    after: parseCursor(store, params, "after"),
    start: count(params, "start") ?? 0,
    limit: count(params, "limit") ?? Infinity,
  };
}

function count(params: URLSearchParams, name: string): number | null {
  const value = params.get(name);
  if (value === null) return null;
  if (!/^[0-9]{1,9}$/.test(value)) {
    throw new HttpError(400, `"${name}" must be a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

/** A message id (the message must be stored), epoch milliseconds or an ISO 8601 time. */
function parseCursor(store: Store, params: URLSearchParams, name: string): Cursor | null {
  const value = params.get(name);
  if (value === null) return null;
  if (/^[0-9]{1,15}$/.test(value)) return { kind: "time", ms: Number(value) };
  const id = parseMessageId(value);
  if (id) {
    let user: string | null = null;
    try {
      user = canonicalUserName(id.user);
    } catch {
      // not a user name: try it as a date below
    }
    const meta = user === null ? undefined : store.getMessage(user, id.mailbox, id.uid);
    if (meta) return { kind: "message", meta };
    if (user !== null && !/^\d{4}-\d\d-\d\d/.test(value)) {
      throw new HttpError(
        400,
        `"${name}" names no stored message: "${value}" (deleted? page on from a message ` +
          `still listed)`,
      );
    }
  }
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return { kind: "time", ms };
  }
  throw new HttpError(
    400,
    `Cannot read "${name}": "${value}" is not a message id (user:mailbox:uid), ` +
      `an ISO 8601 time or epoch milliseconds`,
  );
}

/** Where `meta` stands against a cursor: negative below it, positive above. */
function against(compare: Comparator, meta: MessageMeta, cursor: Cursor): number {
  if (cursor.kind === "message") return compare(meta, cursor.meta);
  return meta.internalDate < cursor.ms ? -1 : meta.internalDate > cursor.ms ? 1 : 0;
}

/** One page of a listing, and how many matched before paging. */
export interface Page {
  readonly messages: MessageMeta[];
  readonly total: number;
  /** Whether messages follow this page. */
  readonly more: boolean;
}

/**
 * Orders `matching` by `compare` (reversed for `desc`), keeps what lies between the cursors,
 * skips `start` and takes `limit`. `total` counts every match, cursors and paging aside.
 */
export function pageOf(matching: MessageMeta[], listing: Listing, compare: Comparator): Page {
  const { before, after, order } = listing;
  const between = matching.filter((meta) =>
    (before === null || against(compare, meta, before) < 0) &&
    (after === null || against(compare, meta, after) > 0)
  );
  between.sort(order === "asc" ? compare : (a, b) => compare(b, a));
  const end = listing.start + listing.limit;
  return {
    messages: between.slice(listing.start, end),
    total: matching.length,
    more: end < between.length,
  };
}
