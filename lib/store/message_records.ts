/**
 * The only code that changes a mailbox's message list: adding a message (giving it the next
 * UID), copying, removing, and moving all of a mailbox's messages. Functions over the
 * store's records and its backend (see `records.ts`) that keep the two, the per-mailbox
 * counters and the UID high-water marks in step; each must run inside the store's
 * transaction.
 *
 * @module
 */

import type { MessageIndex } from "../mail/message_index.ts";
import { type MessageSummary, summarizeMessage, summaryOf } from "../mail/summary.ts";
import { noteUidGiven } from "./mailbox_tree.ts";
import { logModseq, nextModseq, recordVanished } from "./modseq.ts";
import { applyFlags, internFlags } from "./flags.ts";
import {
  appendUid,
  clearMessages,
  count,
  type FlagOutcome,
  flagOutcome,
  indexAtOrAbove,
  type MailboxRecord,
  type MessageRecord,
  recountFlags,
  releaseBytes,
  replaceUids,
  type StoreState,
  toMeta,
  type UserRecord,
} from "./records.ts";
import {
  type FlagChange,
  type FlagOperation,
  type MessageMeta,
  type NewAppend,
  type StoreEvent,
  UID_VALIDITY,
  type UidMapping,
} from "./types.ts";

/** A message ready to append: everything that can fail on the input has run. */
export type PreparedAppend =
  & Omit<MessageRecord, "rowId" | "uid" | "modseq" | "blob" | "emailId" | "index">
  & {
    readonly raw: Uint8Array;
    readonly transfer: boolean;
  };

/**
 * The record fields of a message to append (flags interned, summary parsed), made before
 * the transaction, so the memory backend, which cannot roll back, is all-or-none too.
 */
export function prepareAppend(
  { raw, options = {} }: NewAppend,
  now: number,
  index?: MessageIndex,
): PreparedAppend {
  return {
    raw,
    transfer: options.transfer === true,
    internalDate: options.internalDate ?? now,
    saveDate: now,
    size: raw.length,
    // No flags (every SMTP delivery): the shared empty list without sorting or a map.
    flags: options.flags === undefined || options.flags.length === 0
      ? internFlags([])
      : internFlags(applyFlags([], "replace", options.flags)),
    summary: summaryOfMessage(raw, index),
    envelope: options.envelope ?? null,
  };
}

/**
 * The summary of `raw`, from the root fields `index` (of `raw`, just built) parsed when it has
 * them still (no view of its root has taken them), else read from the bytes.
 */
function summaryOfMessage(raw: Uint8Array, index: MessageIndex | undefined): MessageSummary {
  const fields = index?.parts.parsedRootFields;
  return fields ? summaryOf(fields) : summarizeMessage(raw);
}

/** Appends prepared messages in order, each with its own MODSEQ (MULTIAPPEND: one call). */
export function appendMessages(
  state: StoreState,
  record: UserRecord,
  mailbox: MailboxRecord,
  messages: readonly PreparedAppend[],
): MessageRecord[] {
  return messages.map((message) => {
    const blob = state.persistence.storeBlob(message.raw, message.transfer);
    // OBJECTID (RFC 8474): a new message gets the user's next EMAILID; copies keep theirs.
    // Not written here: the backend derives the counter at open from the user's messages,
    // and it is written when messages leave ({@linkcode noteEmailIdsLeaving}).
    const emailId = ++record.lastEmailId;
    const modseq = nextModseq(state, mailbox);
    // Fields named one by one, not spread: one append per delivered message.
    return insertMessage(state, record, mailbox, {
      internalDate: message.internalDate,
      saveDate: message.saveDate,
      size: message.size,
      flags: message.flags,
      summary: message.summary,
      envelope: message.envelope,
      blob,
      emailId,
      index: null,
    }, modseq);
  });
}

/**
 * Adds a message to `mailbox` under its UIDNEXT, which moves up by one, with `modseq` (taken
 * by the caller: one per operation).
 */
