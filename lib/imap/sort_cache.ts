/**
 * Sorted orders of whole mailboxes, kept per server so that a repeated SORT (a webmail
 * reloading its message list, often on a new connection) costs a search and a walk, not a
 * sort: for each mailbox and sort criteria, the UIDs of every message in sort order.
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
  /** The mailbox's UIDs, ascending, when the order was made. */
  readonly uids: readonly number[];
  /** The same UIDs in sort order. */
  readonly order: readonly number[];
}

/** The sorted orders of one server's mailboxes. */
export class SortOrders {
  readonly #entries = new Map<string, Entry>();

  /**
   * The UIDs of the mailbox in sort order: kept, or made by `sort` (given the mailbox's UIDs
   * ascending, `uids`) and kept.
   */
  order(
    user: string,
    mailbox: string,
    criteria: string,
    uids: readonly number[],
    sort: () => readonly number[],
  ): readonly number[] {
    const key = `${user}\0${mailbox}\0${criteria}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined && sameUids(entry.uids, uids)) return entry.order;
    this.#entries.delete(key);
    const order = sort();
    this.#entries.set(key, { uids, order });
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return order;
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
