/**
 * Metadata entries (RFC 5464 annotations) of a user (server entries) and of her mailboxes:
 * entry name (canonical, lower case, `/private/...` or `/shared/...`) -> value bytes. They live in
 * the records (a mailbox's go with it on RENAME and are gone with it on DELETE) and are
 * written through the backend. The IMAP layer checks names and limits.
 *
 * @module
 */

import type { MailboxRecord, StoreState, UserRecord } from "./records.ts";

/** The entries of a mailbox, or of the user (server entries) when `mailbox` is null. */
export function entriesOf(
  record: UserRecord,
  mailbox: MailboxRecord | null,
): Map<string, Uint8Array> {
  return mailbox ? mailbox.metadata : record.metadata;
}

/**
 * Sets (a value) or removes (null) entries, in order; must run inside the store's
 * transaction. Values are copied: the caller's buffers may change afterwards.
 */
export function writeEntries(
  state: StoreState,
  record: UserRecord,
  mailbox: MailboxRecord | null,
  entries: ReadonlyArray<readonly [string, Uint8Array | null]>,
): void {
  const target = entriesOf(record, mailbox);
  for (const [name, value] of entries) {
    const copy = value && value.slice();
    state.persistence.setMetadata(record.name, mailbox?.rowId ?? 0, name, copy);
    if (copy) target.set(name, copy);
    else target.delete(name);
  }
}
