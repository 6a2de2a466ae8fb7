/**
 * A user's mailbox tree, as functions over the store's records and its backend (see
 * `records.ts`): users with their default mailboxes, creating a mailbox with its missing
 * parents, deleting one, renaming one with its children, and the UID high-water marks that
 * keep UIDs increasing under a name (DESIGN.md: UIDs are never reused under a name, also
 * across RENAME). Each function writes through the backend and must run inside the store's
 * transaction; the store emits the events they return once it has committed.
 *
 * @module
 */

import { addRange, logModseq, nextModseq, recordVanished } from "./modseq.ts";
import { ancestorNames, isSameOrBelow, validateMailboxName } from "./names.ts";
import type { PersistedState } from "./persistence.ts";
import {
  type MailboxRecord,
  newMailboxRecord,
  newUserRecord,
  releaseBytes,
  replaceUids,
  type StoreState,
  toMeta,
  type UserRecord,
} from "./records.ts";
import { DEFAULT_MAILBOXES, type SpecialUse, StoreError, type StoreEvent } from "./types.ts";

function markKey(user: string, mailbox: string): string {
  return `${user}\u0000${mailbox}`;
}

/**
 * Takes the high-water marks a backend loaded, with the UIDs the loaded mailboxes (in
 * `state.users`) have given under their names: those are kept in memory only while a mailbox
 * holds its name, and written when it leaves it ({@linkcode noteLeaving}).
 */
export function loadUidHighWater(state: StoreState, rows: PersistedState["uidHighWater"]): void {
  for (const { user, name, uid, modseq } of rows) {
    state.uidHighWater.set(markKey(user, name), uid);
    if (modseq > 0) state.modseqHighWater.set(markKey(user, name), modseq);
  }
  for (const record of state.users.values()) {
    for (const mailbox of record.mailboxes.values()) {
      if (mailbox.uidNext - 1 > uidHighWater(state, record.name, mailbox.name)) {
        state.uidHighWater.set(markKey(record.name, mailbox.name), mailbox.uidNext - 1);
      }
    }
  }
}

/** The highest MODSEQ a mailbox that left this name had reached, 0 if none. */
function modseqHighWater(state: StoreState, user: string, mailbox: string): number {
  return state.modseqHighWater.get(markKey(user, mailbox)) ?? 0;
}

/**
 * Writes the name's high-water marks as a mailbox leaves it (deleted or renamed away): the
 * highest UID given under it, which is kept in memory only while a mailbox holds the name
 * (its UIDNEXT says it then), and the mailbox's HIGHESTMODSEQ.
 */
function noteLeaving(state: StoreState, user: string, mailbox: MailboxRecord): void {
  const uid = Math.max(uidHighWater(state, user, mailbox.name), mailbox.uidNext - 1);
  if (uid > 0) {
    state.persistence.setUidHighWater(user, mailbox.name, uid);
    state.uidHighWater.set(markKey(user, mailbox.name), uid);
  }
  if (mailbox.highestModseq <= modseqHighWater(state, user, mailbox.name)) return;
  state.persistence.setModseqHighWater(user, mailbox.name, mailbox.highestModseq);
  state.modseqHighWater.set(markKey(user, mailbox.name), mailbox.highestModseq);
}

/**
 * RFC 7162 3.2.5.1 across names reused: a mailbox that takes a name other mailboxes had
 * carried gets a HIGHESTMODSEQ above theirs, and reports their UIDs (1 to the name's
 * high-water mark) as vanished at it, so a client that resynchronises the name from an
 * older MODSEQ learns that its messages are gone. Returns the MODSEQ taken, 0 for a name
 * never used.
 */
function succeedName(
  state: StoreState,
  user: string,
  mailbox: MailboxRecord,
  uidMark: number,
): number {
  const modseqMark = modseqHighWater(state, user, mailbox.name);
  if (uidMark === 0 && modseqMark === 0) return 0;
  if (modseqMark >= mailbox.highestModseq) mailbox.highestModseq = modseqMark;
  const modseq = nextModseq(state, mailbox);
  // Written: when the name gave no UID, no row carries this MODSEQ (see `nextModseq`).
  state.persistence.updateMailbox(mailbox.rowId, { highestModseq: modseq });
  if (uidMark > 0) addRange(state, mailbox, { start: 1, end: uidMark, modseq });
  return modseq;
}

/** The highest UID ever given under this name, 0 if none. */
function uidHighWater(state: StoreState, user: string, mailbox: string): number {
  return state.uidHighWater.get(markKey(user, mailbox)) ?? 0;
}

