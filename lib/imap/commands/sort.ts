/**
 * SORT, UID SORT, THREAD and UID THREAD (RFC 5256), with ESORT's RETURN options (RFC 5267)
 * and the DISPLAYFROM/DISPLAYTO keys (RFC 5957).
 *
 * ```abnf
 * sort          = ["UID" SP] "SORT" [sort-return-opts] SP sort-criteria SP
 *                 search-criteria                                    ; RFC 5256 5, RFC 5267
 * sort-return-opts = SP "RETURN" SP "(" [sort-return-opt *(SP sort-return-opt)] ")"
 * sort-return-opt = search-return-opt   ; MIN MAX ALL COUNT SAVE UPDATE PARTIAL
 * search-criteria = charset 1*(SP search-key)
 * thread        = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 * thread-alg    = "ORDEREDSUBJECT" / "REFERENCES" / "REFS"
 * sort-data     = "SORT" *(SP nz-number)
 * thread-data   = "THREAD" [SP 1*thread-list]
 * ```
 * The search part is SEARCH's parser and evaluator (search.ts); the charset is mandatory
 * here, and one other than UTF-8 or US-ASCII gets `NO [BADCHARSET]`. A SORT with RETURN
 * options answers with ESEARCH (RFC 5267 3.2), without them with `* SORT`, in IMAP4rev2
 * sessions too (RFC 5256's response is not replaced by ESEARCH). The RETURN options are
 * SEARCH's (search_return.ts) on the sorted list: MIN/MAX the first and last in sort
 * order, ALL in sort order, PARTIAL counting positions in it (RFC 9394 3), SAVE keeping
 * what the response returns (RFC 5182 2.4). UPDATE keeps the result up to date with
 * positions in ADDTO/REMOVEFROM (CONTEXT=SORT, RFC 5267 4; sort_updates.ts). With the MODSEQ search key
 * the SORT result carries `(MODSEQ n)` as SEARCH's does (RFC 7162 3.1.5).
 *
 * Like SEARCH, SORT and THREAD never let EXPUNGE responses through (their sequence numbers
 * must stay valid); the UID forms may.
 *
 * @module
 */

import { MessageIndex } from "../../mail/message_index.ts";
import { type AuthedCommandSpec, type AuthedSession, ImapError, SELECTED } from "../context.ts";
import { enableCondstore } from "../condstore.ts";
import { quoted, untagged } from "../encoder.ts";
import { InvalidUtf8Error } from "../parse_error.ts";
import { readSearchKeys, type SearchKey, usesModseq } from "../parse_search.ts";
import type { Reader } from "../parser.ts";
import {
  esearchData,
  readReturnRequest,
  returnedPositions,
  type ReturnRequest,
} from "../search_return.ts";
import type { SearchCandidate } from "../search.ts";
import { readSortCriteria, type SortCriterion, sortFields, sortItems } from "../sort.ts";
import {
  formatThreads,
  orderedSubject,
  referencesThreads,
  type ThreadMessage,
  type ThreadNode,
} from "../thread.ts";
import { threadFields } from "../thread_fields.ts";
import { KeptSort, needsFields, type SortEntry } from "../sort_updates.ts";
import { badCharset, CHARSETS, evaluate, keepUpdated } from "./search.ts";
import { selectionOf } from "./targets.ts";

const EMPTY = new Uint8Array(0);

/** THREAD algorithms, in the order CAPABILITY lists them (as Dovecot). */
const ALGORITHMS = ["REFERENCES", "REFS", "ORDEREDSUBJECT"] as const;
type Algorithm = typeof ALGORITHMS[number];

