/**
 * LIST and LSUB results (RFC 9051 6.3.9, RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE,
 * RFC 3501 6.3.9 LSUB): pattern matching with `*` and `%`, selection options, and the
 * mailbox attributes each entry carries. Pure: the caller passes the user's mailboxes and
 * subscriptions, and encodes the entries.
 *
 * @module
 */

import { HIERARCHY_DELIMITER, type SpecialUse } from "../store/types.ts";
import { compileWildcard } from "./wildcard.ts";

/** A mailbox as LIST needs it. */
export interface ListSource {
  readonly name: string;
  readonly specialUse: SpecialUse | null;
}

/** What the client asked for. */
export interface ListRequest {
  readonly reference: string;
  readonly patterns: readonly string[];
  /** Selection options (RFC 5258 3.1). */
  readonly selectSubscribed?: boolean;
  readonly selectSpecialUse?: boolean;
  readonly recursiveMatch?: boolean;
  /** Return options: `\Subscribed` is reported when asked, or implied by SUBSCRIBED selection. */
  readonly returnSubscribed?: boolean;
}

/** One LIST response line before encoding. */
export interface ListEntry {
  readonly name: string;
  readonly attributes: readonly string[];
  /** RFC 5258 CHILDINFO extended data ("SUBSCRIBED"), when RECURSIVEMATCH found a child. */
  readonly childInfo: readonly string[];
}

/**
 * Compiles a LIST pattern: `*` matches anything, `%` anything but the delimiter. INBOX is
 * matched case-insensitively (RFC 9051 5.1).
 */
export function compilePattern(pattern: string): (name: string) => boolean {
  const normalized = /^inbox/i.test(pattern) ? "INBOX" + pattern.slice(5) : pattern;
  const matches = compileWildcard(normalized, HIERARCHY_DELIMITER);
  // INBOX matches case-insensitively: spell the name's INBOX the way the pattern's literal
  // prefix does ("Inb*" matches INBOX), then match as usual.
  const literal = /^[^*%]*/.exec(normalized)![0].slice(0, 5);
  return (name) => {
    if (matches(name)) return true;
    if (!name.startsWith("INBOX") || literal.toUpperCase() !== name.slice(0, literal.length)) {
      return false;
    }
    return matches(literal + name.slice(literal.length));
  };
}

/**
 * Joins reference and pattern as Dovecot does where RFC 9051 6.3.9 leaves it to the server (a
 * reference that does not end with the delimiter): plain concatenation (`a` and `%` name `a%`,
 * so `ab` and `a` itself, not `a/b`); a pattern that starts with the delimiter stands alone.
 */
export function joinReference(reference: string, pattern: string): string {
  if (pattern.startsWith(HIERARCHY_DELIMITER)) return pattern;
  return reference + pattern;
}

/**
 * Computes LIST entries. Names that do not exist but have existing children appear when `%`
 * stops at them, as `\NonExistent \Noselect` (a rev1 client knows the second). With
 * selection options (LIST-EXTENDED), a name that does not exist but meets them (a subscribed
 * mailbox that is gone), or is listed for a child that does, is `\NonExistent` alone, which
 * implies `\Noselect`.
 */
