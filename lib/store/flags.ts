/**
 * Flag normalisation shared by every backend. IMAP flags are case-insensitive (RFC 9051
 * 2.3.2): system flags are kept in their canonical spelling, keywords as first given.
 *
 * @module
 */

/**
 * System flags a message can carry in the store (`\Recent` is per session, not stored), in the
 * order of RFC 9051's `flag` rule, which is the order IMAP's FLAGS response lists them.
 */
export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"] as const;

/** The IMAP4rev1 session flag (RFC 3501 2.3.2): reported, never stored. */
export const RECENT_FLAG = "\\Recent";

const canonicalSystem = new Map(SYSTEM_FLAGS.map((flag) => [flag.toLowerCase(), flag]));

/** The canonical spelling of a flag: `\SEEN` -> `\Seen`; keywords unchanged. */
export function canonicalFlag(flag: string): string {
  return canonicalSystem.get(flag.toLowerCase()) ?? flag;
}

/** Whether a stored flag list holds `flag`, compared case-insensitively. */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  // Indexed, not `for...of`: no iterator objects (twice for every stored message).
  for (let i = 0; i < flags.length; i++) if (flags[i] === flag) return true;
  let wanted: string | null = null;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f.length !== flag.length) continue;
    wanted ??= flag.toLowerCase();
    if (f.toLowerCase() === wanted) return true;
  }
  return false;
}

/**
 * Applies an operation and returns the new sorted, de-duplicated list (system flags first).
 * `\Recent` and other unknown backslash flags are dropped: they cannot be stored.
 */
export function applyFlags(
  current: readonly string[],
  operation: "replace" | "add" | "remove",
  flags: readonly string[],
): readonly string[] {
  // Fast path for the common STORE +FLAGS/-FLAGS that changes nothing: no allocation.
  if (
    operation !== "replace" &&
    flags.every((flag) => hasFlag(current, flag) === (operation === "add"))
  ) {
    return current;
  }
  const byKey = new Map<string, string>();
  if (operation !== "replace") {
    for (const flag of current) byKey.set(flag.toLowerCase(), flag);
  }
  for (const raw of flags) {
    const flag = canonicalFlag(raw);
    if (flag.startsWith("\\") && !canonicalSystem.has(flag.toLowerCase())) continue;
    if (operation === "remove") byKey.delete(flag.toLowerCase());
    else if (!byKey.has(flag.toLowerCase())) byKey.set(flag.toLowerCase(), flag);
  }
  return sortFlags([...byKey.values()]);
}

/** System flags first in canonical order, then keywords in code-point order. */
export function sortFlags(flags: string[]): string[] {
  return flags.sort((a, b) => {
    const sa = a.startsWith("\\") ? 0 : 1;
    const sb = b.startsWith("\\") ? 0 : 1;
    if (sa !== sb) return sa - sb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

const interned = new Map<string, readonly string[]>();
/** Distinct flag lists kept; past it, lists are frozen but not shared. */
const MAX_INTERNED = 4096;

/**
 * One shared, frozen array per distinct sorted flag list. Messages with the same flags (most
 * of a mailbox has one of a few lists) then share it, which keeps per-message memory small
 * and lets STORE work out each distinct list's new flags once instead of once per message.
 * Stored lists are never changed in place; freezing makes a mistake throw.
 */
export function internFlags(flags: readonly string[]): readonly string[] {
  // NUL separates the flags in the key; a list holding one (only an embedder could store
  // it: protocol flags are atoms) is frozen but not shared, so keys never collide.
  if (flags.some((flag) => flag.includes("\0"))) return Object.freeze([...flags]);
  const key = flags.join("\0");
  const known = interned.get(key);
  if (known) return known;
  const frozen = Object.freeze([...flags]);
  if (interned.size < MAX_INTERNED) interned.set(key, frozen);
  return frozen;
}

/** Whether two sorted flag lists are equal. */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((flag, i) => flag === b[i]);
}