/** Reads `charset SP search-key...` and evaluates it: the matches in sequence order. */
function readAndSearch(
  session: AuthedSession,
  reader: Reader,
): {
  matches: SearchCandidate[];
  modseq: boolean;
  test: (uid: number) => boolean;
  unannounced: number[];
} {
  const charset = reader.readAstring().toUpperCase();
  // Without search keys the charset may be a search key: the command is malformed (BAD, as
  // Dovecot), whatever the word is.
  if (reader.atEnd()) throw new ImapError("BAD", null, "Missing search criteria");
  if (!CHARSETS.includes(charset)) {
    throw badCharset(`Cannot search in charset ${charset}; use UTF-8 or US-ASCII`);
  }
  reader.sp();
  let key: SearchKey;
  try {
    key = readSearchKeys(reader);
  } catch (error) {
    if (error instanceof InvalidUtf8Error) {
      throw badCharset("Search string is not valid UTF-8; send UTF-8 or US-ASCII");
    }
    throw error;
  }
  const modseq = usesModseq(key);
  if (modseq) enableCondstore(session);
  const { found, test, unannounced } = evaluate(session, selectionOf(session), key);
  return { matches: found, modseq, test, unannounced };
}

/** The message's cached MIME index (an empty one if it vanished meanwhile). */
function indexOf(session: AuthedSession, uid: number): MessageIndex {
  const mailbox = selectionOf(session).tracker.mailbox;
  return session.ctx.store.getIndex(session.user, mailbox, uid) ?? new MessageIndex(EMPTY);
}

function sort(session: AuthedSession, reader: Reader, tag: string, byUid: boolean): void {
  const selection = selectionOf(session);
  if (reader.atEnd()) throw new ImapError("BAD", null, "SORT needs sort criteria");
  reader.sp();
  let saving = false;
  try {
    const request = readReturnRequest(reader, "SORT");
    if (request !== null) reader.sp();
    saving = request?.options.includes("SAVE") ?? false;
    const update = request?.options.includes("UPDATE") ?? false;
    const criteria = readSortCriteria(reader);
    reader.sp();
    const { matches, modseq, test, unannounced } = readAndSearch(session, reader);
    if (update && selection.liveResults?.has(tag)) {
      throw new ImapError("BAD", null, "Duplicate search update tag");
    }
    const sorted = sortMatches(session, matches, criteria);
    const numbers = sorted.map((c) => byUid ? c.uid : c.seq);
    // RFC 5267 3: `RETURN ()` is `RETURN (ALL)`.
    const wanted: ReturnRequest | null = request?.options.length === 0
      ? { options: ["ALL"], partial: null }
      : request;
    const returned = wanted === null ? [] : returnedPositions(numbers, wanted, true);
    if (saving) selection.savedSearch = returned.map((i) => sorted[i].uid).sort((a, b) => a - b);
    if (update) {
      const entries = sorted.map((c) => entryOf(session, c, criteria));
      const lookup = (uid: number) => {
        const meta = session.ctx.store.getMessage(session.user, selection.tracker.mailbox, uid);
        return meta && entryOf(session, { ...meta, seq: 0 }, criteria);
      };
      const live = new KeptSort(tag, byUid, entries, test, criteria, lookup);
      keepUpdated(session, selection, live, unannounced);
    }
    const highest = (list: readonly SearchCandidate[]) =>
      list.reduce((max, c) => Math.max(max, c.modseq), 0);
    if (wanted === null) {
      const tail = modseq && sorted.length > 0 ? ` (MODSEQ ${highest(sorted)})` : "";
      session.out.push(untagged(`SORT${numbers.map((n) => ` ${n}`).join("")}${tail}`));
      return;
    }
    // RFC 5182 2.1: SAVE alone answers with no ESEARCH.
    if (wanted.options.every((option) => option === "SAVE")) return;
    let line = `ESEARCH (TAG ${quoted(tag)})${byUid ? " UID" : ""}`;
    line += esearchData(numbers, wanted, true);
    if (modseq && sorted.length > 0) {
      line += ` MODSEQ ${highest(returned.map((i) => sorted[i]))}`;
    }
    session.out.push(untagged(line));
  } catch (error) {
    // RFC 5182 2.1: a failed command with SAVE leaves `$` empty.
    if (saving) selection.savedSearch = [];
    throw error;
  }
}

/** A message's sort keys, for a kept SORT result. */
function entryOf(
  session: AuthedSession,
  c: { uid: number; seq: number; internalDate: number; size: number },
  criteria: readonly SortCriterion[],
): SortEntry {
  const item = { seq: c.seq, uid: c.uid, internalDate: c.internalDate, size: c.size };
  return {
    item,
    fields: needsFields(criteria) ? sortFields(indexOf(session, c.uid)) : null,
  };
}

