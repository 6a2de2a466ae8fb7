/**
 * SEARCH and UID SEARCH, with ESEARCH results and the saved result `$`.
 *
 * ```abnf
 * search          = "SEARCH" [search-return-opts] SP search-program   ; RFC 9051 6.4.4
 * uid-search      = "UID" SP search                                   ; RFC 9051 6.4.9
 * search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
 * search-return-opt  = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"       ; RFC 4731, RFC 5182
 * esearch-response   = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 * search-correlator  = SP "(" "TAG" SP tag-string ")"                 ; RFC 9051 7.3.4
 * mailbox-data       =/ "SEARCH" *(SP nz-number)                      ; RFC 3501 7.2.5
 * mailbox-data       =/ "SEARCH" [1*(SP nz-number) SP search-sort-mod-seq]    ; RFC 7162 7
 * search-sort-mod-seq = "(" "MODSEQ" SP mod-sequence-value ")"
 * search-return-data =/ "MODSEQ" SP mod-sequence-value                ; RFC 7162 3.1.5
 * ```
 * A program with the MODSEQ key enables CONDSTORE and its result carries the highest MODSEQ
 * of the messages it returns: `(MODSEQ n)` after `* SEARCH`'s numbers, `MODSEQ n` last in
 * ESEARCH (of the MIN/MAX messages when only those are returned); none when nothing matched.
 * Result forms: an IMAP4rev1 session gets `* SEARCH n…` unless it asks for RETURN options;
 * once IMAP4rev2 is enabled every result is an ESEARCH response (RFC 9051 6.4.4), and
 * `RETURN ()` means `RETURN (ALL)`. `RETURN (SAVE)` alone sends no ESEARCH (RFC 5182 2.1).
 *
 * SEARCH never lets EXPUNGE responses through, so the sequence numbers it returns stay valid
 * (RFC 9051 7.5.1); UID SEARCH may, like UID FETCH. Messages expunged by another session
 * but not yet reported are not matched.
 *
 * A sequence number past the last message is not an error here, unlike in FETCH, STORE and
 * COPY: as a search key it names no message and matches nothing (`SEARCH 1000` in a mailbox
 * of 6 is an empty result, as Dovecot answers). A range reaching past the end, or one
 * ending in `*`, covers the messages that exist (RFC 9051 9: `*` is the last one, so
 * `1000:*` is `6:1000`).
 *
 * @module
 */

import type { MessageMeta } from "../../store/types.ts";
import { MessageIndex } from "../../mail/message_index.ts";
import { searchAddresses, searchHeaders, searchText } from "../../mail/search_text.ts";
import {
  type AuthedCommandSpec,
  type AuthedSession,
  ImapError,
  SELECTED,
  type Selection,
} from "../context.ts";
import { quoted, responseCode, untagged } from "../encoder.ts";
import { InvalidUtf8Error } from "../parse_error.ts";
import { enableCondstore } from "../condstore.ts";
import { readSearchProgram, type SearchKey, usesModseq } from "../parse_search.ts";
import type { Reader } from "../parser.ts";
import { compileSearch, type SearchCandidate, type SearchEnvironment } from "../search.ts";
import { formatSequenceSet } from "../sequence.ts";
import { savedUids, selectionOf } from "./targets.ts";

/** Charsets SEARCH accepts (RFC 9051 6.4.4: US-ASCII and UTF-8 are required). */
const CHARSETS = ["UTF-8", "US-ASCII"];
const EMPTY = new Uint8Array(0);

function search(session: AuthedSession, reader: Reader, tag: string, byUid: boolean): void {
  const selection = selectionOf(session);
  let saving = false;
  try {
    if (reader.atEnd()) throw new ImapError("BAD", null, "SEARCH needs search criteria");
    reader.sp();
    const program = readSearchProgram(reader, ({ charset, returnOptions }) => {
      saving = returnOptions?.includes("SAVE") ?? false;
      if (charset !== null && !CHARSETS.includes(charset)) {
        throw badCharset(`Cannot search in charset ${charset}; use UTF-8 or US-ASCII`);
      }
    });
    const modseq = usesModseq(program.key);
    if (modseq) enableCondstore(session);
    const matches = evaluate(session, selection, program.key);
    const options = program.returnOptions;
    if (options?.includes("SAVE")) selection.savedSearch = savedResult(matches, options);
    respond(session, tag, byUid, matches, options, modseq);
  } catch (error) {
    // RFC 5182 2.1: a failed SEARCH with SAVE leaves `$` empty.
    if (saving) selection.savedSearch = [];
    // A search string in another charset than the one announced (Jakarta Mail sends Latin-1
    // once UTF8=ACCEPT is enabled) is a charset problem the client can recover from: with
    // NO [BADCHARSET] it searches on its side, where BAD would fail the search.
    if (error instanceof InvalidUtf8Error) {
      throw badCharset("Search string is not valid UTF-8; send UTF-8 or US-ASCII");
    }
    throw error;
  }
}