/**
 * Notes that `uid`, the highest yet, was given under this name: in memory only, since the
 * mailbox holding the name has it as its UIDNEXT - 1 (derived at open by the backend) until
 * it leaves the name, when {@linkcode noteLeaving} writes it.
 */
export function noteUidGiven(state: StoreState, user: string, mailbox: string, uid: number): void {
  state.uidHighWater.set(markKey(user, mailbox), uid);
}

/** Adds a mailbox record whose UIDs start above every UID its name has carried. */
export function insertMailbox(
  state: StoreState,
  record: UserRecord,
  name: string,
  specialUse: SpecialUse | null,
): MailboxRecord {
  const uidNext = uidHighWater(state, record.name, name) + 1;
  const objectId = ++record.lastMailboxId;
  state.persistence.setLastMailboxId(record.name, objectId);
  const rowId = state.persistence.insertMailbox({
    objectId,
    user: record.name,
    name,
    specialUse,
    uidNext,
    highestModseq: 1,
  });
  const mailbox = newMailboxRecord(rowId, objectId, name, specialUse, uidNext, 1);
  record.mailboxes.set(name, mailbox);
  succeedName(state, record.name, mailbox, uidNext - 1);
  return mailbox;
}

/** Adds the user `name` (canonical, new) with the default mailboxes, subscribed. */
export function addUser(state: StoreState, name: string): StoreEvent[] {
  const events: StoreEvent[] = [{ type: "user.created", user: name }];
  state.persistence.insertUser(name);
  const record = newUserRecord(name);
  state.users.set(name, record);
  for (const { name: mailbox, specialUse } of DEFAULT_MAILBOXES) {
    insertMailbox(state, record, mailbox, specialUse);
    state.persistence.setSubscription(name, mailbox, true);
    record.subscriptions.add(mailbox);
    events.push({ type: "mailbox.created", user: name, mailbox });
  }
  return events;
}

/** Adds the missing parents of `name` (canonical, not taken), then `name`. */
export function createMailboxPath(
  state: StoreState,
  record: UserRecord,
  name: string,
  specialUse: SpecialUse | null,
): StoreEvent[] {
  const events: StoreEvent[] = [];
  for (const parent of ancestorNames(name)) {
    if (record.mailboxes.has(parent)) continue;
    insertMailbox(state, record, parent, null);
    events.push({ type: "mailbox.created", user: record.name, mailbox: parent });
  }
  insertMailbox(state, record, name, specialUse);
  events.push({ type: "mailbox.created", user: record.name, mailbox: name });
  return events;
}

/** Removes a mailbox and its messages; its children stay. */
export function deleteMailbox(state: StoreState, record: UserRecord, mailbox: MailboxRecord): void {
  noteLeaving(state, record.name, mailbox);
  // The user's EMAILID counter, which the backend derives from the messages left at open
  // (as `noteEmailIdsLeaving` in `message_records.ts`, which imports this module).
  if (mailbox.messages.length > 0) {
    state.persistence.setLastEmailId(record.name, record.lastEmailId);
  }
  state.persistence.deleteMailbox(mailbox.rowId);
  record.mailboxes.delete(mailbox.name);
  releaseBytes(mailbox.messages);
}

/** A checked rename: see {@linkcode planRename}. */
export interface RenamePlan {
  /** The new name, canonical. */
  readonly target: string;
  /** The source and its children, parents first (none when the source is INBOX). */
  readonly renamed: readonly MailboxRecord[];
}

/** Checks that `source` can be renamed to `to`; throws the {@linkcode StoreError} if not. */
export function planRename(record: UserRecord, source: MailboxRecord, to: string): RenamePlan {
  const target = validateMailboxName(to);
  if (record.mailboxes.has(target)) {
    throw new StoreError("mailbox-exists", `Cannot rename mailbox: ${target} already exists`);
  }
  if (isSameOrBelow(target, source.name)) {
    throw new StoreError(
      "invalid-name",
      "Cannot rename mailbox: the new name is inside the old one",
    );
  }
  // The children move too: none of their new names may be taken (a child of the target
  // can outlive a deleted target), except by a mailbox that is itself being renamed away.
  const renamed = source.name === "INBOX" ? [] : [...record.mailboxes.values()]
    .filter((mailbox) => isSameOrBelow(mailbox.name, source.name))
    .sort((a, b) => a.name.length - b.name.length);
  const leaving = new Set(renamed.map((mailbox) => mailbox.name));
  for (const mailbox of renamed) {
    const newName = target + mailbox.name.slice(source.name.length);
    if (record.mailboxes.has(newName) && !leaving.has(newName)) {
      throw new StoreError(
        "mailbox-exists",
        `Cannot rename mailbox: ${newName} already exists`,
      );
    }
  }
  return { target, renamed };
}

