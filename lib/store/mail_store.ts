/**
 * The store core shared by every backend: all metadata lives in memory (so SELECT, FETCH
 * FLAGS, STORE and SEARCH on flags never touch the disk), every change is written through a
 * {@linkcode Persistence} in one transaction before the call returns, and change events are
 * published after the commit. SMTP deliveries share a commit instead (`shareCommit`): the
 * calls of one turn of the event loop go into one transaction, committed in a microtask or by
 * the next call from anyone else, and their events wait for it, so no other caller ever sees
 * a change that may still be undone.
 *
 * This class opens the store, runs each operation as one transaction, emits the events, and
 * does the message operations. What it works on is apart: the records and their conversions
 * in `records.ts`, the mailbox tree (create, delete, rename, UID high-water marks) in
 * `mailbox_tree.ts`, the changes to a mailbox's message list in `message_records.ts`, the
 * MIME index cache in `index_cache.ts`, the change listeners in `listeners.ts`.
 *
 * @module
 */

import { MessageIndex } from "../mail/message_index.ts";
import { TableSlab } from "../mail/mime_table.ts";
import { AccessKeys } from "./access_keys.ts";
import { hasFlag } from "./flags.ts";
import { StoreListeners } from "./listeners.ts";
import { type IndexCache, indexCacheFor } from "./index_cache.ts";
import {
  addUser,
  createMailboxPath,
  deleteMailbox,
  loadUidHighWater,
  planRename,
  renameMailboxes,
} from "./mailbox_tree.ts";
import {
  canonicalMailboxName,
  canonicalUserName,
  compareMailboxNames,
  validateMailboxName,
} from "./names.ts";
import {
  appendMessages as appendRecords,
  changeFlags,
  copyMessages,
  moveAllMessages,
  moveMessages,
  prepareAppend,
  removeMessages,
} from "./message_records.ts";
import { changedSince, vanishedSince } from "./modseq.ts";
import { entriesOf, writeEntries } from "./metadata.ts";
import { checkUserRoom, type UserLimit, userLimit } from "./user_limit.ts";
import type { Persistence } from "./persistence.ts";
import {
  loadRecords,
  mailboxInfo,
  type MailboxRecord,
  type MessageRecord,
  messagesAt,
  releaseBytes,
  selectViewOf,
  type StoreState,
  toMeta,
  type UserRecord,
} from "./records.ts";
import {
  type AppendOptions,
  type FlagChange,
  type FlagOperation,
  type MailboxInfo,
  type MessageMeta,
  type MessageState,
  type NewAppend,
  type PendingCommit,
  type SelectView,
  type SpecialUse,
  type Store,
  StoreError,
  type StoreEvent,
  type StoreListener,
  type UidMapping,
} from "./types.ts";

/**
 * The largest message indexed as the memory store appends it (see `appendMessages`): the
 * most indexing at delivery does in the delivery's turn (imap/warm.ts), so a larger one is
 * indexed no sooner than it was.
 */
const INDEX_AT_APPEND_BYTES = 1024 * 1024;

/** Options for {@linkcode MailStore}. */
export interface MailStoreOptions {
  /** The clock for INTERNALDATE when none is given; defaults to `Date.now`. */
  now?: () => number;
  /** Users created on demand the store holds at most; unlimited when absent. */
  maxUsers?: number;
  /** Users always created and not counted toward `maxUsers` (the configured ones). */
  exemptUsers?: readonly string[];
  /**
   * Whether a message the memory store appends alone is indexed in the same call (see
   * `appendMessages`); absent: always. The server says yes only while an IMAP or POP3 client
   * is connected, as for indexing at delivery (imap/warm.ts). Otherwise the index waits for
   * the pause after the burst: an SMTP burst's messages kept their parsed fields through two
   * scavenges each, which doubled the scavenges' pauses (issue 13, round 18).
   */
  indexAtAppend?: () => boolean;
}

