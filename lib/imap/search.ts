/**
 * The SEARCH evaluator (RFC 9051 6.4.4): compiles a parsed {@linkcode SearchKey} into one
 * predicate over the messages of a mailbox. Compiling does the per-command work once
 * (lower-casing needles, resolving sequence sets, turning dates into day numbers) and orders
 * every AND and OR so cheap tests (flags, dates, sizes, numbers) run before header tests,
 * and header tests before body text, which is only decoded when nothing cheaper decided.
 *
 * Matching rules:
 * - strings: case-insensitive substring of the decoded value (`""` matches any value, so
 *   `HEADER X-Foo ""` finds messages that have the field); FROM/TO/CC/BCC/SUBJECT and HEADER
 *   look at the top-level header only; FROM/TO/CC/BCC also match the addresses as parsed
 *   (comments and folding white space removed, as `name <local@domain>`), HEADER and
 *   SUBJECT the header text only;
 * - BODY: the decoded text parts; TEXT: the header, MIME part headers and BODY's text;
 * - BEFORE/ON/SINCE: the day of INTERNALDATE in UTC (the zone every INTERNALDATE is shown
 *   in); SENTBEFORE/SENTON/SENTSINCE: the day of the `Date:` field in its own zone, or of
 *   INTERNALDATE when the message has no readable `Date:` (as RFC 5256 does for SORT);
 *   SAVEDBEFORE/SAVEDON/SAVEDSINCE: the day of the save date in UTC (RFC 8514 5);
 * - OLDER n / YOUNGER n (RFC 5032 4): INTERNALDATE at least n seconds before the
 *   environment's now / less than n seconds before it (Dovecot's bounds);
 * - LARGER/SMALLER: RFC822.SIZE; KEYWORD and flags: case-insensitive; MODSEQ n: MODSEQ >= n;
 * - sequence sets and UID sets: `*` is the last message / the largest UID, `$` the saved
 *   result (RFC 5182), which holds UIDs in both cases.
 *
 * Sans-IO: the environment hands over message data, so the evaluator is tested without a
 * store or a socket.
 *
 * @module
 */

import {
  dayNumber,
  type SearchField,
  type SearchHeaders,
  type SearchText,
} from "../mail/search_text.ts";
import { hasFlag } from "../store/flags.ts";
import type { ImapDate } from "./datetime.ts";
import type { SearchKey } from "./parse_search.ts";
import { resolveSequenceSet, type SequenceSet } from "./sequence.ts";

/** One message of the selected mailbox, as the evaluator sees it. */
export interface SearchCandidate {
  /** Sequence number in the session's view. */
  readonly seq: number;
  readonly uid: number;
  readonly flags: readonly string[];
  /** INTERNALDATE, in milliseconds since the epoch. */
  readonly internalDate: number;
  /** The save date (RFC 8514), in milliseconds since the epoch. */
  readonly saveDate: number;
  /** RFC822.SIZE. */
  readonly size: number;
  /** MODSEQ (RFC 7162). */
  readonly modseq: number;
}

/** What a search needs besides the candidates' metadata. */
export interface SearchEnvironment {
  /** Messages in the session's view (`*` in a sequence set). */
  readonly messageCount: number;
  /** The largest UID in the session's view (`*` in a UID set). */
  readonly maxUid: number;
  /** The saved search result (RFC 5182), UIDs ascending; `$` means these. */
  readonly saved: readonly number[];
  /** Now, for OLDER and YOUNGER (RFC 5032), in milliseconds since the epoch. */
  readonly now: number;
  /** Whether the session reports the message as `\Recent` (IMAP4rev1 only). */
  isRecent(candidate: SearchCandidate): boolean;
  /** The message's decoded header (cached by the caller). */
  headers(candidate: SearchCandidate): SearchHeaders;
  /**
   * The parsed forms of the message's BCC, CC, FROM and TO addresses that its header text
   * lacks (see `searchAddresses`; cached by the caller).
   */
  addresses(candidate: SearchCandidate): readonly SearchField[];
  /**
   * A filter for address keys looking for `needle` (lower-cased): false for a message whose
   * address fields surely lack it, true for any other (see address_columns.ts); null or
   * absent: none, every message is tested.
   */
  addressFilter?(needle: string): ((uid: number) => boolean) | null;
  /** The message's decoded header and body text (cached by the caller). */
  text(candidate: SearchCandidate): SearchText;
  /** The message's EMAILID (RFC 8474); absent: the program has no EMAILID key. */
  emailId?(candidate: SearchCandidate): string;
}

/** A compiled search: true for matching messages. */
export type SearchPredicate = (candidate: SearchCandidate) => boolean;

/** A compiled node and a rough cost, so AND/OR can try cheap nodes first. */
interface Compiled {
  readonly test: SearchPredicate;
  readonly cost: number;
}

const CHEAP = 1;
/** A header field name (RFC 5322 2.2: printable US-ASCII but ":"). */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const HEADER = 10;
const TEXT = 100;

const DAY = 86_400_000;

/**
 * Compiles `key` against `env`. The predicate may be called for messages in any order.
 *
 * @example
 * ```ts
 * const matches = compileSearch({ type: "flag", flag: "\\Seen", present: false }, env);
 * matches({ seq: 1, uid: 7, flags: [], internalDate: 0, saveDate: 0, size: 10, modseq: 1 }); // true
 * ```
 */
export function compileSearch(key: SearchKey, env: SearchEnvironment): SearchPredicate {
  return compile(key, env).test;
}

