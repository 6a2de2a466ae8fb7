/**
 * Delivery into users' mailboxes, shared by SMTP and the HTTP control plane.
 *
 * @module
 */

import { DAY_NAMES, MONTH_NAMES } from "./mail/dates.ts";
import type { MessageMeta, Store } from "./store/types.ts";

/**
 * Appends `raw` to `mailbox` of each distinct user, creating the user and the mailbox on
 * first delivery. Returns the stored messages in user order. All or nothing for the user
 * cap: if the users to create do not all fit, nothing is delivered (`user-limit`), so a
 * client that retries later does not deliver twice.
 */
export function deliver(
  store: Store,
  users: readonly string[],
  raw: Uint8Array,
  options: { mailbox?: string; flags?: readonly string[]; internalDate?: number } = {},
): MessageMeta[] {
  const mailbox = options.mailbox ?? "INBOX";
  const stored: MessageMeta[] = [];
  const appendOptions = { flags: options.flags, internalDate: options.internalDate };
  const distinct = new Set(users);
  store.checkUserLimit(distinct);
  for (const user of distinct) {
    store.ensureUser(user);
    if (!store.getMailbox(user, mailbox)) store.createMailbox(user, mailbox);
    stored.push(store.append(user, mailbox, raw, appendOptions));
  }
  return stored;
}

/** An RFC 5322 date-time in UTC: `Wed, 25 Nov 2026 07:22:01 +0000`. */
export function formatRfc5322Date(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${DAY_NAMES[d.getUTCDay()]}, ${d.getUTCDate()} ${
    MONTH_NAMES[d.getUTCMonth()]
  } ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
