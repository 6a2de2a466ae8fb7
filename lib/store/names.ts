/**
 * Mailbox name rules: `INBOX` is case-insensitive and always spelled in upper case, `/`
 * separates levels, and no level may be empty.
 *
 * @module
 */

import { HIERARCHY_DELIMITER, StoreError } from "./types.ts";

/** The canonical form of a mailbox name: `inbox` → `INBOX`, `Inbox/x` → `INBOX/x`. */
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

/** The names of every ancestor of `name`, outermost first: `a/b/c` → `a`, `a/b`. */
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
