/**
 * URLAUTH mailbox access keys (RFC 4467 3, 6.1): one random key per user and mailbox, made
 * on first use by GENURLAUTH, removed by RESETKEY and with its mailbox. The store keeps them
 * in memory and writes each change through its backend (SQLite table `urlauth_keys`).
 *
 * @module
 */

import type { AccessKeyRow, Persistence } from "./persistence.ts";

/** Octets of a mailbox access key. */
export const ACCESS_KEY_LENGTH = 32;

/** The keys of every user and mailbox; the owner runs each change in a transaction. */
export class AccessKeys {
  readonly #persistence: Persistence;
  /** `user \0 mailbox` → key. */
  readonly #keys = new Map<string, Uint8Array>();

  constructor(persistence: Persistence, loaded: ReadonlyArray<AccessKeyRow>) {
    this.#persistence = persistence;
    for (const row of loaded) this.#keys.set(keyOf(row.user, row.mailbox), row.key);
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

  /** Forgets everything (the store was reset; the backend was cleared with it). */
  clear(): void {
    this.#keys.clear();
  }
}

function keyOf(user: string, mailbox: string): string {
  return `${user}\u0000${mailbox}`;
}
