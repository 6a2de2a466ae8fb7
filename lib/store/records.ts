/**
 * The store core's in-memory records (every user, mailbox and message's metadata; bytes stay
 * in the backend) and their conversions: from the rows a backend loads, to the snapshots
 * the {@linkcode Store} interface hands out. Also the per-mailbox counters, kept on every
 * change so a mailbox's status is O(1).
 *
 * @module
 */

import type { MessageIndex } from "../mail/message_index.ts";
import type { MessageSummary } from "../mail/summary.ts";
import { SHARED_BYTES } from "../mail/shared_bytes.ts";
import { hasFlag, internFlags, sameFlags } from "./flags.ts";
import type { BlobRef, PersistedState, Persistence, VanishedRange } from "./persistence.ts";
import {
  formatEmailId,
  formatMailboxId,
  formatMessageId,
  type MailboxInfo,
  type MessageEnvelope,
  type MessageMeta,
  type SelectView,
  type SpecialUse,
  UID_VALIDITY,
} from "./types.ts";

/** A stored message's metadata; its bytes are in the backend (`blob`). */
export interface MessageRecord {
  readonly rowId: number;
  /** Changes only when a rename renumbers the mailbox's messages (`mailbox_tree.ts`). */
  uid: number;
  readonly internalDate: number;
  /** The save date (RFC 8514): when the message came into this mailbox. */
  readonly saveDate: number;
  readonly size: number;
  /** Interned ({@linkcode internFlags}): shared by messages with the same flags. */
  flags: readonly string[];
  readonly summary: MessageSummary;
  readonly envelope: MessageEnvelope | null;
  readonly blob: BlobRef;
  /**
   * The user's message counter when the message was stored: its EMAILID (RFC 8474). Copies
   * and moves keep it: they are the same message.
   */
  readonly emailId: number;
  /** Rises with every change to the message (`modseq.ts`). */
  modseq: number;
  /**
   * The MIME index of the message's bytes once built, with the memory store (index_cache.ts;
   * null until then, and always with SQLite, whose indexes are kept apart).
   */
  index: MessageIndex | null;
}

/** One entry of a mailbox's modseq log (`modseq.ts`): the message, and the MODSEQ it got then. */
export interface ModseqLogEntry {
  readonly modseq: number;
  readonly message: MessageRecord;
}

/** A mailbox and its messages. `name` and `uidNext` change on rename. */
export interface MailboxRecord {
  readonly rowId: number;
  /** The user's creation counter when it was made: its MAILBOXID (RFC 8474), kept on rename. */
  readonly objectId: number;
  name: string;
  specialUse: SpecialUse | null;
  uidNext: number;
  /** Ascending by UID. */
  messages: MessageRecord[];
  byUid: Map<number, MessageRecord>;
  /**
   * The UIDs of {@linkcode messages}, in the same order, kept with it (`message_records.ts`,
   * `mailbox_tree.ts`): SELECT hands them out without a pass over thousands of records, which
   * right after a burst of APPENDs ran in V8's interpreter (issue 13). Changed only through
   * {@linkcode appendUid} and {@linkcode replaceUids}: SELECT shares the array itself (see
   * {@linkcode uidsShared}).
   */
  uids: number[];
  /**
   * {@linkcode uids} was handed out by {@linkcode selectViewOf} and may be read by a session:
   * the next change copies it first (copy-on-write), so a SELECT of a large mailbox costs no
   * copy of its UID list (issue 13: 5,000 UIDs, 16 us and 40 KB the next scavenge moved).
   */
  uidsShared: boolean;
  /**
   * How many messages carry each interned flag list, kept by {@linkcode count} and
   * {@linkcode recountFlags}: SELECT's keywords come from its few keys, not from every message.
   */
  readonly flagLists: Map<readonly string[], number>;
  /** Counters kept up to date by {@linkcode count}, so a mailbox's status is O(1). */
  unseen: number;
  deleted: number;
  size: number;
  /** HIGHESTMODSEQ (RFC 7162 3.1.1): the MODSEQ of the mailbox's latest change. */
  highestModseq: number;
  /** Messages in MODSEQ order, built on first use (`modseq.ts`); null until then. */
  modseqLog: ModseqLogEntry[] | null;
  /** Expunged UIDs with their MODSEQ: ascending, disjoint, non-touching (`modseq.ts`). */
  vanished: VanishedRange[];
  /** Metadata entries (RFC 5464), by canonical name (`metadata.ts`). */
  readonly metadata: Map<string, Uint8Array>;
}

