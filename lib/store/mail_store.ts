/**
 * The store core shared by every backend: all metadata lives in memory (so SELECT, FETCH
 * FLAGS, STORE and SEARCH on flags never touch the disk), every change is written through a
 * {@linkcode Persistence} in one transaction before the call returns, and change events are
 * published after the commit.
 *
 * @module
 */

import { summarizeMessage } from "../mail/summary.ts";
import { applyFlags, hasFlag, internFlags, sameFlags } from "./flags.ts";
import {
  ancestorNames,
  canonicalMailboxName,
  canonicalUserName,
  compareMailboxNames,
  isSameOrBelow,
  validateMailboxName,
} from "./names.ts";
import { MessageIndex } from "../mail/message_index.ts";
import type { BlobRef, Persistence } from "./persistence.ts";
import {
  type AppendOptions,
  DEFAULT_MAILBOXES,
  type FlagChange,
  type FlagOperation,
  formatMessageId,
  type MailboxInfo,
  type MessageMeta,
  type MessageSummary,
  type SelectView,
  type SpecialUse,
  type Store,
  StoreError,
  type StoreEvent,
  type StoreListener,
  UID_VALIDITY,
  type UidMapping,
} from "./types.ts";

interface MessageRecord {
  readonly rowId: number;
  readonly uid: number;
  readonly internalDate: number;
  readonly size: number;
  /** Interned ({@linkcode internFlags}): shared by messages with the same flags. */
  flags: readonly string[];
  readonly summary: MessageSummary;
  readonly blob: BlobRef;
}

/** Where {@linkcode MailStore.getIndex} keeps indexes. */
interface IndexCache {
  get(message: MessageRecord): MessageIndex | undefined;
  /** Stores and returns `index`. */
  set(message: MessageRecord, index: MessageIndex): MessageIndex;
  clear(): void;
}

/**
 * Memory store: the index lives exactly as long as the bytes it describes, which copies of
 * a message share.
 */
class BlobIndexCache implements IndexCache {
  readonly #indexes = new WeakMap<object, MessageIndex>();
  get(message: MessageRecord): MessageIndex | undefined {
    return this.#indexes.get(message.blob as object);
  }
  set(message: MessageRecord, index: MessageIndex): MessageIndex {
    this.#indexes.set(message.blob as object, index);
    return index;
  }
  clear(): void {}
}

/** Most indexes kept by the SQLite store, whose bytes live on disk. */
const LRU_INDEXES = 20_000;

/**
 * SQLite store: the most recently used indexes, keyed by message record (blob row ids can
 * be reused once deleted; records are never reused).
 */
class LruIndexCache implements IndexCache {
  readonly #indexes = new Map<MessageRecord, MessageIndex>();
  get(message: MessageRecord): MessageIndex | undefined {
    const index = this.#indexes.get(message);
    if (index) {
      this.#indexes.delete(message);
      this.#indexes.set(message, index);
    }
    return index;
  }
  set(message: MessageRecord, index: MessageIndex): MessageIndex {
    this.#indexes.set(message, index);
    if (this.#indexes.size > LRU_INDEXES) {
      this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    return index;
  }
  clear(): void {
    this.#indexes.clear();
  }
}

interface MailboxRecord {
  readonly rowId: number;
  name: string;
  specialUse: SpecialUse | null;
  uidNext: number;
  /** Ascending by UID. */
  messages: MessageRecord[];
  byUid: Map<number, MessageRecord>;
  /** Counters kept up to date by {@linkcode count}, so a mailbox's status is O(1). */
  unseen: number;
  deleted: number;
  size: number;
}

interface UserRecord {
  readonly name: string;
  readonly mailboxes: Map<string, MailboxRecord>;
  readonly subscriptions: Set<string>;
}

/** Options for {@linkcode MailStore}. */
export interface MailStoreOptions {
  /** The clock for INTERNALDATE when none is given; defaults to `Date.now`. */
  now?: () => number;
}

/** The {@linkcode Store} implementation over any {@linkcode Persistence}. */
export class MailStore implements Store {
  readonly #persistence: Persistence;
  readonly #now: () => number;
  readonly #users = new Map<string, UserRecord>();
  readonly #uidHighWater = new Map<string, number>();
  readonly #listeners = new Set<StoreListener>();
  readonly #indexes: IndexCache;
  #closed = false;