function badCharset(text: string): ImapError {
  return new ImapError("NO", responseCode("BADCHARSET", `(${CHARSETS.join(" ")})`), text);
}

/** The messages of the session's view that match, in sequence order. */
function evaluate(
  session: AuthedSession,
  selection: Selection,
  key: SearchKey,
): SearchCandidate[] {
  const { store } = session.ctx;
  const user = session.user;
  const { tracker } = selection;
  const mailbox = tracker.mailbox;
  const index = (c: SearchCandidate) =>
    store.getIndex(user, mailbox, c.uid) ?? new MessageIndex(EMPTY);
  const env: SearchEnvironment = {
    messageCount: tracker.count,
    maxUid: tracker.maxUid,
    saved: savedUids(selection),
    isRecent: session.rev2 ? () => false : (c) => selection.recent.has(c.uid),
    headers: (c) => searchHeaders(index(c)),
    addresses: (c) => searchAddresses(index(c)),
    text: (c) => searchText(index(c), () => store.getRaw(user, mailbox, c.uid) ?? EMPTY),
    emailId: (c) => store.getMessage(user, mailbox, c.uid)?.emailId ?? "",
  };
  const matches = compileSearch(key, env);
  const found: SearchCandidate[] = [];
  // Both lists ascend by UID: walk them together. Messages the session has not heard of
  // yet, and expunged ones it still numbers, are left out.
  const uids = tracker.uids();
  const messages = store.listMessages(user, mailbox);
  let next = 0;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i];
    while (next < messages.length && messages[next].uid < uid) next++;
    if (next >= messages.length) break;
    if (messages[next].uid !== uid) continue;
    const candidate = toCandidate(i + 1, messages[next]);
    if (matches(candidate)) found.push(candidate);
  }
  return found;
}

function toCandidate(seq: number, meta: MessageMeta): SearchCandidate {
  return {
    seq,
    uid: meta.uid,
    flags: meta.flags,
    internalDate: meta.internalDate,
    size: meta.size,
    modseq: meta.modseq,
  };
}

/**
 * What SAVE keeps (RFC 5182 2.1): with MIN and/or MAX but neither ALL nor COUNT, just those
 * messages; otherwise every match. Always UIDs.
 */
function savedResult(matches: SearchCandidate[], options: readonly string[]): number[] {
  const uids = matches.map((c) => c.uid);
  const extremes = (options.includes("MIN") || options.includes("MAX")) &&
    !options.includes("ALL") && !options.includes("COUNT");
  if (!extremes || uids.length === 0) return uids;
  const kept = new Set<number>();
  if (options.includes("MIN")) kept.add(uids[0]);
  if (options.includes("MAX")) kept.add(uids[uids.length - 1]);
  return [...kept].sort((a, b) => a - b);
}

function respond(
  session: AuthedSession,
  tag: string,
  byUid: boolean,
  matches: SearchCandidate[],
  options: readonly string[] | null,
  withModseq: boolean,
): void {
  const numbers = matches.map((c) => byUid ? c.uid : c.seq);
  const highest = (list: readonly SearchCandidate[]) =>
    list.reduce((max, c) => Math.max(max, c.modseq), 0);
  if (options === null && !session.rev2) {
    const tail = withModseq && matches.length > 0 ? ` (MODSEQ ${highest(matches)})` : "";
    session.out.push(untagged(`SEARCH${numbers.map((n) => ` ${n}`).join("")}${tail}`));
    return;
  }
  const wanted = options === null || options.length === 0 ? ["ALL"] : options;
  if (wanted.every((option) => option === "SAVE")) return;
  let line = `ESEARCH (TAG ${quoted(tag)})${byUid ? " UID" : ""}`;
  if (numbers.length > 0) {
    if (wanted.includes("MIN")) line += ` MIN ${numbers[0]}`;
    if (wanted.includes("MAX")) line += ` MAX ${numbers[numbers.length - 1]}`;
    if (wanted.includes("ALL")) line += ` ALL ${formatSequenceSet(numbers)}`;
  }
  if (wanted.includes("COUNT")) line += ` COUNT ${numbers.length}`;
  if (withModseq && matches.length > 0) {
    const extremesOnly = !wanted.includes("ALL") && !wanted.includes("COUNT");
    const returned = extremesOnly
      ? [
        ...(wanted.includes("MIN") ? [matches[0]] : []),
        ...(wanted.includes("MAX") ? [matches[matches.length - 1]] : []),
      ]
      : matches;
    line += ` MODSEQ ${highest(returned)}`;
  }
  session.out.push(untagged(line));
}

export const SEARCH_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["SEARCH", {
    states: SELECTED,
    allowExpunge: false,
    run: (session, reader, tag) => search(session, reader, tag, false),
  }],
  ["UID SEARCH", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader, tag) => search(session, reader, tag, true),
  }],
];
