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
  user: string;
  name: string;
  specialUse: SpecialUse | null;
  uidNext: number;
}

export interface PersistedMessage {
  id: number;
  mailboxId: number;
  uid: number;
  internalDate: number;
  size: number;
  flags: string[];
  summary: MessageSummary;
  envelope: MessageEnvelope | null;
  blob: BlobRef;
}

/** Everything loaded at open. */
export interface PersistedState {
  users: string[];
  mailboxes: PersistedMailbox[];
  /** In (mailboxId, uid) order. */
  messages: PersistedMessage[];
  subscriptions: Array<{ user: string; name: string }>;
  /** Highest UID ever given per (user, mailbox name), so names reused keep UIDs increasing. */
  uidHighWater: Array<{ user: string; name: string; uid: number }>;
}

export interface NewMessage {
  mailboxId: number;
  uid: number;
  internalDate: number;
  size: number;
  flags: readonly string[];
  summary: MessageSummary;
  envelope: MessageEnvelope | null;
  blob: BlobRef;
}

export interface Persistence {
  readonly kind: "memory" | "sqlite";
  readonly path: string | null;
  load(): PersistedState;
  /** Runs `fn` atomically: all of its writes commit, or none. */
  transaction<T>(fn: () => T): T;
  insertUser(user: string): void;
  insertMailbox(mailbox: Omit<PersistedMailbox, "id">): number;
  updateMailbox(
    id: number,
    fields: { name?: string; uidNext?: number; specialUse?: SpecialUse | null },
  ): void;
  deleteMailbox(id: number): void;
  /** Keeps message bytes; `owned`: the caller hands them over (no copy is needed). */
  storeBlob(raw: Uint8Array, owned?: boolean): BlobRef;
  readBlob(blob: BlobRef): Uint8Array;
  insertMessage(message: NewMessage): number;
  updateFlags(messageId: number, flags: readonly string[]): void;
  /**
   * Gives a message a new UID in its mailbox (a rename renumbers: see `mailbox_tree.ts`).
   * The new UID is above every UID in the mailbox, so no two rows ever share one.
   */
  updateMessageUid(messageId: number, uid: number): void;
  deleteMessages(messageIds: readonly number[]): void;
  setSubscription(user: string, name: string, subscribed: boolean): void;
  setUidHighWater(user: string, name: string, uid: number): void;
  /** Removes everything. */
  clear(): void;
  close(): void;
}