export function insertMessage(
  state: StoreState,
  record: UserRecord,
  mailbox: MailboxRecord,
  fields: Omit<MessageRecord, "rowId" | "uid" | "modseq">,
  modseq: number,
): MessageRecord {
  const uid = mailbox.uidNext;
  // The record's fields named one by one (no spreads): one object of a fixed shape.
  const message: MessageRecord = {
    rowId: 0,
    uid,
    internalDate: fields.internalDate,
    saveDate: fields.saveDate,
    size: fields.size,
    flags: fields.flags,
    summary: fields.summary,
    envelope: fields.envelope,
    blob: fields.blob,
    emailId: fields.emailId,
    modseq,
    index: fields.index,
  };
  const rowId = state.persistence.insertMessage(mailbox.rowId, message);
  // UIDNEXT is not written: the backend derives it at open from the highest UID of the
  // mailbox's messages and vanished ranges (a UID leaves only into a vanished range), and the
  // name's high-water mark is written when the mailbox leaves the name (`mailbox_tree.ts`).
  mailbox.uidNext = uid + 1;
  noteUidGiven(state, record.name, mailbox.name, uid);
  // The row id is known once the row is in: set here, readonly from now on.
  (message as { rowId: number }).rowId = rowId;
  mailbox.messages.push(message);
  mailbox.byUid.set(uid, message);
  appendUid(mailbox, uid);
  count(mailbox, message, 1);
  logModseq(mailbox, message);
  return message;
}

/**
 * Changes the flags of the messages with these UIDs (missing ones ignored); returns the
 * messages whose flags changed. All of them take one new MODSEQ; a message whose flags stay
 * as they were keeps its MODSEQ.
 */
export function changeFlags(
  state: StoreState,
  mailbox: MailboxRecord,
  uids: readonly number[],
  operation: FlagOperation,
  flags: readonly string[],
): FlagChange[] {
  // As many as the UIDs at most, made once: grown by push, the array's copies were a fifth of
  // what a STORE of 5,000 allocates. Cut to the changes made at the end.
  const changes: FlagChange[] = new Array(uids.length);
  let changed = 0;
  // Each distinct (interned) list is worked out once: its new list, or itself if unchanged,
  // and what the change does to the mailbox's counters; `moved` counts its messages changed,
  // for the mailbox's counters, settled once per list at the end. Messages in a row mostly
  // share a list, so the last one's entry is tried before the map.
  const outcomes = new Map<readonly string[], { outcome: FlagOutcome; moved: number }>();
  let lastFlags: readonly string[] | null = null;
  let entry: { outcome: FlagOutcome; moved: number } | undefined;
  let modseq = 0;
  // The memory backend keeps no rows: its updateFlags is a no-op, not worth a call.
  const persistence = state.persistence.kind === "memory" ? null : state.persistence;
  // The rows changed, as runs of consecutive row ids taking the same list, handed to the
  // backend a run at a time: a call a message cost a first STORE of 5,000 on a SQLite store
  // ~0.6 ms of its ~1.5 (the backend's code runs cold for so many calls).
  let runFirst = 0;
  let runCount = 0;
  let runList = flags; // read only once runCount > 0
  const log = mailbox.modseqLog;
  // Ascending UIDs are matched walking the messages alongside, as in messagesAt (inline:
  // one pass instead of two over a large change).
  const { messages, byUid } = mailbox;
  let k = uids.length > 0 ? indexAtOrAbove(mailbox, uids[0]) : 0;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i];
    let message: MessageRecord | undefined = messages[k];
    if (message !== undefined && message.uid === uid) k++;
    else {
      message = byUid.get(uid);
      if (message === undefined) continue;
    }
    const current = message.flags;
    if (current !== lastFlags || entry === undefined) {
      entry = outcomes.get(current);
      if (entry === undefined) {
        const outcome = flagOutcome(current, applyFlags(current, operation, flags));
        entry = { outcome, moved: 0 };
        outcomes.set(current, entry);
      }
      lastFlags = current;
    }
    const next = entry.outcome.next;
    if (next === current) continue;
    if (modseq === 0) modseq = nextModseq(state, mailbox);
    if (persistence !== null) {
      const rowId = message.rowId;
      if (runCount > 0 && rowId === runFirst + runCount && next === runList) runCount++;
      else {
        if (runCount > 0) persistence.updateFlags(runFirst, runCount, runList, modseq);
        runFirst = rowId;
        runCount = 1;
        runList = next;
      }
    }
    entry.moved++;
    message.flags = next;
    message.modseq = modseq;
    // As logModseq, inline: one entry per changed message while the log exists.
    if (log !== null) log.push({ modseq, message });
    changes[changed++] = { uid, flags: next, modseq };
  }
  if (runCount > 0) persistence!.updateFlags(runFirst, runCount, runList, modseq);
  changes.length = changed;
  for (const [from, { outcome, moved }] of outcomes) {
    if (moved === 0) continue;
    mailbox.unseen += outcome.unseen * moved;
    mailbox.deleted += outcome.deleted * moved;
    recountFlags(mailbox, from, outcome.next, moved);
  }
  return changes;
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
  const modseq = sourceUids.length > 0 ? nextModseq(state, target) : 0;
  const saveDate = state.now();
  for (const uid of sourceUids) {
    const original = source.byUid.get(uid)!;
    const copy = insertMessage(state, record, target, {
      internalDate: original.internalDate,
      // RFC 8514: a copy (or a moved message) is saved into the target now.
      saveDate,
      size: original.size,
      flags: original.flags,
      summary: original.summary,
      envelope: original.envelope,
      blob: original.blob,
      emailId: original.emailId,
      // The same bytes: the same index, when it is built already (index_cache.ts).
      index: original.index,
    }, modseq);
    destinationUids.push(copy.uid);
    added.push(toMeta(record.name, target.name, copy));
  }
  return { mapping: { uidValidity: UID_VALIDITY, sourceUids, destinationUids }, added };
}

