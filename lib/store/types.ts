/**
 * The Store interface: the only owner of mail state. Designed for IMAP semantics
 * (RFC 9051): per-user mailboxes with a `/` hierarchy, UIDVALIDITY fixed at 1, strictly
 * increasing UIDs that are never reused within a store's life (until `reset()`), immutable
 * message bytes, and flags as the only mutable part of a message.
 *
 * Every method is synchronous: a store call is atomic on the event loop, and with SQLite it
 * is one transaction that has committed when the call returns.
 *
 * @module
 */

import type { MessageIndex } from "../mail/message_index.ts";
import type { MessageSummary } from "../mail/summary.ts";

export type { MessageSummary } from "../mail/summary.ts";

/** The hierarchy delimiter of every mailbox name. */
export const HIERARCHY_DELIMITER = "/";

/** UIDVALIDITY of every mailbox (DESIGN.md: determinism is a product feature). */
export const UID_VALIDITY = 1;

/** Special-use attributes (RFC 6154) the store knows. */
export type SpecialUse =
  | "\\All"
  | "\\Archive"
  | "\\Drafts"
  | "\\Flagged"
  | "\\Junk"
  | "\\Sent"
  | "\\Trash";

export const SPECIAL_USES: readonly SpecialUse[] = [
  "\\All",
  "\\Archive",
  "\\Drafts",
  "\\Flagged",
  "\\Junk",
  "\\Sent",
  "\\Trash",
];

/** Mailboxes every user starts with. */
export const DEFAULT_MAILBOXES: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }> = [
  { name: "INBOX", specialUse: null },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Junk", specialUse: "\\Junk" },
  { name: "Trash", specialUse: "\\Trash" },
];

/** A mailbox as the store reports it. A snapshot: later changes do not alter it. */
export interface MailboxInfo {
  readonly user: string;
  /** Full name, `/`-delimited; `INBOX` is always spelled in upper case. */
  readonly name: string;
  /**
   * MAILBOXID (RFC 8474 4): `F` and the user's mailbox creation counter. Kept across RENAME,
   * never given to another of the user's mailboxes, the same on every run of the same steps.
   */
  readonly mailboxId: string;
  readonly specialUse: SpecialUse | null;
  readonly subscribed: boolean;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly messages: number;
  readonly unseen: number;
  readonly deleted: number;
  /** Sum of the sizes of the messages, in octets. */
  readonly size: number;
  /** HIGHESTMODSEQ (RFC 7162 3.1.1): the MODSEQ of the mailbox's latest change; 1 at first. */
  readonly highestModseq: number;
}

/**
 * The SMTP envelope a message was delivered with (RFC 5321 3.3): the reverse-path of MAIL
 * FROM and the RCPT address this copy is for.
 */
export interface MessageEnvelope {
  /** The reverse-path; `""` for the null reverse-path `<>` (a bounce). */
  readonly from: string;
  /** The recipient this copy was delivered for, as the client spelled it. */
  readonly to: string;
  /**
   * The name the SMTP client gave in HELO/EHLO (MailHog's `Raw.Helo`); absent for a message
   * stored by other means or before it was kept.
   */
  readonly helo?: string;
}

/** Everything about a stored message except its bytes. */
export interface MessageMeta {
  /** Deterministic id: `user:mailbox:uid` (see {@linkcode formatMessageId}). */
  readonly id: string;
  readonly user: string;
  readonly mailbox: string;
  readonly uid: number;
  /** INTERNALDATE, in milliseconds since the epoch. */
  readonly internalDate: number;
  /**
   * The save date (RFC 8514): when the message was put into this mailbox (delivered,
   * appended, copied or moved), by the store clock; milliseconds since the epoch.
   */
  readonly saveDate: number;
  /** Size of the raw bytes, in octets. */
  readonly size: number;
  /** System flags (canonical case, e.g. `\Seen`) and keywords, sorted. Never `\Recent`. */
  readonly flags: readonly string[];
  readonly summary: MessageSummary;
  /**
   * The envelope it was delivered with; null for a message stored without one (IMAP
   * APPEND, `/inject` to a user). Copies and moves keep it.
   */
  readonly envelope: MessageEnvelope | null;
  /** MODSEQ (RFC 7162 3.1.1): the HIGHESTMODSEQ its mailbox had after the message's last change. */
  readonly modseq: number;
  /**
   * EMAILID (RFC 8474 5.1): `M` and the user's message counter when it was stored; kept by
   * COPY and MOVE (the same message), the same on every run of the same steps.
   */
  readonly emailId: string;
}

