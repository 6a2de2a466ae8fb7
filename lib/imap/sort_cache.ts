/**
 * Sorted orders of whole mailboxes, kept per server so that a repeated SORT (a webmail
 * reloading its message list, often on a new connection) costs a search and a walk, not a
 * sort: for each mailbox and sort criteria, the UIDs of every message in sort order. THREAD
 * results are kept the same way, for the set of messages they were made of (as UIDs).
 *
 * Ties are broken by UID, which orders messages as sequence numbers do in every session, so
 * one order serves all sessions; a SORT keeps the matching UIDs of it. An entry is valid
 * while the mailbox holds exactly the UIDs it was made from: messages never change (flags
 * are not sort keys), UIDs are never reused under a name, and the server drops entries on
 * reset, delete and rename, after which they could be.
 *
 * @module
 */

/** Entries kept; the oldest goes first. */
const MAX_ENTRIES = 32;

interface Entry {
  /** The UIDs, ascending, the value was made from. */
  readonly uids: readonly number[];
  /** A sort order (UIDs) or a thread tree (of UIDs). */
  readonly value: unknown;
}

/** The sorted orders of one server's mailboxes. */
export class SortOrders {
  readonly #entries = new Map<string, Entry>();

  /**
   * The value kept for `what` (`sort DATE`, `thread REFS`) in the mailbox, made from the
   * messages `uids` (ascending); else `make()`'s, which is then kept.
   */
  get<T>(
    user: string,
    mailbox: string,
    what: string,
    uids: readonly number[],
    make: () => T,
  ): T {
    const key = `${user}\0${mailbox}\0${what}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined && sameUids(entry.uids, uids)) return entry.value as T;
    this.#entries.delete(key);
    const value = make();
    this.#entries.set(key, { uids, value });
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }

  /** Drops the orders of one user's mailbox, of one user (no mailbox), or all (no user). */
  forget(user?: string, mailbox?: string): void {
    if (user === undefined) return this.#entries.clear();
    const prefix = mailbox === undefined ? `${user}\0` : `${user}\0${mailbox}\0`;
    for (const key of [...this.#entries.keys()]) {
      if (key.startsWith(prefix)) this.#entries.delete(key);
    }
  }
}

function sameUids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