/** A user: mailboxes by canonical name, and subscribed names (which may not exist). */
export interface UserRecord {
  readonly name: string;
  readonly mailboxes: Map<string, MailboxRecord>;
  readonly subscriptions: Set<string>;
  /** The highest {@linkcode MailboxRecord.objectId} given to one of the user's mailboxes. */
  lastMailboxId: number;
  /** The highest {@linkcode MessageRecord.emailId} given to one of the user's messages. */
  lastEmailId: number;
  /** Server metadata entries (RFC 5464), by canonical name (`metadata.ts`). */
  readonly metadata: Map<string, Uint8Array>;
}

/**
 * What the store core and its helpers (`mailbox_tree.ts`) work on: the backend every change
 * is written through, and the records it mirrors.
 */
export interface StoreState {
  readonly persistence: Persistence;
  /** By canonical (lower-case) user name, in creation order. */
  readonly users: Map<string, UserRecord>;
  /** Highest UID ever given per (user, mailbox name); see `mailbox_tree.ts`. */
  readonly uidHighWater: Map<string, number>;
  /** Highest MODSEQ reached per (user, mailbox name) by mailboxes that left the name. */
  readonly modseqHighWater: Map<string, number>;
  /** The store clock: the save date of copies and moves (RFC 8514). */
  readonly now: () => number;
}

/** A user without mailboxes. */
export function newUserRecord(name: string): UserRecord {
  return {
    name,
    mailboxes: new Map(),
    subscriptions: new Set(),
    lastMailboxId: 0,
    lastEmailId: 0,
    metadata: new Map(),
  };
}

/** An empty mailbox with its backend row id. */
export function newMailboxRecord(
  rowId: number,
  objectId: number,
  name: string,
  specialUse: SpecialUse | null,
  uidNext: number,
  highestModseq: number,
): MailboxRecord {
  return {
    rowId,
    objectId,
    name,
    specialUse,
    uidNext,
    messages: [],
    byUid: new Map(),
    uids: [],
    uidsShared: false,
    flagLists: new Map(),
    unseen: 0,
    deleted: 0,
    size: 0,
    highestModseq,
    modseqLog: null,
    vanished: [],
    metadata: new Map(),
  };
}

/** Builds the records of the users, mailboxes, messages and subscriptions a backend loaded. */
export function loadRecords(users: Map<string, UserRecord>, state: PersistedState): void {
  for (const user of state.users) users.set(user, newUserRecord(user));
  const byRowId = new Map<number, MailboxRecord>();
  for (const row of state.mailboxes) {
    const user = users.get(row.user);
    if (!user) continue;
    const mailbox = newMailboxRecord(
      row.id,
      row.objectId,
      row.name,
      row.specialUse,
      row.uidNext,
      row.highestModseq,
    );
    user.mailboxes.set(row.name, mailbox);
    byRowId.set(row.id, mailbox);
  }
  for (const row of state.messages) {
    const mailbox = byRowId.get(row.mailboxId);
    if (!mailbox) continue;
    const record: MessageRecord = {
      rowId: row.id,
      uid: row.uid,
      internalDate: row.internalDate,
      saveDate: row.saveDate,
      size: row.size,
      flags: internFlags(row.flags),
      summary: row.summary,
      envelope: row.envelope,
      blob: row.blob,
      emailId: row.emailId,
      modseq: row.modseq,
      index: null,
    };
    mailbox.messages.push(record);
    mailbox.byUid.set(record.uid, record);
    appendUid(mailbox, record.uid);
    count(mailbox, record, 1);
  }
  for (const { user, mailboxId, name, value } of state.metadata) {
    if (mailboxId === 0) users.get(user)?.metadata.set(name, value);
    else byRowId.get(mailboxId)?.metadata.set(name, value);
  }
  for (const { user, last, lastEmail } of state.lastMailboxIds) {
    const record = users.get(user);
    if (!record) continue;
    record.lastMailboxId = last;
    record.lastEmailId = lastEmail;
  }
  for (const { user, name } of state.subscriptions) {
    users.get(user)?.subscriptions.add(name);
  }
  for (const { mailboxId, start, end, modseq } of state.vanished) {
    byRowId.get(mailboxId)?.vanished.push({ start, end, modseq });
  }
}

/** O(1): the counters are kept by {@linkcode count} on every change. */
export function mailboxInfo(record: UserRecord, mailbox: MailboxRecord): MailboxInfo {
  return {
    user: record.name,
    name: mailbox.name,
    mailboxId: formatMailboxId(mailbox.objectId),
    specialUse: mailbox.specialUse,
    subscribed: record.subscriptions.has(mailbox.name),
    uidValidity: UID_VALIDITY,
    uidNext: mailbox.uidNext,
    messages: mailbox.messages.length,
    unseen: mailbox.unseen,
    deleted: mailbox.deleted,
    size: mailbox.size,
    highestModseq: mailbox.highestModseq,
  };
}

