/**
 * URLAUTH mailbox access keys (RFC 4467 3, 6.1): one random key per user and mailbox, made
 * on first use by GENURLAUTH, removed by RESETKEY. A key belongs to its mailbox, not to a
 * name, as in Dovecot 2.3 (a private attribute of the mailbox,
 * `/private/vendor/vendor.dovecot/imap-urlauth`): it moves with RENAME (also RENAME INBOX,
 * whose messages it guards) and goes with DELETE, so a mailbox made later under a name never
 * gets the key of the one that had it. The store keeps them in memory and writes each change
 * through its backend (SQLite table `urlauth_keys`, rows by user and mailbox name).
 *
 * @module
 */

import type { AccessKeyRow, Persistence } from "./persistence.ts";

/** Octets of a mailbox access key. */
export const ACCESS_KEY_LENGTH = 32;

/** The keys of every user and mailbox; the owner runs each change in a transaction. */
export class AccessKeys {
  readonly #persistence: Persistence;
  /** `user \0 mailbox` -> key. */
  readonly #keys = new Map<string, Uint8Array>();
  /** Loaded rows whose mailbox does not exist (left by a rename before keys moved). */
  readonly #stale: AccessKeyRow[] = [];

  /** Takes the loaded rows; those of no mailbox (`holds` false) are kept out, as stale. */
  constructor(
    persistence: Persistence,
    loaded: ReadonlyArray<AccessKeyRow>,
    holds: (user: string, mailbox: string) => boolean,
  ) {
    this.#persistence = persistence;
    for (const row of loaded) {
      if (holds(row.user, row.mailbox)) this.#keys.set(keyOf(row.user, row.mailbox), row.key);
      else this.#stale.push(row);
    }
  }

  /** True when rows of no mailbox were loaded: {@linkcode dropStale} removes them. */
  get hasStale(): boolean {
    return this.#stale.length > 0;
  }

  /**
   * Removes the loaded rows of no mailbox from the backend: a database written before keys
   * moved with RENAME holds them under the old names, and a mailbox created there later must
   * not take one up.
   */
  dropStale(): void {
    for (const row of this.#stale.splice(0)) {
      this.#persistence.deleteAccessKeys(row.user, row.mailbox);
    }
  }

  get(user: string, mailbox: string): Uint8Array | null {
    return this.#keys.get(keyOf(user, mailbox)) ?? null;
  }

  /** A new random key for the mailbox (written through). */
  create(user: string, mailbox: string): Uint8Array {
    const key = crypto.getRandomValues(new Uint8Array(ACCESS_KEY_LENGTH));
    this.#persistence.setAccessKey(user, mailbox, key);
    this.#keys.set(keyOf(user, mailbox), key);
    return key;
  }

  /** Removes one mailbox's key, or all of the user's (`mailbox` null). */
  remove(user: string, mailbox: string | null): void {
    this.#persistence.deleteAccessKeys(user, mailbox);
    if (mailbox !== null) {
      this.#keys.delete(keyOf(user, mailbox));
      return;
    }
    const prefix = `${user}\u0000`;
    for (const key of [...this.#keys.keys()]) if (key.startsWith(prefix)) this.#keys.delete(key);
  }

  /**
   * Moves keys from old names to new ones (RENAME: `[from, to]` for each mailbox renamed).
   * Every old name is cleared before any new one is written, so a new name that is also
   * an old one (a child renamed onto its parent's old name) ends with the right key; a new
   * name whose mailbox had no key ends with none.
   */
  move(user: string, renames: ReadonlyArray<readonly [string, string]>): void {
    const moving: Array<[string, Uint8Array | null]> = renames.map(([from, to]) => [
      to,
      this.get(user, from),
    ]);
    for (const [from] of renames) {
      if (this.#keys.has(keyOf(user, from))) this.remove(user, from);
    }
    for (const [to, key] of moving) {
      if (key) {
        this.#persistence.setAccessKey(user, to, key);
        this.#keys.set(keyOf(user, to), key);
      } else if (this.#keys.has(keyOf(user, to))) this.remove(user, to);
    }
  }

  /** Forgets everything (the store was reset; the backend was cleared with it). */
  clear(): void {
    this.#keys.clear();
  }
}

function keyOf(user: string, mailbox: string): string {
  return `${user}\u0000${mailbox}`;
}