/** See {@linkcode Store.selectView}. */
export interface SelectView {
  readonly info: MailboxInfo;
  /**
   * The mailbox's UIDs, ascending: the store's own list, shared (it copies the list before
   * its next change to the mailbox), so it must not be changed; copy it to change it.
   */
  readonly uids: readonly number[];
  readonly keywords: string[];
  readonly firstUnseenUid: number;
}

/**
 * A message's record fields, as {@linkcode Store.messageStates} hands them out: the store's
 * own record, not a snapshot, so it is only good until the next change (read it at once).
 */
export interface MessageState {
  readonly uid: number;
  readonly internalDate: number;
  readonly size: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

/** Options for {@linkcode Store.append}. */
export interface AppendOptions {
  flags?: readonly string[];
  /** Milliseconds since the epoch; defaults to the store clock's now. */
  internalDate?: number;
  /** The SMTP envelope of a delivery; none when absent. */
  envelope?: MessageEnvelope | null;
  /**
   * The caller hands `raw` over: it was made for this message and nothing changes it
   * afterwards, so the store may keep it instead of a copy (SMTP delivery builds each copy
   * so). Absent: the store copies what it keeps.
   */
  transfer?: boolean;
}

/** A commit still to come (see {@linkcode Store.shareCommit}). */
export interface PendingCommit {
  /**
   * Calls `done` once, never before this returns: with null after the commit, or with the
   * error that undid every change it was to commit.
   */
  whenCommitted(done: (error: unknown) => void): void;
}

/** One message of {@linkcode Store.appendMessages}. */
export interface NewAppend {
  readonly raw: Uint8Array;
  readonly options?: AppendOptions;
}

/** How {@linkcode Store.setFlags} combines the given flags with the present ones. */
export type FlagOperation = "replace" | "add" | "remove";

/** One message whose flags changed. */
export interface FlagChange {
  readonly uid: number;
  readonly flags: readonly string[];
  /** The message's new MODSEQ (one per operation: every change of one call shares it). */
  readonly modseq: number;
}

/** A UID mapping from a copy or move: source UID to destination UID, in source-UID order. */
export interface UidMapping {
  readonly uidValidity: number;
  readonly sourceUids: readonly number[];
  readonly destinationUids: readonly number[];
}

/** Change events, published synchronously after the change has committed. */
export type StoreEvent =
  | { readonly type: "user.created"; readonly user: string }
  | { readonly type: "mailbox.created"; readonly user: string; readonly mailbox: string }
  | { readonly type: "mailbox.deleted"; readonly user: string; readonly mailbox: string }
  | {
    readonly type: "mailbox.renamed";
    readonly user: string;
    readonly mailbox: string;
    readonly newName: string;
  }
  | {
    readonly type: "mailbox.subscribed";
    readonly user: string;
    readonly mailbox: string;
    readonly subscribed: boolean;
  }
  | { readonly type: "message.added"; readonly message: MessageMeta }
  | {
    readonly type: "flags.changed";
    readonly user: string;
    readonly mailbox: string;
    readonly changes: readonly FlagChange[];
  }
  | {
    readonly type: "message.expunged";
    readonly user: string;
    readonly mailbox: string;
    /** Expunged UIDs, ascending. */
    readonly uids: readonly number[];
    /** The mailbox's HIGHESTMODSEQ after the expunge. */
    readonly modseq: number;
  }
  | { readonly type: "reset" };

export type StoreListener = (event: StoreEvent) => void;

/** Kinds of {@linkcode StoreError}; each protocol maps them to its own response codes. */
export type StoreErrorKind =
  | "no-such-user"
  | "no-such-mailbox"
  | "mailbox-exists"
  | "no-such-message"
  | "invalid-name"
  | "invalid-user"
  | "has-children"
  | "cannot-delete-inbox"
  /** Creating the user would pass the store's cap on users created on demand. */
  | "user-limit"
  | "closed";

/** A typed store failure. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string) {
    super(message);
    this.name = "StoreError";
    this.kind = kind;
  }
}

/** The store: users, mailboxes, messages, flags, and change events. */
export interface Store {
  readonly kind: "memory" | "sqlite";
  /** The SQLite file path, or null for memory. */
  readonly path: string | null;

  /** Users, in the order they were created. */
  listUsers(): string[];
  hasUser(user: string): boolean;
  /**
   * Creates the user with the default mailboxes if missing. Returns true if created. Throws
   * `user-limit` when the store holds as many users created on demand as it may.
   */
  ensureUser(user: string): boolean;
  /**
   * Throws `user-limit` unless all of `users` that do not exist yet can be created (a
   * recipient list checked before anything is delivered). Configured users always can.
   */
  checkUserLimit(users: Iterable<string>): void;