/**
 * Renames a mailbox other than INBOX and its children as `plan` says, after adding the
 * missing parents of the new name. The UID rule (RFC 9051 2.3.1.1 with UIDVALIDITY fixed at
 * 1): no UID ever names two different messages under one name. A mailbox renamed onto a
 * name that never carried one of its UIDs keeps them; otherwise its messages are renumbered
 * above every UID the new name has carried and above their own (see
 * {@linkcode renumberAbove}), and the events say so: the old UIDs expunged, the new ones
 * added, after the rename. Either way its UIDNEXT rises above the name's high-water mark.
 */
export function renameMailboxes(
  state: StoreState,
  record: UserRecord,
  source: MailboxRecord,
  plan: RenamePlan,
): StoreEvent[] {
  const { target, renamed } = plan;
  const events: StoreEvent[] = [];
  for (const parent of ancestorNames(target)) {
    if (record.mailboxes.has(parent)) continue;
    insertMailbox(state, record, parent, null);
    events.push({ type: "mailbox.created", user: record.name, mailbox: parent });
  }
  // source.name changes in the loop: slice children by the name it had before.
  const sourceName = source.name;
  for (const mailbox of renamed) {
    const oldName = mailbox.name;
    const newName = target + oldName.slice(sourceName.length);
    noteLeaving(state, record.name, mailbox);
    record.mailboxes.delete(oldName);
    mailbox.name = newName;
    const mark = uidHighWater(state, record.name, newName);
    const modseq = succeedName(state, record.name, mailbox, mark);
    const renumbered = renumberAbove(state, mailbox, mark, modseq);
    mailbox.uidNext = Math.max(mailbox.uidNext, mark + 1);
    // The name now carries this mailbox's UIDs: a later mailbox of the same name (after
    // a delete, or a rename away) must start above them.
    if (mailbox.uidNext - 1 > mark) noteUidGiven(state, record.name, newName, mailbox.uidNext - 1);
    record.mailboxes.set(newName, mailbox);
    state.persistence.updateMailbox(mailbox.rowId, {
      name: newName,
      uidNext: mailbox.uidNext,
      highestModseq: mailbox.highestModseq,
    });
    events.push({ type: "mailbox.renamed", user: record.name, mailbox: oldName, newName });
    if (renumbered.length > 0) {
      events.push({
        type: "message.expunged",
        user: record.name,
        mailbox: newName,
        uids: renumbered,
        modseq,
      });
      for (const message of mailbox.messages) {
        events.push({ type: "message.added", message: toMeta(record.name, newName, message) });
      }
    }
  }
  return events;
}

/**
 * Gives the messages of `mailbox` new UIDs if any of them is at or below `mark`, the highest
 * UID its (new) name has carried: consecutive UIDs, in the same order, from above both the
 * mark and the mailbox's own UIDNEXT, so a new UID is neither one the name gave before nor
 * one the mailbox holds (no two rows ever share a UID, and a session that follows the rename
 * sees them as new messages). Returns the UIDs given up, ascending; none when nothing
 * changed. Flags, dates, bytes and counters stay; message ids derived from the UID change.
 */
function renumberAbove(
  state: StoreState,
  mailbox: MailboxRecord,
  mark: number,
  modseq: number,
): number[] {
  const { messages } = mailbox;
  if (messages.length === 0 || messages[0].uid > mark) return [];
  const old: number[] = [];
  let uid = Math.max(mark + 1, mailbox.uidNext);
  mailbox.byUid.clear();
  const uids: number[] = [];
  replaceUids(mailbox, uids);
  for (const message of messages) {
    old.push(message.uid);
    message.uid = uid++;
    message.modseq = modseq;
    state.persistence.updateMessageUid(message.rowId, message.uid, modseq, message.flags);
    mailbox.byUid.set(message.uid, message);
    uids.push(message.uid);
    logModseq(mailbox, message);
  }
  mailbox.uidNext = uid;
  // The old UIDs are gone from the mailbox; the new ones are new messages at `modseq`.
  recordVanished(state, mailbox, old, modseq);
  return old;
}
