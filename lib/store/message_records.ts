/**
 * The only code that changes a mailbox's message list: adding a message (giving it the next
 * UID), copying, removing, and moving all of a mailbox's messages. Functions over the
 * store's records and its backend (see `records.ts`) that keep the two, the per-mailbox
 * counters and the UID high-water marks in step; each must run inside the store's
 * transaction.
 *
 * @module
 */

import { noteUidGiven } from "./mailbox_tree.ts";
import {
  count,
  type MailboxRecord,
  type MessageRecord,
  type StoreState,
  toMeta,
  type UserRecord,
} from "./records.ts";
import { type MessageMeta, type StoreEvent, UID_VALIDITY, type UidMapping } from "./types.ts";

/** Adds a message to `mailbox` under its UIDNEXT, which moves up by one. */
export function insertMessage(
  state: StoreState,
  record: UserRecord,
  mailbox: MailboxRecord,
  fields: Omit<MessageRecord, "rowId" | "uid">,
): MessageRecord {
  const uid = mailbox.uidNext;
  const rowId = state.persistence.insertMessage({ mailboxId: mailbox.rowId, uid, ...fields });
  mailbox.uidNext = uid + 1;
  state.persistence.updateMailbox(mailbox.rowId, { uidNext: mailbox.uidNext });
  noteUidGiven(state, record.name, mailbox.name, uid);
  const message: MessageRecord = { rowId, uid, ...fields };
  mailbox.messages.push(message);
  mailbox.byUid.set(uid, message);
  count(mailbox, message, 1);
  return message;
}

/**
 * Copies the messages of `source` with these UIDs (missing ones ignored) into `target`, in
 * UID order, with their flags, date and bytes.
 */
export function copyMessages(
  state: StoreState,
  record: UserRecord,
  source: MailboxRecord,
  uids: readonly number[],
  target: MailboxRecord,
): { mapping: UidMapping; added: MessageMeta[] } {
  const sourceUids = [...new Set(uids)].filter((uid) => source.byUid.has(uid)).sort((a, b) =>
    a - b
  );
  const destinationUids: number[] = [];
  const added: MessageMeta[] = [];
  for (const uid of sourceUids) {
    const original = source.byUid.get(uid)!;
    const copy = insertMessage(state, record, target, {
      internalDate: original.internalDate,
      size: original.size,
      flags: original.flags,
      summary: original.summary,
      envelope: original.envelope,
      blob: original.blob,
    });
    destinationUids.push(copy.uid);
    added.push(toMeta(record.name, target.name, copy));
  }
  return { mapping: { uidValidity: UID_VALIDITY, sourceUids, destinationUids }, added };
}

/** Removes the messages with these UIDs; returns the removed UIDs, ascending. */
export function removeMessages(
  state: StoreState,
  mailbox: MailboxRecord,
  uids: ReadonlySet<number>,
): number[] {
  const removed: number[] = [];
  const rowIds: number[] = [];
  const kept: MessageRecord[] = [];
  for (const message of mailbox.messages) {
    if (uids.has(message.uid)) {
      removed.push(message.uid);
      rowIds.push(message.rowId);
      mailbox.byUid.delete(message.uid);
      count(mailbox, message, -1);
    } else kept.push(message);
  }
  mailbox.messages = kept;
  state.persistence.deleteMessages(rowIds);
  return removed;
}

/**
 * Moves every message of `source` into the empty `target`, renumbering from its UIDNEXT;
 * returns the events that say so (sessions on `source` hear the messages go).
 */
export function moveAllMessages(
  state: StoreState,
  record: UserRecord,
  source: MailboxRecord,
  target: MailboxRecord,
): StoreEvent[] {
  const uids = source.messages.map((message) => message.uid);
  if (uids.length === 0) return [];
  const { added } = copyMessages(state, record, source, uids, target);
  state.persistence.deleteMessages(source.messages.map((message) => message.rowId));
  source.messages = [];
  source.byUid.clear();
  source.unseen = 0;
  source.deleted = 0;
  source.size = 0;
  return [
    { type: "message.expunged", user: record.name, mailbox: source.name, uids },
    ...added.map((message): StoreEvent => ({ type: "message.added", message })),
  ];
}
