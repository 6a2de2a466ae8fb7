/**
 * What SEARCH BCC, CC, FROM and TO (RFC 9051 6.4.4) can rule out without reading a message:
 * per mailbox, the text those keys match in each message indexed at delivery (its decoded,
 * lower-cased address fields and their parsed forms, see `searchAddressText`), kept one after
 * the other in one string. A search looks for its string in that string once, natively, and
 * only the messages it is found in (and those the column does not cover) are tested the
 * usual way. The column is a filter, never the answer: a message it lets through is still
 * matched field by field, so a hit across two fields or in the wrong field costs a test, not
 * a wrong result.
 *
 * Why: a first `SEARCH FROM` after a burst of mail spent over a microsecond a message
 * reaching each message's header forms (its record, its index, the index's memo, the forms'
 * text), each a fresh cache miss among 100 MB of new mail; Dovecot reads one cache file.
 *
 * A column is keyed by user and mailbox name and holds UIDs, so it is dropped whenever a name
 * may come to hold other messages under the same UIDs (a mailbox deleted or renamed, a store
 * reset: as the SORT cache, sort_cache.ts). Expunged messages stay until they are half the
 * column (their UIDs are never searched again).
 *
 * @module
 */

import { canonicalMailboxName } from "../store/names.ts";

/** Between two messages' texts: no search string holds it (a C0 control, not in text). */
const SEPARATOR = "\u0000";
/** Largest UID span a filter's table covers a byte a UID (1 MiB). */
const MAX_SPAN = 1 << 20;

/** One mailbox's texts, in the order their messages were indexed. */
interface Column {
  readonly uids: number[];
  /** Where each message's text starts in the texts joined by {@linkcode SEPARATOR}. */
  readonly starts: number[];
  /**
   * The texts (or runs of them already joined), joined on a search: a string of the whole
   * column made by appending to it would be a chain of two string objects a message, all of
   * them garbage once a search flattens it.
   */
  parts: string[];
  /** The length of the texts joined, with a separator after each. */
  length: number;
  /** Expunged UIDs still in the column. */
  dead: Set<number> | null;
}

/** A test of one message by UID: false only if its address fields surely lack the string. */
export type AddressFilter = (uid: number) => boolean;

/** The address columns of one server's mailboxes. */
export class AddressColumns {
  readonly #columns = new Map<string, Column>();

  /** Records `text` (see `searchAddressText`) as what address keys match in message `uid`. */
  add(user: string, mailbox: string, uid: number, text: string): void {
    const key = columnKey(user, mailbox);
    let column = this.#columns.get(key);
    if (column === undefined) {
      column = { uids: [], starts: [], parts: [], length: 0, dead: null };
      this.#columns.set(key, column);
    }
    column.uids.push(uid);
    column.starts.push(column.length);
    column.parts.push(text);
    column.length += text.length + 1;
  }

  /** Notes that these messages are gone; the column sheds them once they are half of it. */
  expunged(user: string, mailbox: string, uids: readonly number[]): void {
    const key = columnKey(user, mailbox);
    const column = this.#columns.get(key);
    if (column === undefined) return;
    const dead = column.dead ??= new Set();
    for (const uid of uids) dead.add(uid);
    if (dead.size * 2 >= column.uids.length) this.#columns.set(key, shed(column));
  }

  /** Forgets the user's columns: one of their mailbox names may now hold other messages. */
  forgetUser(user: string): void {
    const prefix = `${user.toLowerCase()}\u0000`;
    for (const key of [...this.#columns.keys()]) {
      if (key.startsWith(prefix)) this.#columns.delete(key);
    }
  }

  /** Forgets every column (the store was reset). */
  clear(): void {
    this.#columns.clear();
  }

  /**
   * A filter for the lower-cased search string `needle` in the mailbox, or null when the
   * mailbox has no column (or the string is empty, which every present field holds).
   */
  filter(user: string, mailbox: string, needle: string): AddressFilter | null {
    const column = this.#columns.get(columnKey(user, mailbox));
    if (column === undefined || needle.length === 0 || column.uids.length === 0) return null;
    const text = joined(column);
    const { uids, starts } = column;
    let low = uids[0];
    let high = uids[0];
    for (let i = 1; i < uids.length; i++) {
      const uid = uids[i];
      if (uid < low) low = uid;
      else if (uid > high) high = uid;
    }
    if (high - low >= MAX_SPAN) return null;
    // 0: not in the column, 1: in it without the string, 2: in it with the string.
    const state = new Uint8Array(high - low + 1);
    for (let i = 0; i < uids.length; i++) state[uids[i] - low] = 1;
    let entry = 0;
    let at = text.indexOf(needle);
    while (at >= 0) {
      entry = entryAt(starts, at, entry);
      state[uids[entry] - low] = 2;
      if (++entry >= starts.length) break;
      at = text.indexOf(needle, starts[entry]);
    }
    return (uid) => {
      const k = uid - low;
      return k < 0 || k >= state.length || state[k] !== 1;
    };
  }
}

function columnKey(user: string, mailbox: string): string {
  return `${user.toLowerCase()}\u0000${canonicalMailboxName(mailbox)}`;
}

/** The entry whose text holds offset `at`, searching from entry `from` on (starts ascend). */
function entryAt(starts: readonly number[], at: number, from: number): number {
  let low = from;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (starts[mid] <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The column's texts as one string, kept as its one part until more come. */
function joined(column: Column): string {
  if (column.parts.length !== 1) column.parts = [column.parts.join(SEPARATOR)];
  return column.parts[0];
}

/** The column without its expunged messages. */
function shed(column: Column): Column {
  const dead = column.dead!;
  const text = joined(column);
  const kept: Column = { uids: [], starts: [], parts: [], length: 0, dead: null };
  for (let i = 0; i < column.uids.length; i++) {
    if (dead.has(column.uids[i])) continue;
    // Each text ends one before the next starts (at its separator).
    const end = (i + 1 < column.starts.length ? column.starts[i + 1] : column.length) - 1;
    const part = text.slice(column.starts[i], end);
    kept.uids.push(column.uids[i]);
    kept.starts.push(kept.length);
    kept.parts.push(part);
    kept.length += part.length + 1;
  }
  return kept;
}