  constructor(persistence: Persistence, options: MailStoreOptions = {}) {
    this.#persistence = persistence;
    this.#now = options.now ?? Date.now;
    this.#indexes = persistence.kind === "memory" ? new BlobIndexCache() : new LruIndexCache();
    this.#load();
  }

  get kind(): "memory" | "sqlite" {
    return this.#persistence.kind;
  }

  get path(): string | null {
    return this.#persistence.path;
  }

  /**
   * Runs one store operation as one backend transaction. If it fails, a backend that
   * rolls back (SQLite) is the truth: the in-memory copy, which may hold part of the
   * change, is rebuilt from it.
   */
  #transact<T>(fn: () => T): T {
    try {
      return this.#persistence.transaction(fn);
    } catch (error) {
      if (this.#persistence.kind !== "memory") {
        this.#users.clear();
        this.#indexes.clear();
        this.#uidHighWater.clear();
        this.#load();
      }
      throw error;
    }
  }

  #load(): void {
    const state = this.#persistence.load();
    for (const user of state.users) this.#users.set(user, newUser(user));
    const byRowId = new Map<number, MailboxRecord>();
    for (const row of state.mailboxes) {
      const user = this.#users.get(row.user);
      if (!user) continue;
      const mailbox: MailboxRecord = {
        rowId: row.id,
        name: row.name,
        specialUse: row.specialUse,
        uidNext: row.uidNext,
        messages: [],
        byUid: new Map(),
        unseen: 0,
        deleted: 0,
        size: 0,
      };
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
        size: row.size,
        flags: internFlags(row.flags),
        summary: row.summary,
        blob: row.blob,
      };
      mailbox.messages.push(record);
      mailbox.byUid.set(record.uid, record);
      count(mailbox, record, 1);
    }
    for (const { user, name } of state.subscriptions) {
      this.#users.get(user)?.subscriptions.add(name);
    }
    for (const { user, name, uid } of state.uidHighWater) {
      this.#uidHighWater.set(hwmKey(user, name), uid);
    }
  }

  // ---- users ----

  listUsers(): string[] {
    this.#checkOpen();
    return [...this.#users.keys()];
  }

  hasUser(user: string): boolean {
    this.#checkOpen();
    return this.#users.has(user.toLowerCase());
  }

  ensureUser(user: string): boolean {
    this.#checkOpen();
    const name = canonicalUserName(user);
    if (this.#users.has(name)) return false;
    const events: StoreEvent[] = [{ type: "user.created", user: name }];
    this.#transact(() => {
      this.#persistence.insertUser(name);
      const record = newUser(name);
      this.#users.set(name, record);
      for (const { name: mailbox, specialUse } of DEFAULT_MAILBOXES) {
        this.#insertMailbox(record, mailbox, specialUse);
        this.#persistence.setSubscription(name, mailbox, true);
        record.subscriptions.add(mailbox);
        events.push({ type: "mailbox.created", user: name, mailbox });
      }
    });
    this.#emit(events);
    return true;
  }

  // ---- mailboxes ----

  listMailboxes(user: string): MailboxInfo[] {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    if (!record) return [];
    return [...record.mailboxes.values()]
      .sort((a, b) => compareMailboxNames(a.name, b.name))
      .map((mailbox) => this.#info(record, mailbox));
  }

  getMailbox(user: string, name: string): MailboxInfo | undefined {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    const mailbox = record?.mailboxes.get(canonicalMailboxName(name));
    return record && mailbox ? this.#info(record, mailbox) : undefined;
  }

  createMailbox(
    user: string,
    name: string,
    options: { specialUse?: SpecialUse | null } = {},
  ): MailboxInfo {
    this.#checkOpen();
    const canonical = validateMailboxName(name);
    this.ensureUser(user);
    const record = this.#user(user);
    if (record.mailboxes.has(canonical)) {
      throw new StoreError("mailbox-exists", `Cannot create mailbox: ${canonical} already exists`);
    }
    const events: StoreEvent[] = [];
    this.#transact(() => {
      for (const parent of ancestorNames(canonical)) {
        if (record.mailboxes.has(parent)) continue;
        this.#insertMailbox(record, parent, null);
        events.push({ type: "mailbox.created", user: record.name, mailbox: parent });
      }
      this.#insertMailbox(record, canonical, options.specialUse ?? null);
      events.push({ type: "mailbox.created", user: record.name, mailbox: canonical });
    });
    this.#emit(events);
    return this.#info(record, record.mailboxes.get(canonical)!);
  }

  deleteMailbox(user: string, name: string): void {
    this.#checkOpen();
    const record = this.#user(user);
    const mailbox = this.#mailbox(record, name);
    if (mailbox.name === "INBOX") {
      throw new StoreError("cannot-delete-inbox", "Cannot delete INBOX");
    }
    this.#transact(() => {
      this.#persistence.deleteMailbox(mailbox.rowId);
      record.mailboxes.delete(mailbox.name);
    });
    this.#emit([{ type: "mailbox.deleted", user: record.name, mailbox: mailbox.name }]);
  }

  renameMailbox(user: string, from: string, to: string): void {
    this.#checkOpen();
    const record = this.#user(user);
    const source = this.#mailbox(record, from);
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
    const events: StoreEvent[] = [];
    this.#transact(() => {
      for (const parent of ancestorNames(target)) {
        if (record.mailboxes.has(parent)) continue;
        this.#insertMailbox(record, parent, null);
        events.push({ type: "mailbox.created", user: record.name, mailbox: parent });
      }
      if (source.name === "INBOX") {
        // RFC 9051 6.3.6: INBOX's messages move to the new mailbox; INBOX stays, empty,
        // and its inferiors are not renamed.
        const moved = this.#insertMailbox(record, target, null);
        this.#transferAll(record, source, moved);
        events.push({ type: "mailbox.created", user: record.name, mailbox: target });
        return;
      }
      // source.name changes in the loop: slice children by the name it had before.
      const sourceName = source.name;
      for (const mailbox of renamed) {
        const oldName = mailbox.name;
        const newName = target + oldName.slice(sourceName.length);
        record.mailboxes.delete(oldName);
        mailbox.name = newName;
        const key = hwmKey(record.name, newName);
        mailbox.uidNext = Math.max(mailbox.uidNext, (this.#uidHighWater.get(key) ?? 0) + 1);
        // The name now carries this mailbox's UIDs: a later mailbox of the same name (after
        // a delete, or a rename away) must start above them.
        if (mailbox.uidNext - 1 > (this.#uidHighWater.get(key) ?? 0)) {
          this.#persistence.setUidHighWater(record.name, newName, mailbox.uidNext - 1);
          this.#uidHighWater.set(key, mailbox.uidNext - 1);
        }
        record.mailboxes.set(newName, mailbox);
        this.#persistence.updateMailbox(mailbox.rowId, { name: newName, uidNext: mailbox.uidNext });
        events.push({ type: "mailbox.renamed", user: record.name, mailbox: oldName, newName });
      }
    });
    this.#emit(events);
  }

  /** Moves every message of `source` into the empty `target`, renumbering from its UIDNEXT. */
  #transferAll(record: UserRecord, source: MailboxRecord, target: MailboxRecord): void {
    const uids = source.messages.map((message) => message.uid);
    this.#copyInto(record, source, uids, target);
    this.#persistence.deleteMessages(source.messages.map((message) => message.rowId));
    source.messages = [];
    source.byUid.clear();
    source.unseen = 0;
    source.deleted = 0;
    source.size = 0;
  }

  setSubscribed(user: string, name: string, subscribed: boolean): void {
    this.#checkOpen();
    const canonical = validateMailboxName(name);
    this.ensureUser(user);
    const record = this.#user(user);
    if (record.subscriptions.has(canonical) === subscribed) return;
    this.#transact(() => this.#persistence.setSubscription(record.name, canonical, subscribed));
    if (subscribed) record.subscriptions.add(canonical);
    else record.subscriptions.delete(canonical);
    this.#emit([{ type: "mailbox.subscribed", user: record.name, mailbox: canonical, subscribed }]);
  }

  listSubscriptions(user: string): string[] {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    return record ? [...record.subscriptions].sort(compareMailboxNames) : [];
  }

  // ---- messages ----

  append(user: string, mailbox: string, raw: Uint8Array, options: AppendOptions = {}): MessageMeta {
    this.#checkOpen();
    this.ensureUser(user);
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    const flags = internFlags(applyFlags([], "replace", options.flags ?? []));
    const summary = summarizeMessage(raw);
    const message = this.#transact(() => {
      const blob = this.#persistence.storeBlob(raw);
      return this.#insertMessage(record, target, {
        internalDate: options.internalDate ?? this.#now(),
        size: raw.length,
        flags,
        summary,
        blob,
      });
    });
    const meta = toMeta(record.name, target.name, message);
    this.#emit([{ type: "message.added", message: meta }]);
    return meta;
  }

  listMessages(user: string, mailbox: string): MessageMeta[] {
    this.#checkOpen();
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    return target.messages.map((message) => toMeta(record.name, target.name, message));
  }

  selectView(user: string, mailbox: string): SelectView {
    this.#checkOpen();
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    const uids = new Array<number>(target.messages.length);
    const keywords = new Set<string>();
    let firstUnseenUid = 0;
    let previous: readonly string[] | null = null;
    for (let i = 0; i < target.messages.length; i++) {
      const message = target.messages[i];
      uids[i] = message.uid;
      // Interned lists: runs of messages share one, whose keywords are already in.
      if (message.flags === previous) continue;
      previous = message.flags;
      for (const flag of message.flags) if (flag.charCodeAt(0) !== 0x5c) keywords.add(flag);
      if (firstUnseenUid === 0 && !hasFlag(message.flags, "\\Seen")) firstUnseenUid = message.uid;
    }
    return { info: this.#info(record, target), uids, keywords: [...keywords], firstUnseenUid };
  }

  getMessage(user: string, mailbox: string, uid: number): MessageMeta | undefined {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    const target = record?.mailboxes.get(canonicalMailboxName(mailbox));
    const message = target?.byUid.get(uid);
    return record && target && message ? toMeta(record.name, target.name, message) : undefined;
  }

  getRaw(user: string, mailbox: string, uid: number): Uint8Array | undefined {
    const message = this.#messageRecord(user, mailbox, uid);
    return message ? this.#persistence.readBlob(message.blob) : undefined;
  }

  getIndex(user: string, mailbox: string, uid: number): MessageIndex | undefined {
    const message = this.#messageRecord(user, mailbox, uid);
    if (!message) return undefined;
    return this.#indexes.get(message) ??
      this.#indexes.set(message, new MessageIndex(this.#persistence.readBlob(message.blob)));
  }

  #messageRecord(user: string, mailbox: string, uid: number): MessageRecord | undefined {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    return record?.mailboxes.get(canonicalMailboxName(mailbox))?.byUid.get(uid);
  }

  setFlags(
    user: string,
    mailbox: string,
    uids: readonly number[],
    operation: FlagOperation,
    flags: readonly string[],
  ): FlagChange[] {
    this.#checkOpen();
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    const changes: FlagChange[] = [];
    // Each distinct (interned) list is worked out once: its new list, or itself if unchanged,
    // and what the change does to the mailbox's counters.
    const outcomes = new Map<readonly string[], FlagOutcome>();
    this.#transact(() => {
      for (const uid of uids) {
        const message = target.byUid.get(uid);
        if (!message) continue;
        let outcome = outcomes.get(message.flags);
        if (!outcome) {
          outcome = flagOutcome(message.flags, applyFlags(message.flags, operation, flags));
          outcomes.set(message.flags, outcome);
        }
        const { next } = outcome;
        if (next === message.flags) continue;
        this.#persistence.updateFlags(message.rowId, next);
        target.unseen += outcome.unseen;
        target.deleted += outcome.deleted;
        message.flags = next;
        changes.push({ uid, flags: next });
      }
    });
    if (changes.length > 0) {
      this.#emit([{ type: "flags.changed", user: record.name, mailbox: target.name, changes }]);
    }
    return changes;
  }

  copyMessages(user: string, from: string, uids: readonly number[], to: string): UidMapping {
    this.#checkOpen();
    const record = this.#user(user);
    const source = this.#mailbox(record, from);
    const target = this.#mailbox(record, to);
    const { mapping, added } = this.#transact(() => this.#copyInto(record, source, uids, target));
    this.#emit(added.map((message) => ({ type: "message.added", message })));
    return mapping;
  }

  moveMessages(user: string, from: string, uids: readonly number[], to: string): UidMapping {
    this.#checkOpen();
    const record = this.#user(user);
    const source = this.#mailbox(record, from);
    const target = this.#mailbox(record, to);
    if (source === target) {
      throw new StoreError("invalid-name", "Cannot move messages into the mailbox they are in");
    }
    const { mapping, added, removed } = this.#transact(() => {
      const copied = this.#copyInto(record, source, uids, target);
      const removed = this.#remove(source, new Set(copied.mapping.sourceUids));
      return { ...copied, removed };
    });
    const events: StoreEvent[] = added.map((message) => ({ type: "message.added", message }));
    if (removed.length > 0) {
      events.push({
        type: "message.expunged",
        user: record.name,
        mailbox: source.name,
        uids: removed,
      });
    }
    this.#emit(events);
    return mapping;
  }

  expunge(user: string, mailbox: string, uids?: readonly number[], force = false): number[] {
    this.#checkOpen();
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    const limit = uids ? new Set(uids) : null;
    const doomed = new Set<number>();
    for (const message of target.messages) {
      if (limit && !limit.has(message.uid)) continue;
      if (force || hasFlag(message.flags, "\\Deleted")) doomed.add(message.uid);
    }
    if (doomed.size === 0) return [];
    const removed = this.#transact(() => this.#remove(target, doomed));
    this.#emit([{
      type: "message.expunged",
      user: record.name,
      mailbox: target.name,
      uids: removed,
    }]);
    return removed;
  }

  // ---- whole store ----

  reset(): void {
    this.#checkOpen();
    this.#transact(() => this.#persistence.clear());
    this.#users.clear();
    this.#uidHighWater.clear();
    this.#indexes.clear();
    this.#emit([{ type: "reset" }]);
  }

  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#persistence.close();
  }

  // ---- internals ----

  #checkOpen(): void {
    if (this.#closed) throw new StoreError("closed", "Cannot use the store: it is closed");
  }

  #user(user: string): UserRecord {
    const record = this.#users.get(user.toLowerCase());
    if (!record) throw new StoreError("no-such-user", `Cannot find user ${user}`);
    return record;
  }

  #mailbox(record: UserRecord, name: string): MailboxRecord {
    const mailbox = record.mailboxes.get(canonicalMailboxName(name));
    if (!mailbox) throw new StoreError("no-such-mailbox", `Cannot find mailbox ${name}`);
    return mailbox;
  }

  #insertMailbox(record: UserRecord, name: string, specialUse: SpecialUse | null): MailboxRecord {
    const uidNext = (this.#uidHighWater.get(hwmKey(record.name, name)) ?? 0) + 1;
    const rowId = this.#persistence.insertMailbox({ user: record.name, name, specialUse, uidNext });
    const mailbox: MailboxRecord = {
      rowId,
      name,
      specialUse,
      uidNext,
      messages: [],
      byUid: new Map(),
      unseen: 0,
      deleted: 0,
      size: 0,
    };
    record.mailboxes.set(name, mailbox);
    return mailbox;
  }

  #insertMessage(
    record: UserRecord,
    mailbox: MailboxRecord,
    fields: Omit<MessageRecord, "rowId" | "uid">,
  ): MessageRecord {
    const uid = mailbox.uidNext;
    const rowId = this.#persistence.insertMessage({ mailboxId: mailbox.rowId, uid, ...fields });
    mailbox.uidNext = uid + 1;
    this.#persistence.updateMailbox(mailbox.rowId, { uidNext: mailbox.uidNext });
    this.#persistence.setUidHighWater(record.name, mailbox.name, uid);
    this.#uidHighWater.set(hwmKey(record.name, mailbox.name), uid);
    const message: MessageRecord = { rowId, uid, ...fields };
    mailbox.messages.push(message);
    mailbox.byUid.set(uid, message);
    count(mailbox, message, 1);
    return message;
  }

  #copyInto(
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
      const copy = this.#insertMessage(record, target, {
        internalDate: original.internalDate,
        size: original.size,
        flags: original.flags,
        summary: original.summary,
        blob: original.blob,
      });
      destinationUids.push(copy.uid);
      added.push(toMeta(record.name, target.name, copy));
    }
    return { mapping: { uidValidity: UID_VALIDITY, sourceUids, destinationUids }, added };
  }

  #remove(mailbox: MailboxRecord, uids: ReadonlySet<number>): number[] {
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
    this.#persistence.deleteMessages(rowIds);
    return removed;
  }

  /** O(1): the counters are kept by {@linkcode count} on every change. */
  #info(record: UserRecord, mailbox: MailboxRecord): MailboxInfo {
    return {
      user: record.name,
      name: mailbox.name,
      specialUse: mailbox.specialUse,
      subscribed: record.subscriptions.has(mailbox.name),
      uidValidity: UID_VALIDITY,
      uidNext: mailbox.uidNext,
      messages: mailbox.messages.length,
      unseen: mailbox.unseen,
      deleted: mailbox.deleted,
      size: mailbox.size,
    };
  }

  #emit(events: readonly StoreEvent[]): void {
    for (const event of events) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(event);
        } catch (error) {
          console.error("Store listener failed:", error);
        }
      }
    }
  }
}

