/**
 * `GET /messages?sort=KEY` (issue 15): the listing ordered with IMAP SORT's keys and
 * comparators (imap/sort.ts, RFC 5256): `date` (the Date: field, else the arrival time),
 * `arrival`, `from` (the first sender's local part), `subject` (the base subject, without
 * Re:/Fwd:/[list]), `size`; a leading `-` reverses. Equal keys keep the listing's order
 * (users, mailboxes, UIDs). The keys are the ones IMAP caches in each message's MIME index,
 * so a repeated sorted listing does not parse headers again.
 *
 * @module
 */

import { MessageIndex } from "../mail/message_index.ts";
import { sortFields, sortItems, type SortKey } from "../imap/sort.ts";
import type { MessageMeta, Store } from "../store/types.ts";
import { HttpError } from "./json.ts";

const KEYS: Readonly<Record<string, SortKey>> = {
  date: "DATE",
  arrival: "ARRIVAL",
  from: "FROM",
  subject: "SUBJECT",
  size: "SIZE",
};

const EMPTY = new Uint8Array(0);

/**
 * `messages` ordered by the `sort=` value, or a 400 naming the keys for an unknown one.
 *
 * @example
 * ```ts
 * sortMessages(store, findMessages(store, filter), "-date"); // newest first
 * ```
 */
export function sortMessages(
  store: Store,
  messages: readonly MessageMeta[],
  value: string,
): MessageMeta[] {
  const reverse = value.startsWith("-");
  const key = KEYS[reverse ? value.slice(1) : value];
  if (key === undefined) {
    const names = Object.keys(KEYS).join(", ");
    throw new HttpError(400, `Unknown sort "${value}" (use ${names}, with - to reverse)`);
  }
  // Positions stand in for IMAP sequence numbers: ties keep the listing's order.
  const items = messages.map((meta, i) => ({
    seq: i + 1,
    uid: meta.uid,
    internalDate: meta.internalDate,
    size: meta.size,
    meta,
  }));
  const sorted = sortItems(
    items,
    [{ key, reverse }],
    ({ meta }) =>
      sortFields(store.getIndex(meta.user, meta.mailbox, meta.uid) ?? new MessageIndex(EMPTY)),
  );
  return sorted.map((item) => item.meta);
}