/**
 * The matches in sort order: the mailbox's whole order, kept per server (sort_cache.ts),
 * restricted to the matches. Ties go by UID there, which is sequence order.
 */
function sortMatches(
  session: AuthedSession,
  matches: readonly SearchCandidate[],
  criteria: readonly SortCriterion[],
): SearchCandidate[] {
  const orders = session.ctx.shared.sortOrders;
  const mailbox = selectionOf(session).tracker.mailbox;
  const all = session.ctx.store.listMessages(session.user, mailbox);
  // A search that keeps few messages sorts just those: keys for the whole mailbox would
  // cost more than this SORT saves later.
  if (orders === undefined || matches.length * 4 < all.length) {
    return sortItems(matches, criteria, (c) => sortFields(indexOf(session, c.uid)));
  }
  const uids = all.map((meta) => meta.uid);
  const text = criteria.map(({ key, reverse }) => reverse ? `-${key}` : key).join(" ");
  const order = orders.get(session.user, mailbox, `sort ${text}`, uids, () => {
    // Positions in UID order stand in for sequence numbers.
    const items = all.map((meta, i) => ({ ...meta, seq: i + 1 }));
    return sortItems(items, criteria, (m) => sortFields(indexOf(session, m.uid)))
      .map((m) => m.uid);
  });
  const byUid = new Map(matches.map((c) => [c.uid, c]));
  const sorted: SearchCandidate[] = [];
  for (const uid of order) {
    const match = byUid.get(uid);
    if (match !== undefined) sorted.push(match);
  }
  return sorted;
}

function thread(session: AuthedSession, reader: Reader, byUid: boolean): void {
  if (reader.atEnd()) throw new ImapError("BAD", null, "THREAD needs an algorithm");
  reader.sp();
  const name = reader.readAtom().toUpperCase();
  if (!(ALGORITHMS as readonly string[]).includes(name)) {
    throw reader.error(`Unknown THREAD algorithm: ${name} (supported: ${ALGORITHMS.join(" ")})`);
  }
  reader.sp();
  const { matches } = readAndSearch(session, reader);
  // Threads are made of UIDs, so one result serves both forms and every session; it is
  // kept per server for this set of messages.
  const make = () =>
    threadBy(
      name as Algorithm,
      matches.map((c) => {
        const fields = threadFields(indexOf(session, c.uid));
        return {
          id: c.uid,
          seq: c.seq,
          date: fields.date ?? c.internalDate,
          subject: fields.subject,
          replyOrForward: fields.replyOrForward,
          messageId: fields.messageId,
          references: fields.references,
        };
      }),
    );
  const orders = session.ctx.shared.sortOrders;
  const mailbox = selectionOf(session).tracker.mailbox;
  const uids = matches.map((c) => c.uid);
  const threads = orders?.get(session.user, mailbox, `thread ${name}`, uids, make) ?? make();
  const seqOf = new Map(matches.map((c) => [c.uid, c.seq]));
  const text = formatThreads(threads, byUid ? undefined : (uid) => seqOf.get(uid)!);
  session.out.push(untagged(threads.length > 0 ? `THREAD ${text}` : "THREAD"));
}

function threadBy(algorithm: Algorithm, messages: ThreadMessage[]): ThreadNode[] {
  switch (algorithm) {
    case "ORDEREDSUBJECT":
      return orderedSubject(messages);
    case "REFERENCES":
      return referencesThreads(messages);
    case "REFS":
      return referencesThreads(messages, true);
  }
}

const CAPABILITIES = [
  "SORT",
  "SORT=DISPLAY",
  ...ALGORITHMS.map((algorithm) => `THREAD=${algorithm}`),
];

export const SORT_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["SORT", {
    states: SELECTED,
    allowExpunge: false,
    capabilities: CAPABILITIES,
    run: (session, reader, tag) => sort(session, reader, tag, false),
  }],
  ["UID SORT", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader, tag) => sort(session, reader, tag, true),
  }],
  ["THREAD", {
    states: SELECTED,
    allowExpunge: false,
    run: (session, reader) => thread(session, reader, false),
  }],
  ["UID THREAD", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => thread(session, reader, true),
  }],
];
