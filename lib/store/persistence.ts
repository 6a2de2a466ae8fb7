/**
 * What a backend must do to keep the store's state. The store core (`mail_store.ts`) keeps
 * all metadata in memory and writes every change through a backend; the memory backend
 * forgets, the SQLite backend commits. Message bytes live only in the backend, shared by
 * copies.
 *
 * @module
 */

import type { MessageSummary } from "../mail/summary.ts";
import type { MessageEnvelope, SpecialUse } from "./types.ts";

/** A handle to stored message bytes: the bytes themselves in memory, a row id in SQLite. */
export type BlobRef = Uint8Array | number;

export interface PersistedMailbox {
  id: number;
  /** The MAILBOXID counter value (RFC 8474), per user; see `mailbox_tree.ts`. */
  objectId: number;
  user: string;
  name: string;
  specialUse: SpecialUse | null;
  /**
   * Written when the mailbox is made or renamed, not on every append: a backend that keeps
   * state loads the highest of it and one above the UIDs of the mailbox's messages and
   * vanished ranges (every UID given is in one of them).
   */
  uidNext: number;
  /**
   * The mailbox's HIGHESTMODSEQ (RFC 7162 3.1.1). Written only where no message or vanished
   * row carries the MODSEQ (`nextModseq` in `modseq.ts`); loaded as the highest of it and
   * those rows' MODSEQs.
   */
  highestModseq: number;
}

/** UIDs `start..end` (inclusive) expunged from a mailbox, the latest at `modseq`. */
export interface VanishedRange {
  start: number;
  end: number;
  modseq: number;
}

export interface PersistedMessage {
  id: number;
  mailboxId: number;
  uid: number;
  internalDate: number;
  /** The save date (RFC 8514), milliseconds since the epoch. */
  saveDate: number;
  size: number;
  flags: string[];
  summary: MessageSummary;
  envelope: MessageEnvelope | null;
  blob: BlobRef;
  /** The EMAILID counter value (RFC 8474). */
  emailId: number;
  modseq: number;
}

/** One URLAUTH mailbox access key (`access_keys.ts`). */
export interface AccessKeyRow {
  user: string;
  mailbox: string;
  key: Uint8Array;
}

/** Everything loaded at open. */
export interface PersistedState {
  users: string[];
  mailboxes: PersistedMailbox[];
  /** In (mailboxId, uid) order. */
  messages: PersistedMessage[];
  subscriptions: Array<{ user: string; name: string }>;
  /** Metadata entries (RFC 5464); `mailboxId` 0 for the user's server entries. */
  metadata: Array<{ user: string; mailboxId: number; name: string; value: Uint8Array }>;
  /**
   * Per user, the highest MAILBOXID and EMAILID counter values given (deleted mailboxes and
   * messages count too). The EMAILID one is written when messages leave, not on append: a
   * backend that keeps state loads the highest of it and the user's messages' EMAILIDs.
   */
  lastMailboxIds: Array<{ user: string; last: number; lastEmail: number }>;
  /**
   * Highest UID ever given and highest MODSEQ ever reached per (user, mailbox name), so names
   * reused keep UIDs and MODSEQs increasing. Both are written when a mailbox leaves the name
   * (the MODSEQ is 0 until then); while one holds it, its UIDNEXT says the UID.
   */
  uidHighWater: Array<{ user: string; name: string; uid: number; modseq: number }>;
  /** Every mailbox's vanished ranges, by mailbox then start. */
  vanished: Array<VanishedRange & { mailboxId: number }>;
  /** URLAUTH mailbox access keys (`access_keys.ts`). */
  accessKeys: AccessKeyRow[];
}

export interface NewMessage {
  uid: number;
  internalDate: number;
  /** The save date (RFC 8514), milliseconds since the epoch. */
  saveDate: number;
  size: number;
  flags: readonly string[];
  summary: MessageSummary;
  envelope: MessageEnvelope | null;
  blob: BlobRef;
  emailId: number;
  modseq: number;
}

export interface Persistence {
  readonly kind: "memory" | "sqlite";
  readonly path: string | null;
  load(): PersistedState;
  /**
   * Runs `fn` atomically: all of its writes commit, or none. Inside a shared transaction
   * (`beginShared`) they are kept or undone together, and commit with it.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Opens a transaction that the `transaction` calls up to `commitShared` share (see
   * `MailStore.shareCommit`). Not called on a backend that does not commit (memory).
   */
  beginShared(): void;
  /** Commits the shared transaction; if that fails, rolls all of it back and throws. */
  commitShared(): void;
  insertUser(user: string): void;
  /**
   * Sets (a value) or removes (null) a metadata entry of a mailbox, or of the user when
   * `mailboxId` is 0. A deleted mailbox's entries go with it (`deleteMailbox`).
   */
  setMetadata(user: string, mailboxId: number, name: string, value: Uint8Array | null): void;
  /** Notes the user's highest MAILBOXID counter value, so no id is ever given twice. */
  setLastMailboxId(user: string, last: number): void;
  /** Notes the user's highest EMAILID counter value, so no id is ever given twice. */
  setLastEmailId(user: string, last: number): void;
  insertMailbox(mailbox: Omit<PersistedMailbox, "id">): number;
  updateMailbox(
    id: number,
    fields: {
      name?: string;
      uidNext?: number;
      specialUse?: SpecialUse | null;
      highestModseq?: number;
    },
  ): void;
  deleteMailbox(id: number): void;
  /** Keeps message bytes; `owned`: the caller hands them over (no copy is needed). */
  storeBlob(raw: Uint8Array, owned?: boolean): BlobRef;
  readBlob(blob: BlobRef): Uint8Array;
  /**
   * The caller of `readBlob` is done with `bytes` and holds no view of them: a backend whose
   * `readBlob` made them for the call may free them now (absent or not its own: nothing).
   */
  releaseBlob?(bytes: Uint8Array): void;
  /** Stores a message row in the mailbox with row id `mailboxId`; returns the row's id. */
  insertMessage(mailboxId: number, message: NewMessage): number;
  /**
   * Gives the `count` message rows with ids `firstId` to `firstId + count - 1` (a run: every
   * one a row the caller changed) these flags at this MODSEQ.
   */
  updateFlags(firstId: number, count: number, flags: readonly string[], modseq: number): void;
  /**
   * Gives a message a new UID in its mailbox (a rename renumbers: see `mailbox_tree.ts`).
   * The new UID is above every UID in the mailbox, so no two rows ever share one. `flags` are
   * its flags, written with it.
   */
  updateMessageUid(
    messageId: number,
    uid: number,
    modseq: number,
    flags: readonly string[],
  ): void;
  deleteMessages(messageIds: readonly number[]): void;
  setSubscription(user: string, name: string, subscribed: boolean): void;
  /** Raises the highest UID noted for the name (when a mailbox leaves it). */
  setUidHighWater(user: string, name: string, uid: number): void;
  /** Raises the highest MODSEQ noted for the name (when a mailbox leaves it). */
  setModseqHighWater(user: string, name: string, modseq: number): void;
  /** Replaces a mailbox's vanished ranges starting at `removed` by `added`. */
  replaceVanished(
    mailboxId: number,
    removed: readonly number[],
    added: readonly VanishedRange[],
  ): void;
  /** Sets the URLAUTH access key of a user's mailbox (RFC 4467 3). */
  setAccessKey(user: string, mailbox: string, key: Uint8Array): void;
  /** Removes a user's access key for one mailbox, or all of them (`mailbox` null). */
  deleteAccessKeys(user: string, mailbox: string | null): void;
  /** Removes everything. */
  clear(): void;
  close(): void;
}