/**
 * Moves the messages of `source` with these UIDs (missing ones ignored) to `target`: copies,
 * then removes the originals. Into the same mailbox too (RFC 6851 allows it): the copies get
 * new UIDs above every existing one, so removing the originals by their old UIDs never touches
 * a copy.
 */
export function moveMessages(
  state: StoreState,
  record: UserRecord,
  source: MailboxRecord,
  uids: readonly number[],
  target: MailboxRecord,
): { mapping: UidMapping; added: MessageMeta[]; removed: number[] } {
  const copied = copyMessages(state, record, source, uids, target);
  // The copies keep the originals' bytes: nothing is let go.
  const removed = removeMessages(state, record, source, new Set(copied.mapping.sourceUids), false);
  return { ...copied, removed };
}

/**
 * Removes the messages with these UIDs; returns the removed UIDs, ascending. An expunge is a
 * change: the mailbox takes a new MODSEQ and remembers the UIDs as vanished at it. `release`:
 * their bytes go with them (not when copies keep them, as after a move).
 */
export function removeMessages(
  state: StoreState,
  record: UserRecord,
  mailbox: MailboxRecord,
  uids: ReadonlySet<number>,
  release = true,
): number[] {
  const removed: number[] = [];
  const rowIds: number[] = [];
  const gone: MessageRecord[] = [];
  const kept: MessageRecord[] = [];
  const keptUids: number[] = [];
  for (const message of mailbox.messages) {
    if (uids.has(message.uid)) {
      removed.push(message.uid);
      rowIds.push(message.rowId);
      gone.push(message);
      mailbox.byUid.delete(message.uid);
      count(mailbox, message, -1);
    } else {
      kept.push(message);
      keptUids.push(message.uid);
    }
  }
  mailbox.messages = kept;
  replaceUids(mailbox, keptUids);
  state.persistence.deleteMessages(rowIds);
  if (removed.length > 0) {
    recordVanished(state, mailbox, removed, nextModseq(state, mailbox));
    noteEmailIdsLeaving(state, record);
  }
  if (release) releaseBytes(gone);
  return removed;
}

/**
 * Writes the user's EMAILID counter as messages leave (expunged, or with their mailbox):
 * the highest EMAILID may go with them, and the counter derived at open from the messages
 * left would then give it again.
 */
export function noteEmailIdsLeaving(state: StoreState, record: UserRecord): void {
  state.persistence.setLastEmailId(record.name, record.lastEmailId);
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
  noteEmailIdsLeaving(state, record);
  clearMessages(source);
  source.modseqLog = null;
  const modseq = nextModseq(state, source);
  recordVanished(state, source, uids, modseq);
  return [
    { type: "message.expunged", user: record.name, mailbox: source.name, uids, modseq },
    ...added.map((message): StoreEvent => ({ type: "message.added", message })),
  ];
}