/**
 * A snapshot of a message's metadata. The id string is built only when read: SELECT and
 * FETCH FLAGS walk thousands of messages and never ask for it.
 */
class MetaSnapshot implements MessageMeta {
  readonly user: string;
  readonly mailbox: string;
  readonly uid: number;
  readonly internalDate: number;
  readonly saveDate: number;
  readonly size: number;
  readonly flags: readonly string[];
  readonly summary: MessageSummary;
  readonly envelope: MessageEnvelope | null;
  readonly modseq: number;
  readonly #emailId: number;
  constructor(user: string, mailbox: string, message: MessageRecord) {
    this.user = user;
    this.mailbox = mailbox;
    this.uid = message.uid;
    this.internalDate = message.internalDate;
    this.saveDate = message.saveDate;
    this.size = message.size;
    this.flags = message.flags;
    this.summary = message.summary;
    this.envelope = message.envelope;
    this.modseq = message.modseq;
    this.#emailId = message.emailId;
  }
  get id(): string {
    return formatMessageId(this.user, this.mailbox, this.uid);
  }
  get emailId(): string {
    return formatEmailId(this.#emailId);
  }
  /** The fields as they were before EMAILID, which the HTTP API does not show. */
  toJSON(): Omit<MessageMeta, "emailId"> {
    return {
      id: this.id,
      user: this.user,
      mailbox: this.mailbox,
      uid: this.uid,
      internalDate: this.internalDate,
      saveDate: this.saveDate,
      size: this.size,
      flags: this.flags,
      summary: this.summary,
      envelope: this.envelope,
      modseq: this.modseq,
    };
  }
}

/** The index in the mailbox's (UID-ordered) messages of the first with a UID at or above `uid`. */
export function indexAtOrAbove(mailbox: MailboxRecord, uid: number): number {
  const list = mailbox.uids;
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid] < uid) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The records of the messages with these UIDs (undefined where none), in their order. UIDs
 * in ascending order, as commands give them, are matched by walking the mailbox's messages
 * (also UID-ordered) alongside: an array read and a compare per message instead of a map
 * lookup, which counts while `STORE 1:*` or `FETCH 1:*` of a fresh mailbox runs in V8's
 * interpreter. Any UID off the walk is looked up in the map. `ascending` true promises the
 * UIDs strictly ascend (no repeats).
 */
export function messagesAt(
  mailbox: MailboxRecord,
  uids: readonly number[],
  ascending = false,
): Array<MessageRecord | undefined> {
  const { messages, byUid } = mailbox;
  const n = uids.length;
  if (n === 0) return [];
  let k = indexAtOrAbove(mailbox, uids[0]);
  // Strictly ascending UIDs n - 1 apart are the n numbers from the first; when the mailbox's
  // n records from k on end at the last, they are those n (UIDs ascend in it too): one native
  // slice instead of a walk, for a FETCH 1:* of a freshly loaded mailbox.
  if (ascending && uids[n - 1] - uids[0] === n - 1 && messages[k + n - 1]?.uid === uids[n - 1]) {
    return messages.slice(k, k + n);
  }
  const found = new Array<MessageRecord | undefined>(n);
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i];
    const message = messages[k];
    if (message !== undefined && message.uid === uid) {
      found[i] = message;
      k++;
    } else found[i] = byUid.get(uid);
  }
  return found;
}

/** The {@linkcode MessageMeta} snapshot of a message. */
export function toMeta(user: string, mailbox: string, message: MessageRecord): MessageMeta {
  return new MetaSnapshot(user, mailbox, message);
}

/** What a flag change does: see {@linkcode flagOutcome}. */
export interface FlagOutcome {
  /** The interned new list; the old one itself when nothing changes. */
  readonly next: readonly string[];
  /** Change of the mailbox's unseen and deleted counters. */
  readonly unseen: number;
  readonly deleted: number;
}

/** The outcome of replacing a message's `current` flags by `applied`. */
export function flagOutcome(current: readonly string[], applied: readonly string[]): FlagOutcome {
  if (sameFlags(applied, current)) return { next: current, unseen: 0, deleted: 0 };
  const before = counterShare(current);
  const after = counterShare(applied);
  return {
    next: internFlags(applied),
    unseen: after.unseen - before.unseen,
    deleted: after.deleted - before.deleted,
  };
}

