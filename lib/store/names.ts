/**
 * Name rules. Mailboxes: `INBOX` is case-insensitive and always spelled in upper case, `/`
 * separates levels, and no level may be empty. Users: 1 to 256 characters without spaces,
 * control characters or `:` (message ids use it), compared in lower case.
 *
 * @module
 */

import { HIERARCHY_DELIMITER, StoreError } from "./types.ts";

/** The canonical form of a mailbox name: `inbox` -> `INBOX`, `Inbox/x` -> `INBOX/x`. */
export function canonicalMailboxName(name: string): string {
  const upper = name.slice(0, 6).toUpperCase();
  if (upper === "INBOX") return "INBOX";
  if (upper === "INBOX" + HIERARCHY_DELIMITER) return "INBOX" + name.slice(5);
  return name;
}

/** Throws `invalid-name` unless `name` is a valid mailbox name; returns its canonical form. */
export function validateMailboxName(name: string): string {
  if (name.length === 0 || name.length > 1000) {
    throw new StoreError(
      "invalid-name",
      "Cannot use mailbox name: it must be 1 to 1000 characters",
    );
  }
  if (/[\x00-\x1f\x7f*%]/.test(name)) {
    throw new StoreError(
      "invalid-name",
      "Cannot use mailbox name: it contains a control character, * or %",
    );
  }
  if (name.split(HIERARCHY_DELIMITER).some((level) => level === "")) {
    throw new StoreError("invalid-name", "Cannot use mailbox name: a hierarchy level is empty");
  }
  return canonicalMailboxName(name);
}

/** The names of every ancestor of `name`, outermost first: `a/b/c` -> `a`, `a/b`. */
export function ancestorNames(name: string): string[] {
  const levels = name.split(HIERARCHY_DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(HIERARCHY_DELIMITER));
  return out;
}

/** Whether `name` is `parent` itself or lies below it. */
export function isSameOrBelow(name: string, parent: string): boolean {
  return name === parent || name.startsWith(parent + HIERARCHY_DELIMITER);
}

/** INBOX first, then code-point order. */
export function compareMailboxNames(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "INBOX") return -1;
  if (b === "INBOX") return 1;
  return a < b ? -1 : 1;
}

/** Throws `invalid-user` unless `user` is a usable user name; returns its canonical (lower-case) form. */
export function canonicalUserName(user: string): string {
  if (user.length === 0 || user.length > 256 || /[\x00-\x20\x7f:]/.test(user)) {
    throw new StoreError(
      "invalid-user",
      "Cannot use user name: it must be 1 to 256 characters without spaces, control characters or ':'",
    );
  }
  return user.toLowerCase();
}