export function listMailboxes(
  mailboxes: readonly ListSource[],
  subscriptions: ReadonlySet<string>,
  request: ListRequest,
): ListEntry[] {
  const byName = new Map(mailboxes.map((mailbox) => [mailbox.name, mailbox]));
  const matchers = request.patterns.map((pattern) =>
    compilePattern(joinReference(request.reference, pattern))
  );
  const matches = (name: string) => matchers.some((match) => match(name));

  // Every name that exists, is subscribed, or is a parent of one: the candidate tree.
  const candidates = new Set<string>();
  const addWithParents = (name: string) => {
    const levels = name.split(HIERARCHY_DELIMITER);
    for (let i = 1; i <= levels.length; i++) {
      candidates.add(levels.slice(0, i).join(HIERARCHY_DELIMITER));
    }
  };
  for (const name of byName.keys()) addWithParents(name);
  for (const name of subscriptions) addWithParents(name);

  const selected = (name: string): boolean => {
    const mailbox = byName.get(name);
    if (request.selectSubscribed && !subscriptions.has(name)) return false;
    if (request.selectSpecialUse && !mailbox?.specialUse) return false;
    return request.selectSubscribed ? true : mailbox !== undefined;
  };
  const filtering = request.selectSubscribed || request.selectSpecialUse;
  const children = childIndex(candidates);

  const entries: ListEntry[] = [];
  for (const name of [...candidates].sort(compareNames)) {
    if (!matches(name)) continue;
    const mailbox = byName.get(name);
    const meets = selected(name);
    // RFC 5258 3.5 (and RFC 9051 7.3.1): a name that does not meet the criteria is listed
    // for a descendant that does only when that descendant is not returned itself (it does
    // not match the pattern); one that meets them gets CHILDINFO for any such descendant
    // (as Dovecot answers).
    const childMeets = request.recursiveMatch === true &&
      (children.get(name) ?? []).some((child) =>
        meets ? descendantMeets(child) : descendantMeetsUnlisted(child)
      );
    if (!meets && !childMeets) {
      // A parent that exists only as a path to existing children: shown when `%` stops at it.
      if (
        !filtering && !mailbox &&
        (children.get(name) ?? []).some((child) => hasExistingDescendant(child))
      ) {
        entries.push({
          name,
          attributes: ["\\NonExistent", "\\Noselect", "\\HasChildren"],
          childInfo: [],
        });
      }
      continue;
    }
    const attributes: string[] = [];
    // Only selection options get here without a mailbox: LIST-EXTENDED's form, where
    // \NonExistent implies \Noselect (RFC 5258 3, RFC 9051 7.3.1; Dovecot adds nothing).
    if (!mailbox) attributes.push("\\NonExistent");
    else {
      const hasChildren = (children.get(name) ?? []).some((child) => hasExistingDescendant(child));
      attributes.push(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
      if (mailbox.specialUse) attributes.push(mailbox.specialUse);
    }
    if ((request.returnSubscribed || request.selectSubscribed) && subscriptions.has(name)) {
      attributes.push("\\Subscribed");
    }
    entries.push({ name, attributes, childInfo: childMeets ? ["SUBSCRIBED"] : [] });
  }
  return entries.map((entry) => request.recursiveMatch ? entry : { ...entry, childInfo: [] });

  function hasExistingDescendant(name: string): boolean {
    if (byName.has(name)) return true;
    return (children.get(name) ?? []).some(hasExistingDescendant);
  }
  function descendantMeets(name: string): boolean {
    if (selected(name)) return true;
    return (children.get(name) ?? []).some(descendantMeets);
  }
  function descendantMeetsUnlisted(name: string): boolean {
    if (selected(name) && !matches(name)) return true;
    return (children.get(name) ?? []).some(descendantMeetsUnlisted);
  }
}

/**
 * LSUB (IMAP4rev1): subscribed names matching the pattern, whether or not they exist; a
 * parent that `%` stops at and that has subscribed children but is not subscribed itself is
 * returned `\Noselect`.
 */
export function listSubscribed(
  subscriptions: ReadonlySet<string>,
  reference: string,
  pattern: string,
): ListEntry[] {
  const match = compilePattern(joinReference(reference, pattern));
  const entries = new Map<string, ListEntry>();
  for (const name of [...subscriptions].sort(compareNames)) {
    if (match(name)) {
      // A subscribed name that does not exist (any more) is listed as it is, without
      // \Noselect: RFC 3501 keeps such subscriptions, and Dovecot answers `LSUB () "/" name`.
      entries.set(name, { name, attributes: [], childInfo: [] });
      continue;
    }
    const levels = name.split(HIERARCHY_DELIMITER);
    for (let i = levels.length - 1; i >= 1; i--) {
      const parent = levels.slice(0, i).join(HIERARCHY_DELIMITER);
      if (match(parent) && !subscriptions.has(parent) && !entries.has(parent)) {
        entries.set(parent, { name: parent, attributes: ["\\Noselect"], childInfo: [] });
      }
    }
  }
  return [...entries.values()].sort((a, b) => compareNames(a.name, b.name));
}

function childIndex(names: ReadonlySet<string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const name of names) {
    const cut = name.lastIndexOf(HIERARCHY_DELIMITER);
    if (cut < 0) continue;
    const parent = name.slice(0, cut);
    const list = index.get(parent);
    if (list) list.push(name);
    else index.set(parent, [name]);
  }
  return index;
}

function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "INBOX") return -1;
  if (b === "INBOX") return 1;
  return a < b ? -1 : 1;
}