/** What a message with these flags adds to its mailbox's unseen and deleted counters. */
function counterShare(flags: readonly string[]): { unseen: number; deleted: number } {
  return {
    unseen: hasFlag(flags, "\\Seen") ? 0 : 1,
    deleted: hasFlag(flags, "\\Deleted") ? 1 : 0,
  };
}

/**
 * Adds (`sign` 1) or takes away (`sign` -1) one message's share of the mailbox counters
 * (with its flag list's count).
 */
export function count(mailbox: MailboxRecord, message: MessageRecord, sign: 1 | -1): void {
  const share = counterShare(message.flags);
  mailbox.unseen += sign * share.unseen;
  mailbox.deleted += sign * share.deleted;
  mailbox.size += sign * message.size;
  countFlagList(mailbox, message.flags, sign);
}

/** Moves `moved` messages from the count of flag list `from` to that of `to` (a STORE). */
export function recountFlags(
  mailbox: MailboxRecord,
  from: readonly string[],
  to: readonly string[],
  moved: number,
): void {
  countFlagList(mailbox, from, -moved);
  countFlagList(mailbox, to, moved);
}

function countFlagList(mailbox: MailboxRecord, flags: readonly string[], change: number): void {
  const n = (mailbox.flagLists.get(flags) ?? 0) + change;
  if (n > 0) mailbox.flagLists.set(flags, n);
  else mailbox.flagLists.delete(flags);
}

/**
 * Adds a UID (above the others) to the end of a mailbox's {@linkcode MailboxRecord.uids},
 * copying the list first when a SELECT shares it.
 */
export function appendUid(mailbox: MailboxRecord, uid: number): void {
  if (mailbox.uidsShared) {
    mailbox.uids = mailbox.uids.slice();
    mailbox.uidsShared = false;
  }
  mailbox.uids.push(uid);
}

/** Gives a mailbox a new {@linkcode MailboxRecord.uids} list (a shared one is left as it was). */
export function replaceUids(mailbox: MailboxRecord, uids: number[]): void {
  mailbox.uids = uids;
  mailbox.uidsShared = false;
}

/** Empties a mailbox's message list, its UIDs and counters (its messages moved away). */
export function clearMessages(mailbox: MailboxRecord): void {
  mailbox.messages = [];
  mailbox.byUid.clear();
  replaceUids(mailbox, []);
  mailbox.flagLists.clear();
  mailbox.unseen = 0;
  mailbox.deleted = 0;
  mailbox.size = 0;
}

/**
 * What IMAP SELECT needs (see `Store.selectView`), from what the mailbox keeps up to date: its UID
 * list (shared, copied on the mailbox's next change), the keywords of its distinct flag lists, and
 * the first unseen message, looked for only when the unseen counter says there is one (and then
 * found at once after a burst of new mail, which is unseen).
 */
export function selectViewOf(record: UserRecord, target: MailboxRecord): SelectView {
  const keywords = new Set<string>();
  for (const flags of target.flagLists.keys()) {
    for (const flag of flags) if (flag.charCodeAt(0) !== 0x5c) keywords.add(flag);
  }
  let firstUnseenUid = 0;
  if (target.unseen > 0) {
    let previous: readonly string[] | null = null;
    for (const message of target.messages) {
      // Interned lists: a run of messages sharing one is checked once.
      if (message.flags === previous) continue;
      previous = message.flags;
      if (!hasFlag(message.flags, "\\Seen")) {
        firstUnseenUid = message.uid;
        break;
      }
    }
  }
  return {
    info: mailboxInfo(record, target),
    uids: shareUids(target),
    keywords: [...keywords],
    firstUnseenUid,
  };
}

/** The mailbox's UID list itself, marked shared: its next change copies it first. */
function shareUids(mailbox: MailboxRecord): readonly number[] {
  mailbox.uidsShared = true;
  return mailbox.uids;
}

/**
 * The memory store lets go of these messages' bytes (an expunge, a deleted mailbox, a reset):
 * told to the shared-bytes ledger, which collects once enough may be garbage
 * (lib/mail/shared_bytes.ts). Bytes still shared by a copy in another mailbox are counted too: the
 * count errs toward a collection more. The SQLite store's blobs are row ids: nothing to tell.
 */
export function releaseBytes(messages: Iterable<MessageRecord>): void {
  let length = 0;
  for (const { blob } of messages) {
    if (typeof blob !== "number" && blob.buffer instanceof SharedArrayBuffer) length += blob.length;
  }
  if (length > 0) SHARED_BYTES.release(length);
}