/** The {@linkcode Store} implementation over any {@linkcode Persistence}. */
export class MailStore implements Store {
  readonly #state: StoreState;
  /** The state's backend and users, for short. */
  readonly #persistence: Persistence;
  readonly #users: Map<string, UserRecord>;
  readonly #now: () => number;
  readonly #indexAtAppend: (() => boolean) | null;
  readonly #listeners = new StoreListeners();
  readonly #indexes: IndexCache;
  /** What the indexes of appended one-part messages are cut from (see `TableSlab`). */
  readonly #tableSlab = new TableSlab();
  readonly #userLimit: UserLimit;
  #accessKeys!: AccessKeys;
  #closed = false;
  /** The commit `shareCommit` calls wait for; null when none is open. */
  #shared: SharedCommit | null = null;
  /** Whether a `shareCommit` call is running: its calls join the shared commit. */
  #inShared = false;
  /** Holders of the shared commit (`holdSharedCommit`): while any, no microtask makes it. */
  #holds = 0;
  /** Transactions begun (`#transact`), counted so a failed `shareCommit` knows if it wrote. */
  #transactions = 0;

  constructor(persistence: Persistence, options: MailStoreOptions = {}) {
    this.#state = {
      persistence,
      users: new Map(),
      uidHighWater: new Map(),
      modseqHighWater: new Map(),
      now: options.now ?? Date.now,
    };
    this.#persistence = persistence;
    this.#users = this.#state.users;
    this.#now = this.#state.now;
    this.#indexAtAppend = options.indexAtAppend ?? null;
    this.#indexes = indexCacheFor(persistence.kind);
    this.#userLimit = userLimit(options.maxUsers, options.exemptUsers);
    this.#load();
    if (this.#accessKeys.hasStale) this.#transact(() => this.#accessKeys.dropStale());
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
    this.#transactions++;
    try {
      return this.#persistence.transaction(fn);
    } catch (error) {
      if (this.#persistence.kind !== "memory") this.#reload();
      throw error;
    }
  }

  /** Rebuilds the in-memory copy from the backend, after a change it undid. */
  #reload(): void {
    this.#users.clear();
    this.#indexes.clear();
    this.#state.uidHighWater.clear();
    this.#state.modseqHighWater.clear();
    this.#load();
  }