  /** The user's mailboxes, sorted by name with INBOX first. */
  listMailboxes(user: string): MailboxInfo[];
  getMailbox(user: string, name: string): MailboxInfo | undefined;
  /**
   * Creates a mailbox and any missing parents. Throws `mailbox-exists` if it exists,
   * `invalid-name` for an empty name or component.
   */
  createMailbox(
    user: string,
    name: string,
    options?: { specialUse?: SpecialUse | null },
  ): MailboxInfo;
  /** Deletes a mailbox and its messages. INBOX cannot be deleted. */
  deleteMailbox(user: string, name: string): void;
  /**
   * Renames a mailbox and its children. Renaming INBOX moves its messages to a new
   * mailbox and leaves INBOX empty (RFC 9051 6.3.6).
   */
  renameMailbox(user: string, from: string, to: string): void;
  /** Subscriptions may name mailboxes that do not exist (RFC 9051 6.3.7). */
  setSubscribed(user: string, name: string, subscribed: boolean): void;
  listSubscriptions(user: string): string[];

  /** Appends a message; creates the user if needed (see `ensureUser`) but not the mailbox. */
  append(user: string, mailbox: string, raw: Uint8Array, options?: AppendOptions): MessageMeta;
  /**
   * Appends several messages to one mailbox in one transaction: all of them or none (IMAP
   * MULTIAPPEND, RFC 3502 6.3.11). UIDs are consecutive, in the given order.
   */
  appendMessages(user: string, mailbox: string, messages: readonly NewAppend[]): MessageMeta[];
  /**
   * Runs `fn` (an SMTP delivery's store calls) so that its changes may commit together with
   * those of the other calls made before the event loop's next turn: one SQLite commit a
   * message was half of a delivery's cost (issue 13, round 19). Until that commit, which comes
   * at once before any other call, what `fn` changed is seen by nobody else and its events
   * wait. Returns null when `fn`'s changes are stored already (the memory store), else the
   * commit to wait for before saying they are. Throws what `fn` throws, its changes undone.
   */
  shareCommit(fn: () => void): PendingCommit | null;
  /**
   * Keeps the shared commit of {@linkcode Store.shareCommit} open past the microtask that would
   * make it, until the returned function is called: the holder's later `shareCommit` calls
   * join it (an IMAP session's pipelined APPENDs: one commit for several). Any other store
   * call still makes it first, as always. The returned function makes it, if it is still open
   * and nobody else holds it; a second call does nothing. Holds nothing on a store that does
   * not commit (memory).
   */
  holdSharedCommit(): () => void;
  /**
   * The URLAUTH access key of a user's mailbox (RFC 4467 3), made at random when `create`
   * and none exists yet; null when there is none (or no such mailbox). It belongs to the
   * mailbox: it moves with RENAME (to the new mailbox on RENAME INBOX) and goes with DELETE.
   */
  mailboxAccessKey(user: string, mailbox: string, create: boolean): Uint8Array | null;
  /** RESETKEY (RFC 4467 6.1): removes the key of one mailbox, or all of the user's keys. */
  resetAccessKeys(user: string, mailbox?: string): void;
  /** Messages of a mailbox in UID order. */
  listMessages(user: string, mailbox: string): MessageMeta[];
  /**
   * What IMAP SELECT needs, in one pass and without a snapshot per message: the UIDs in
   * order (shared with the store, copy-on-write: the caller may keep them, not change them),
   * the keywords in use, and the UID of the
   * first message without `\Seen` (0: none).
   */
  selectView(user: string, mailbox: string): SelectView;
  getMessage(user: string, mailbox: string, uid: number): MessageMeta | undefined;
  /**
   * The record fields of the messages with these UIDs, in their order (undefined for a UID
   * not in the mailbox): what FETCH of UID, FLAGS, MODSEQ, RFC822.SIZE or INTERNALDATE reads,
   * without a snapshot per message. Live records: read them before the next change.
   * `ascending` true promises that the UIDs strictly ascend (as a FETCH's targets do): a run
   * of consecutive UIDs the mailbox holds all of is then read without a step per message.
   */
  messageStates(
    user: string,
    mailbox: string,
    uids: readonly number[],
    ascending?: boolean,
  ): Array<MessageState | undefined>;
  /**
   * UIDs of the messages whose MODSEQ is above `modseq`, ascending (RFC 7162 CHANGEDSINCE):
   * costs the messages changed since then, not the mailbox.
   */
  changedSince(user: string, mailbox: string, modseq: number): number[];
  /**
   * UIDs expunged from the mailbox since `modseq` (RFC 7162 VANISHED), as ascending inclusive
   * `[low, high]` ranges. Expunges are remembered as long as the mailbox exists, and a
   * mailbox made under a name that held other UIDs reports those as expunged too; ranges may
   * also cover UIDs expunged before `modseq`, or never given.
   */
  vanishedSince(user: string, mailbox: string, modseq: number): Array<[number, number]>;
  /**
   * The message's bytes exactly as stored. The store copies bytes on append; the result may
   * be the store's own copy, so callers must not modify it. The memory store's are a view of
   * shared memory (lib/mail/shared_bytes.ts), which `Response`, `Blob` and `crypto.subtle` refuse:
   * give them `unsharedBytes(raw)` (or `raw.slice()`), a copy.
   */
  getRaw(user: string, mailbox: string, uid: number): Uint8Array | undefined;
  /**
   * The caller is done with bytes `getRaw` returned and holds no view of them (nor does
   * anything it handed them to): a store whose `getRaw` made them for the call (SQLite) frees
   * them now instead of at a later collection. Nothing for any other bytes.
   */
  releaseRaw?(bytes: Uint8Array): void;
  /**
   * The message's MIME index, built on first use and cached: kept as long as the bytes
   * with the memory store (copies share it), in a bounded cache with SQLite. With `cachedOnly`,
   * only one built already: undefined if there is none (nothing is read).
   */
  getIndex(
    user: string,
    mailbox: string,
    uid: number,
    cachedOnly?: boolean,
  ): MessageIndex | undefined;
  /** Changes flags of the given UIDs (missing UIDs are ignored); returns the messages whose flags changed. */
  setFlags(
    user: string,
    mailbox: string,
    uids: readonly number[],
    operation: FlagOperation,
    flags: readonly string[],
  ): FlagChange[];
  /** Copies messages (with flags and internal date) to another mailbox of the same user. */
  copyMessages(user: string, from: string, uids: readonly number[], to: string): UidMapping;
  /** Moves messages: copy, then expunge from the source. */
  moveMessages(user: string, from: string, uids: readonly number[], to: string): UidMapping;
  /**
   * Removes messages flagged `\Deleted` (restricted to `uids` when given). With `force`,
   * removes the given UIDs whatever their flags. Returns the removed UIDs, ascending.
   */
  expunge(user: string, mailbox: string, uids?: readonly number[], force?: boolean): number[];