function compile(key: SearchKey, env: SearchEnvironment): Compiled {
  switch (key.type) {
    case "all":
      return { test: () => true, cost: 0 };
    case "and":
      return all(key.keys.map((k) => compile(k, env)));
    case "or":
      return any([compile(key.a, env), compile(key.b, env)]);
    case "not": {
      const inner = compile(key.key, env);
      return { test: (c) => !inner.test(c), cost: inner.cost };
    }
    case "seq": {
      const has = numberSet(key.set, env.messageCount, env);
      return { test: (c) => has(c.seq, c.uid), cost: CHEAP };
    }
    case "uid": {
      const has = numberSet(key.set, env.maxUid, env);
      return { test: (c) => has(c.uid, c.uid), cost: CHEAP };
    }
    case "flag": {
      const { flag, present } = key;
      return { test: (c) => hasFlag(c.flags, flag) === present, cost: CHEAP };
    }
    case "recent":
      return { test: (c) => env.isRecent(c), cost: CHEAP };
    case "new":
      return { test: (c) => env.isRecent(c) && !hasFlag(c.flags, "\\Seen"), cost: CHEAP };
    case "old":
      return { test: (c) => !env.isRecent(c), cost: CHEAP };
    case "modseq": {
      // RFC 7162 3.1.5: MODSEQ equal to or greater than the value.
      const { modseq } = key;
      return { test: (c) => c.modseq >= modseq, cost: CHEAP };
    }
    case "size": {
      const { size } = key;
      const test: SearchPredicate = key.op === "larger"
        ? (c) => c.size > size
        : (c) => c.size < size;
      return { test, cost: CHEAP };
    }
    case "date": {
      const compare = dayComparison(key.op, key.date);
      if (key.which === "internal") {
        return { test: (c) => compare(Math.floor(c.internalDate / DAY)), cost: CHEAP };
      }
      if (key.which === "saved") {
        return { test: (c) => compare(Math.floor(c.saveDate / DAY)), cost: CHEAP };
      }
      return {
        test: (c) => compare(env.headers(c).sentDay ?? Math.floor(c.internalDate / DAY)),
        cost: HEADER,
      };
    }
    case "within": {
      // Whole seconds, as INTERNALDATE has no finer grain on the wire.
      const limit = env.now - key.seconds * 1000;
      const test: SearchPredicate = key.op === "older"
        ? (c) => c.internalDate <= limit
        : (c) => c.internalDate > limit;
      return { test, cost: CHEAP };
    }
    case "header": {
      // RFC 5322 2.2: a field name is printable US-ASCII but ":"; no message has another.
      if (!FIELD_NAME.test(key.field)) return { test: () => false, cost: CHEAP };
      const name = key.field.toLowerCase();
      const needle = key.value.toLowerCase();
      return { test: (c) => env.headers(c).has(name, needle), cost: HEADER };
    }
    case "address": {
      const name = key.field.toLowerCase();
      const needle = key.value.toLowerCase();
      const exact: SearchPredicate = (c) =>
        env.headers(c).has(name, needle) || fieldHas(env.addresses(c), name, needle);
      // Messages the filter rules out are not read at all (most, for a rare address).
      const filter = env.addressFilter?.(needle) ?? null;
      if (filter === null) return { test: exact, cost: HEADER };
      return { test: (c) => filter(c.uid) && exact(c), cost: HEADER };
    }
    case "body": {
      const needle = key.value.toLowerCase();
      return { test: (c) => env.text(c).bodyIncludes(needle), cost: TEXT };
    }
    // RFC 8474 6: THREADID is NIL for every message here (object_id.ts), so none matches.
    case "threadid":
      return { test: () => false, cost: CHEAP };
    case "emailid":
      return { test: (c) => env.emailId?.(c) === key.id, cost: TEXT };
    case "text": {
      const needle = key.value.toLowerCase();
      return {
        test: (c) => {
          const text = env.text(c);
          return text.header.includes(needle) || text.bodyIncludes(needle);
        },
        cost: TEXT,
      };
    }
  }
}

/** Whether a field named `name` contains `needle` (both lower-cased). */
function fieldHas(fields: readonly SearchField[], name: string, needle: string): boolean {
  for (const field of fields) {
    if (field.name === name && field.value.includes(needle)) return true;
  }
  return false;
}

function byCost(nodes: Compiled[]): Compiled[] {
  return [...nodes].sort((a, b) => a.cost - b.cost);
}

function all(nodes: Compiled[]): Compiled {
  const ordered = byCost(nodes).map((node) => node.test);
  const cost = nodes.reduce((sum, node) => sum + node.cost, 0);
  if (ordered.length === 1) return { test: ordered[0], cost };
  return {
    test: (c) => {
      for (const test of ordered) if (!test(c)) return false;
      return true;
    },
    cost,
  };
}

function any(nodes: Compiled[]): Compiled {
  const [first, second] = byCost(nodes).map((node) => node.test);
  return { test: (c) => first(c) || second(c), cost: nodes[0].cost + nodes[1].cost };
}

/**
 * A membership test for a sequence or UID set. `$` is the saved result, which holds UIDs,
 * so it tests the UID even in a sequence-number key (RFC 5182 2.1).
 */
function numberSet(
  set: SequenceSet,
  max: number,
  env: SearchEnvironment,
): (number: number, uid: number) => boolean {
  if (set === "$") {
    const saved = new Set(env.saved);
    return (_number, uid) => saved.has(uid);
  }
  const has = resolveSequenceSet(set, max);
  return (number) => has(number);
}

function dayComparison(op: "before" | "on" | "since", date: ImapDate): (day: number) => boolean {
  const target = dayNumber(date.year, date.month, date.day);
  if (op === "before") return (day) => day < target;
  if (op === "on") return (day) => day === target;
  return (day) => day >= target;
}