  #load(): void {
    const loaded = this.#persistence.load();
    loadRecords(this.#users, loaded);
    loadUidHighWater(this.#state, loaded.uidHighWater);
    this.#accessKeys = new AccessKeys(
      this.#persistence,
      loaded.accessKeys,
      (user, mailbox) => this.#users.get(user)?.mailboxes.has(mailbox) ?? false,
    );
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
    checkUserRoom(this.#users, this.#userLimit, [name]);
    this.#emit(this.#transact(() => addUser(this.#state, name)));
    return true;
  }

  checkUserLimit(users: Iterable<string>): void {
    // Only a count, which users a shared commit may still undo are in: no need to commit it
    // first (an SMTP client's RCPT would cut the other sessions' deliveries short).
    if (this.#closed) this.#checkOpen();
    checkUserRoom(this.#users, this.#userLimit, users);
  }

  // ---- mailboxes ----

  listMailboxes(user: string): MailboxInfo[] {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    if (!record) return [];
    return [...record.mailboxes.values()]
      .sort((a, b) => compareMailboxNames(a.name, b.name))
      .map((mailbox) => mailboxInfo(record, mailbox));
  }

  getMailbox(user: string, name: string): MailboxInfo | undefined {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    const mailbox = record?.mailboxes.get(canonicalMailboxName(name));
    return record && mailbox ? mailboxInfo(record, mailbox) : undefined;
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
    const specialUse = options.specialUse ?? null;
    this.#emit(this.#transact(() => createMailboxPath(this.#state, record, canonical, specialUse)));
    return mailboxInfo(record, record.mailboxes.get(canonical)!);
  }

  deleteMailbox(user: string, name: string): void {
    this.#checkOpen();
    const record = this.#user(user);
    const mailbox = this.#mailbox(record, name);
    if (mailbox.name === "INBOX") {
      throw new StoreError("cannot-delete-inbox", "Cannot delete INBOX");
    }
    this.#transact(() => {
      deleteMailbox(this.#state, record, mailbox);
      this.#accessKeys.remove(record.name, mailbox.name);
    });
    this.#emit([{ type: "mailbox.deleted", user: record.name, mailbox: mailbox.name }]);
  }

  renameMailbox(user: string, from: string, to: string): void {
    this.#checkOpen();
    const record = this.#user(user);
    const source = this.#mailbox(record, from);
    const plan = planRename(record, source, to);
    // The URLAUTH keys go with the mailboxes (with INBOX's messages), as in Dovecot.
    const keyMoves = source.name === "INBOX"
      ? [["INBOX", plan.target] as const]
      : plan.renamed.map((mailbox) =>
        [mailbox.name, plan.target + mailbox.name.slice(source.name.length)] as const
      );
    this.#emit(this.#transact(() => {
      let events: StoreEvent[];
      if (source.name !== "INBOX") events = renameMailboxes(this.#state, record, source, plan);
      else {
        // RFC 9051 6.3.6: INBOX's messages move to the new mailbox, renumbered above the
        // UIDs its name has carried (the new mailbox starts there); INBOX stays, empty, and
        // its inferiors are not renamed.
        const created = createMailboxPath(this.#state, record, plan.target, null);
        const target = record.mailboxes.get(plan.target)!;
        events = [...created, ...moveAllMessages(this.#state, record, source, target)];
      }
      this.#accessKeys.move(record.name, keyMoves);
      return events;
    }));
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
    return this.appendMessages(user, mailbox, [{ raw, options }])[0];
  }

  appendMessages(user: string, mailbox: string, messages: readonly NewAppend[]): MessageMeta[] {
    this.#checkOpen();
    this.ensureUser(user);
    const record = this.#user(user);
    const target = this.#mailbox(record, mailbox);
    // One message into the memory store (an SMTP delivery, an APPEND) is indexed now while
    // someone may read it at once: its summary is read from the fields the index parsed, and
    // indexing at delivery, which would build the same index a moment later (imap/warm.ts),
    // finds it.
    const index = messages.length === 1 && this.#persistence.kind === "memory" &&
        messages[0].raw.length <= INDEX_AT_APPEND_BYTES &&
        (this.#indexAtAppend === null || this.#indexAtAppend())
      ? new MessageIndex(messages[0].raw, this.#tableSlab)
      : undefined;
    const prepared = messages.map((message) => prepareAppend(message, this.#now(), index));
    const added = this.#transact(() => appendRecords(this.#state, record, target, prepared));
    if (index) this.#indexes.set(added[0], index);
    const metas = added.map((message) => toMeta(record.name, target.name, message));
    this.#emit(metas.map((meta) => ({ type: "message.added", message: meta })));
    return metas;
  }

  shareCommit(fn: () => void): PendingCommit | null {
    if (this.#closed) this.#checkOpen();
    if (this.#persistence.kind === "memory" || this.#inShared) {
      fn();
      return null;
    }
    let shared = this.#shared;
    if (shared === null) {
      this.#persistence.beginShared();
      shared = this.#shared = new SharedCommit();
      // After the input the other sessions read in the same turn of the event loop (their
      // reads' continuations are queued before this): bench/smtp_source.ts's four SMTP clients
      // share a commit 1.5 messages to one (59% alone, 30% two, 10% three; issue 13 round
      // 19). The global `setImmediate` batched no more, and loads Deno's Node timers
      // (lib/net/timer.ts).
      const opened = shared;
      queueMicrotask(() => {
        if (this.#shared === opened && this.#holds === 0) this.#commitShared();
      });
    }
    // One savepoint around the calls of `fn`: if it throws, all of them are undone, and
    // their events with them. The in-memory copy is rebuilt only if one of them wrote: a
    // delivery refused before it stored anything (the user limit) must not reload the store,
    // which a client could repeat at will.
    const told = shared.events.length;
    const transactions = this.#transactions;
    this.#inShared = true;
    try {
      this.#persistence.transaction(fn);
    } catch (error) {
      shared.events.length = told;
      if (this.#transactions !== transactions) this.#reload();
      throw error;
    } finally {
      this.#inShared = false;
    }
    return shared;
  }

  holdSharedCommit(): () => void {
    if (this.#persistence.kind === "memory") return NO_HOLD;
    this.#holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holds--;
      if (this.#holds === 0 && this.#shared !== null && !this.#inShared && !this.#closed) {
        this.#commitShared();
      }
    };
  }

  mailboxAccessKey(user: string, mailbox: string, create: boolean): Uint8Array | null {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    const target = record?.mailboxes.get(canonicalMailboxName(mailbox));
    if (!record || !target) return null;
    const key = this.#accessKeys.get(record.name, target.name);
    if (key || !create) return key;
    return this.#transact(() => this.#accessKeys.create(record.name, target.name));
  }

  resetAccessKeys(user: string, mailbox?: string): void {
    this.#checkOpen();
    const record = this.#user(user);
    const name = mailbox === undefined ? null : this.#mailbox(record, mailbox).name;
    this.#transact(() => this.#accessKeys.remove(record.name, name));
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
    return selectViewOf(record, target);
  }

  getMessage(user: string, mailbox: string, uid: number): MessageMeta | undefined {
    this.#checkOpen();
    const record = this.#users.get(user.toLowerCase());
    const target = record?.mailboxes.get(canonicalMailboxName(mailbox));
    const message = target?.byUid.get(uid);
    return record && target && message ? toMeta(record.name, target.name, message) : undefined;
  }

  messageStates(
    user: string,
    mailbox: string,
    uids: readonly number[],
    ascending = false,
  ): Array<MessageState | undefined> {
    this.#checkOpen();
    // As getMessage: a mailbox gone under the caller has no messages.
    const target = this.#users.get(user.toLowerCase())?.mailboxes.get(
      canonicalMailboxName(mailbox),
    );
    return target ? messagesAt(target, uids, ascending) : uids.map(() => undefined);
  }

  getRaw(user: string, mailbox: string, uid: number): Uint8Array | undefined {
    const message = this.#messageRecord(user, mailbox, uid);
    return message ? this.#persistence.readBlob(message.blob) : undefined;
  }

  releaseRaw(bytes: Uint8Array): void {
    this.#persistence.releaseBlob?.(bytes);
  }

  getIndex(
    user: string,
    mailbox: string,
    uid: number,
    cachedOnly = false,
  ): MessageIndex | undefined {
    const message = this.#messageRecord(user, mailbox, uid);
    if (!message) return undefined;
    const cached = this.#indexes.get(message);
    if (cached || cachedOnly) return cached;
    // The memory store keeps an index as long as its message: its table may be cut from the
    // slab the indexes made at append are (SQLite's cache drops indexes, and each would hold
    // its slab).
    const slab = this.#persistence.kind === "memory" ? this.#tableSlab : null;
    const raw = this.#persistence.readBlob(message.blob);
    const index = new MessageIndex(raw, slab);
    // The index keeps copies of what it needs (mime_table.ts): bytes SQLite made for this
    // read go back now. Left to a collection, each one's pages stayed the process's, between
    // the indexes' small tables (5,000 indexes of 21 KB messages: 99 MB of anonymous memory
    // against 35 MB, ~8 MB of it V8's heap).
    this.releaseRaw(raw);
    return this.#indexes.set(message, index);
  }

  changedSince(user: string, mailbox: string, modseq: number): number[] {
    this.#checkOpen();
    return changedSince(this.#mailbox(this.#user(user), mailbox), modseq).map((m) => m.uid);
  }

  vanishedSince(user: string, mailbox: string, modseq: number): Array<[number, number]> {
    this.#checkOpen();
    return vanishedSince(this.#mailbox(this.#user(user), mailbox), modseq);
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
    const changes = this.#transact(() => changeFlags(this.#state, target, uids, operation, flags));
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
    const { mapping, added } = this.#transact(() =>
      copyMessages(this.#state, record, source, uids, target)
    );
    this.#shareIndexes(target, mapping, (uid) => source.byUid.get(uid));
    this.#emit(added.map((message) => ({ type: "message.added", message })));
    return mapping;
  }

  /**
   * Gives each copy a COPY or MOVE made the index its original has cached (the same bytes),
   * before the events that tell the indexer about them. With SQLite, whose cache is by record,
   * the indexer built each copy's index again from its bytes: 5,000 of them after a first
   * `COPY 1:*` of a freshly loaded mailbox. Nothing with the memory store, whose copies share
   * theirs through their records. `original`: the record a source UID named before the change.
   */
  #shareIndexes(
    target: MailboxRecord,
    mapping: UidMapping,
    original: (uid: number) => MessageRecord | undefined,
  ): void {
    if (this.#persistence.kind === "memory") return;
    const { sourceUids, destinationUids } = mapping;
    for (let i = 0; i < sourceUids.length; i++) {
      const from = original(sourceUids[i]);
      const index = from && this.#indexes.peek(from);
      const copy = index && target.byUid.get(destinationUids[i]);
      if (copy) this.#indexes.set(copy, index);
    }
  }

  moveMessages(user: string, from: string, uids: readonly number[], to: string): UidMapping {
    this.#checkOpen();
    const record = this.#user(user);
    const source = this.#mailbox(record, from);
    const target = this.#mailbox(record, to);
    // The originals leave the source mailbox: their records are looked up before.
    const originals = new Map<number, MessageRecord>();
    if (this.#persistence.kind !== "memory") {
      for (const uid of uids) {
        const message = source.byUid.get(uid);
        if (message) originals.set(uid, message);
      }
    }
    const { mapping, added, removed } = this.#transact(() =>
      moveMessages(this.#state, record, source, uids, target)
    );
    this.#shareIndexes(target, mapping, (uid) => originals.get(uid));
    const events: StoreEvent[] = added.map((message) => ({ type: "message.added", message }));
    if (removed.length > 0) events.push(expungedEvent(record, source, removed));
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
    const removed = this.#transact(() => removeMessages(this.#state, record, target, doomed));
    this.#emit([expungedEvent(record, target, removed)]);
    return removed;
  }

  now(): number {
    return this.#now();
  }

  // ---- whole store ----

  getMetadata(user: string, mailbox: string | null): ReadonlyMap<string, Uint8Array> {
    this.#checkOpen();
    const record = this.#user(user);
    return new Map(entriesOf(record, mailbox === null ? null : this.#mailbox(record, mailbox)));
  }

  setMetadata(
    user: string,
    mailbox: string | null,
    entries: ReadonlyArray<readonly [string, Uint8Array | null]>,
  ): void {
    this.#checkOpen();
    const record = this.#user(user);
    const target = mailbox === null ? null : this.#mailbox(record, mailbox);
    this.#transact(() => writeEntries(this.#state, record, target, entries));
  }

  reset(): void {
    this.#checkOpen();
    this.#transact(() => this.#persistence.clear());
    for (const record of this.#users.values()) {
      for (const mailbox of record.mailboxes.values()) releaseBytes(mailbox.messages);
    }
    this.#users.clear();
    this.#accessKeys.clear();
    this.#state.uidHighWater.clear();
    this.#state.modseqHighWater.clear();
    this.#indexes.clear();
    this.#emit([{ type: "reset" }]);
  }

  subscribe(listener: StoreListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  close(): void {
    if (this.#closed) return;
    if (this.#shared) this.#commitShared();
    this.#closed = true;
    this.#listeners.clear();
    this.#persistence.close();
  }

  // ---- internals ----

  /** Throws if the store is closed; commits a shared commit first for any call outside it. */
  #checkOpen(): void {
    if (this.#closed) throw new StoreError("closed", "Cannot use the store: it is closed");
    if (this.#shared !== null && !this.#inShared) this.#commitShared();
  }

  /**
   * Commits the open shared commit, then tells the listeners its events and its callers the
   * outcome. A failed commit undid all of it: the in-memory copy is rebuilt, as after any
   * failed transaction, and no event of it is told.
   */
  #commitShared(): void {
    const shared = this.#shared!;
    this.#shared = null;
    try {
      this.#persistence.commitShared();
    } catch (error) {
      this.#reload();
      shared.settle(error);
      return;
    }
    this.#listeners.emit(shared.events);
    shared.settle(null);
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

  #emit(events: readonly StoreEvent[]): void {
    if (this.#inShared) this.#shared!.events.push(...events);
    else this.#listeners.emit(events);
  }
}

/** What {@linkcode MailStore.holdSharedCommit} returns where there is nothing to hold. */
const NO_HOLD = (): void => {};

/** The calls of {@linkcode MailStore.shareCommit} sharing one commit, and their events. */
class SharedCommit implements PendingCommit {
  readonly events: StoreEvent[] = [];
  #waiters: Array<(error: unknown) => void> | null = [];
  #error: unknown = null;

  whenCommitted(done: (error: unknown) => void): void {
    if (this.#waiters) this.#waiters.push(done);
    else {
      const error = this.#error;
      queueMicrotask(() => done(error));
    }
  }

  /**
   * Tells the waiters in a microtask: the commit may have been made inside another caller's
   * store call, which a waiter's next delivery must not run into.
   */
  settle(error: unknown): void {
    const waiters = this.#waiters!;
    this.#waiters = null;
    this.#error = error;
    if (waiters.length === 0) return;
    queueMicrotask(() => {
      for (const done of waiters) {
        try {
          done(error);
        } catch (failure) {
          console.error("Shared commit waiter failed:", failure);
        }
      }
    });
  }
}

/** The event of messages removed from `mailbox`, at the MODSEQ their removal took. */
function expungedEvent(
  record: UserRecord,
  mailbox: MailboxRecord,
  uids: readonly number[],
): StoreEvent {
  return {
    type: "message.expunged",
    user: record.name,
    mailbox: mailbox.name,
    uids,
    modseq: mailbox.highestModseq,
  };
}