interface FlagOutcome {
  /** The interned new list; the old one itself when nothing changes. */
  readonly next: readonly string[];
  /** Change of the mailbox's unseen and deleted counters. */
  readonly unseen: number;
  readonly deleted: number;
}

function flagOutcome(current: readonly string[], applied: readonly string[]): FlagOutcome {
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

/** Adds (`sign` 1) or takes away (`sign` -1) one message's share of the mailbox counters. */
function count(mailbox: MailboxRecord, message: MessageRecord, sign: 1 | -1): void {
  const share = counterShare(message.flags);
  mailbox.unseen += sign * share.unseen;
  mailbox.deleted += sign * share.deleted;
  mailbox.size += sign * message.size;
}

function newUser(name: string): UserRecord {
  return { name, mailboxes: new Map(), subscriptions: new Set() };
}

function hwmKey(user: string, mailbox: string): string {
  return `${user}\u0000${mailbox}`;
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
  readonly size: number;
  readonly flags: readonly string[];
  readonly summary: MessageSummary;
  constructor(user: string, mailbox: string, message: MessageRecord) {
    this.user = user;
    this.mailbox = mailbox;
    this.uid = message.uid;
    this.internalDate = message.internalDate;
    this.size = message.size;
    this.flags = message.flags;
    this.summary = message.summary;
  }
  get id(): string {
    return formatMessageId(this.user, this.mailbox, this.uid);
  }
  toJSON(): MessageMeta {
    const { id, user, mailbox, uid, internalDate, size, flags, summary } = this;
    return { id, user, mailbox, uid, internalDate, size, flags, summary };
  }
}

function toMeta(user: string, mailbox: string, message: MessageRecord): MessageMeta {
  return new MetaSnapshot(user, mailbox, message);
}