  /**
   * The store clock: what INTERNALDATE and the save date default to, and "now" for SEARCH
   * OLDER/YOUNGER (RFC 5032). `Date.now` unless the store was opened with another clock.
   */
  now(): number;
  /**
   * Metadata entries (RFC 5464) of a mailbox, or of the user (server entries) when `mailbox`
   * is null: canonical entry name -> value, a snapshot. Throws `no-such-mailbox`.
   */
  getMetadata(user: string, mailbox: string | null): ReadonlyMap<string, Uint8Array>;
  /**
   * Sets (a value) or removes (null) entries, all or none. Names must be canonical (the IMAP
   * layer checks them and the limits). Throws `no-such-mailbox`.
   */
  setMetadata(
    user: string,
    mailbox: string | null,
    entries: ReadonlyArray<readonly [string, Uint8Array | null]>,
  ): void;

  /** Restores the initial state: no users, no mailboxes, UIDs restart at 1. */
  reset(): void;
  /** Listens to change events; returns the function that stops listening. */
  subscribe(listener: StoreListener): () => void;
  close(): void;
}

/** Formats an EMAILID (RFC 8474 `objectid`) from its counter value. */
export function formatEmailId(counter: number): string {
  return `M${counter}`;
}

/** Formats a MAILBOXID (RFC 8474 `objectid`: letters and digits) from its counter value. */
export function formatMailboxId(objectId: number): string {
  return `F${objectId}`;
}

/** Formats the deterministic message id `user:mailbox:uid`. */
export function formatMessageId(user: string, mailbox: string, uid: number): string {
  return `${user}:${mailbox}:${uid}`;
}

/**
 * Parses an id made by {@linkcode formatMessageId}: the user ends at the first `:` (user
 * names cannot contain one), the UID follows the last.
 */
export function parseMessageId(id: string): { user: string; mailbox: string; uid: number } | null {
  const first = id.indexOf(":");
  const last = id.lastIndexOf(":");
  if (first <= 0 || last <= first + 1) return null;
  const uidText = id.slice(last + 1);
  if (!/^[1-9][0-9]{0,9}$/.test(uidText)) return null;
  return { user: id.slice(0, first), mailbox: id.slice(first + 1, last), uid: Number(uidText) };
}
