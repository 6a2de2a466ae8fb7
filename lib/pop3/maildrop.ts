/**
 * The maildrop of a POP3 session (RFC 1939 2, 6): the user's INBOX as it was at login,
 * numbered 1..n; DELE only marks, RSET unmarks, and only QUIT (the UPDATE state) changes the
 * store: the marked messages are expunged in one store transaction (all or nothing), then
 * the retrieved ones get `\Seen` (as Dovecot, whose `pop3_no_flag_updates` is off by
 * default).
 *
 * One POP3 session per user holds the maildrop: {@linkcode MaildropLocks} is shared by the
 * listeners of one server, and a second login gets `-ERR [IN-USE]`.
 *
 * @module
 */

import type { Store } from "../store/types.ts";
import { UID_VALIDITY } from "../store/types.ts";
import { Pop3Error, wireSize } from "./wire.ts";

/** The mailbox POP3 serves. */
export const MAILDROP_MAILBOX = "INBOX";

/** One message of the snapshot. */
interface Entry {
  readonly uid: number;
  /** The stored size, used when the message is gone and its bytes cannot be read. */
  readonly storedSize: number;
  /** Octets in wire form, worked out on first need. */
  wireSize: number | null;
  deleted: boolean;
  retrieved: boolean;
}

/** The users whose maildrop a POP3 session holds (one server, all its POP3 listeners). */
export class MaildropLocks {
  readonly #holders = new Set<string>();

  /** Takes the user's lock; false when another session holds it. */
  acquire(user: string): boolean {
    if (this.#holders.has(user)) return false;
    this.#holders.add(user);
    return true;
  }

  release(user: string): void {
    this.#holders.delete(user);
  }
}

/** What UPDATE did. */
export interface UpdateResult {
  readonly expunged: number;
}

/** A session's view of the user's INBOX. */
export class Maildrop {
  readonly #store: Store;
  readonly user: string;
  readonly #entries: Entry[];

  /** Takes the snapshot: the INBOX's messages now, in UID order. */
  constructor(store: Store, user: string) {
    this.#store = store;
    this.user = user;
    this.#entries = store.listMessages(user, MAILDROP_MAILBOX).map((meta) => ({
      uid: meta.uid,
      storedSize: meta.size,
      wireSize: null,
      deleted: false,
      retrieved: false,
    }));
  }

  /** Messages in the snapshot, deleted ones included (the highest message number). */
  get count(): number {
    return this.#entries.length;
  }

  /** Numbers of the messages not marked deleted, ascending. */
  live(): number[] {
    const numbers: number[] = [];
    this.#entries.forEach((entry, i) => {
      if (!entry.deleted) numbers.push(i + 1);
    });
    return numbers;
  }

  /** STAT: messages not marked deleted and their octets. */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const number of this.live()) {
      count++;
      size += this.size(number);
    }
    return { count, size };
  }

  /** The message's size in octets as RETR sends it (unstuffed). */
  size(number: number): number {
    const entry = this.#entry(number);
    if (entry.wireSize === null) {
      const raw = this.#store.getRaw(this.user, MAILDROP_MAILBOX, entry.uid);
      entry.wireSize = raw ? wireSize(raw) : entry.storedSize;
      // Read for its size alone: a SQLite store's read frees its bytes now (STAT and LIST of
      // a maildrop read every message once).
      if (raw) this.#store.releaseRaw?.(raw);
    }
    return entry.wireSize;
  }

  uidl(number: number): string {
    return formatUidl(this.#entry(number).uid);
  }

  /** The message's bytes for RETR or TOP; RETR marks it retrieved. */
  raw(number: number, retrieve: boolean): Uint8Array {
    const entry = this.#entry(number);
    const raw = this.#store.getRaw(this.user, MAILDROP_MAILBOX, entry.uid);
    if (!raw) throw new Pop3Error(null, `Message ${number} was expunged by another session.`);
    if (retrieve) entry.retrieved = true;
    return raw;
  }

  delete(number: number): void {
    this.#entry(number).deleted = true;
  }

  /** RSET: unmarks every deleted message. */
  reset(): void {
    for (const entry of this.#entries) entry.deleted = false;
  }

  /** Whether any message is marked deleted. */
  get hasDeleted(): boolean {
    return this.#entries.some((entry) => entry.deleted);
  }

  /**
   * The UPDATE state: one store transaction expunges every marked message (any that another
   * session removed meanwhile are skipped), then the retrieved ones left are marked seen.
   */
  update(): UpdateResult {
    const doomed = this.#entries.filter((entry) => entry.deleted).map((entry) => entry.uid);
    const expunged = doomed.length > 0
      ? this.#store.expunge(this.user, MAILDROP_MAILBOX, doomed, true).length
      : 0;
    const seen = this.#entries.filter((entry) => entry.retrieved && !entry.deleted);
    if (seen.length > 0) {
      this.#store.setFlags(
        this.user,
        MAILDROP_MAILBOX,
        seen.map((entry) => entry.uid),
        "add",
        ["\\Seen"],
      );
    }
    return { expunged };
  }

  /** The entry of a message number that exists and is not marked deleted. */
  #entry(number: number): Entry {
    const entry = this.#entries[number - 1];
    if (!entry) throw new Pop3Error(null, `There's no message ${number}.`);
    if (entry.deleted) throw new Pop3Error(null, "Message is deleted.");
    return entry;
  }
}

/**
 * The UIDL of a message (RFC 1939 7): UID and UIDVALIDITY as eight hex digits each, as
 * Dovecot's default `%08Xu%08Xv` prints them. Both survive restarts (SQLite keeps UIDs) and
 * a UID is never reused under a name, so a value never names two messages (until a reset
 * of the whole store).
 */
export function formatUidl(uid: number): string {
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return hex(uid) + hex(UID_VALIDITY);
}
