/**
 * The cap on users a store creates on demand (any SMTP recipient, any IMAP login when any
 * credentials are accepted): without it one unauthenticated client can create users, each
 * with its default mailboxes, until memory runs out. Users named in the configuration are
 * always created and do not count: the cap is on the users nobody configured.
 *
 * @module
 */

import { StoreError } from "./types.ts";

/** A store's user cap. */
export interface UserLimit {
  /** Users created on demand the store holds at most. */
  readonly max: number;
  /** Canonical names always created and not counted (the configured users). */
  readonly exempt: ReadonlySet<string>;
}

/** No cap: what a store opened without one gets. */
export const NO_USER_LIMIT: UserLimit = { max: Infinity, exempt: new Set() };

/** Builds a cap from store options; canonical (lower-case) exempt names. */
export function userLimit(max: number | undefined, exempt: readonly string[] = []): UserLimit {
  return { max: max ?? Infinity, exempt: new Set(exempt.map((name) => name.toLowerCase())) };
}

/**
 * Throws `user-limit` unless every one of `names` missing from `users` can be created.
 * Linear in `names`; the configured users are counted only when the store is near the cap.
 */
export function checkUserRoom(
  users: ReadonlyMap<string, unknown>,
  limit: UserLimit,
  names: Iterable<string>,
): void {
  if (limit.max === Infinity) return;
  // Made only for a name to create: a delivery to users who exist (nearly every one, twice
  // per SMTP message) allocates nothing.
  let adding: Set<string> | null = null;
  for (const name of names) {
    const canonical = name.toLowerCase();
    if (!users.has(canonical) && !limit.exempt.has(canonical)) {
      (adding ??= new Set()).add(canonical);
    }
  }
  if (adding === null || users.size + adding.size <= limit.max) return;
  let counted = users.size;
  for (const name of limit.exempt) if (users.has(name)) counted--;
  if (counted + adding.size <= limit.max) return;
  const [first] = adding;
  const what = adding.size === 1 ? `user ${first}` : `${adding.size} users (${first}, \u2026)`;
  throw new StoreError(
    "user-limit",
    `Cannot create ${what}: ${counted} ${counted === 1 ? "user exists" : "users exist"} ` +
      `and the limit is ${limit.max} ` +
      `(ELEKTROMAIL_MAX_USERS; a reset clears them)`,
  );
}
