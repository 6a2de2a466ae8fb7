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
 * cancelupdate    = "CANCELUPDATE" 1*(SP quoted)                      ; RFC 5267 4.2
 * resp-text-code  =/ "NOUPDATE" SP quoted                             ; RFC 5267 4.2
 * ```
 * The RETURN options (also PARTIAL, RFC 9394, and UPDATE) are evaluated in
 * search_return.ts, the kept results (CONTEXT=SEARCH, RFC 5267) updated in
 * search_updates.ts. CANCELUPDATE with a tag that keeps no result is `NO`, and then cancels
 * none of the tags it names (Dovecot: "Unknown tag").
 * A program with the MODSEQ key enables CONDSTORE and its result carries the highest MODSEQ
 * of the messages it returns: `(MODSEQ n)` after `* SEARCH`'s numbers, `MODSEQ n` last in
 * ESEARCH (of the MIN/MAX messages when only those are returned); none when nothing matched.
 * Result forms: an IMAP4rev1 session gets `* SEARCH n...` unless it asks for RETURN options;
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
import { esearchData, returnedPositions, type ReturnRequest } from "../search_return.ts";
import { type LiveResult, LiveResults, MAX_LIVE_RESULTS } from "../search_updates.ts";
import { savedUids, selectionOf } from "./targets.ts";

/** Charsets SEARCH accepts (RFC 9051 6.4.4: US-ASCII and UTF-8 are required). */
export const CHARSETS: readonly string[] = ["UTF-8", "US-ASCII"];
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
    const request: ReturnRequest | null = program.returnOptions === null
      ? null
      : { options: program.returnOptions, partial: program.partial };
    const update = request?.options.includes("UPDATE") ?? false;
    if (update && selection.liveResults?.has(tag)) {
      throw new ImapError("BAD", null, "Duplicate search update tag");
    }
    const modseq = usesModseq(program.key);
    if (modseq) enableCondstore(session);
    const { found, test, unannounced } = evaluate(session, selection, program.key);
    if (request?.options.includes("SAVE")) selection.savedSearch = savedResult(found, request);
    if (update) {
      const uids = new Set(found.map((c) => c.uid));
      keepUpdated(session, selection, { tag, byUid, uids, matches: test }, unannounced);
    }
    respond(session, tag, byUid, found, request, modseq);
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

/** `NO [BADCHARSET (UTF-8 US-ASCII)]`, for SEARCH, SORT and THREAD. */
export function badCharset(text: string): ImapError {
  return new ImapError("NO", responseCode("BADCHARSET", `(${CHARSETS.join(" ")})`), text);
}

/**
 * Registers a result to keep up to date (RFC 5267 4; SORT's too), or says it cannot with
 * `* NO [NOUPDATE "tag"]` (RFC 5267 4.2) past the limit; the command is answered either way.
 * `unannounced`: messages in the mailbox the session has not been told of yet.
 */
export function keepUpdated(
  session: AuthedSession,
  selection: Selection,
  result: LiveResult,
  unannounced: readonly number[],
): void {
  const live = selection.liveResults ??= new LiveResults();
  if (!live.add(result, unannounced)) {
    const code = responseCode("NOUPDATE", quoted(result.tag));
    const text = `Too many search results kept up to date (limit ${MAX_LIVE_RESULTS})`;
    session.out.push(untagged(`NO [${code}] ${text}`));
  }
}

/**
 * The messages of the session's view that match, in sequence order (also for SORT and
 * THREAD); and a test of one message by UID (as it is now) for the updates of a kept result.
 */
export function evaluate(
  session: AuthedSession,
  selection: Selection,
  key: SearchKey,
): { found: SearchCandidate[]; test: (uid: number) => boolean; unannounced: number[] } {
  const { store } = session.ctx;
  const user = session.user;
  const { tracker } = selection;
  // The mailbox is read at each call: a kept result outlives a rename of it. The index is
  // kept while one candidate is tested (each is a new object): an address key reads its
  // header fields and its address forms, and a program of several keys more, each a store
  // lookup of its own before.
  let lastCandidate: SearchCandidate | null = null;
  let lastIndex = new MessageIndex(EMPTY);
  const index = (c: SearchCandidate) => {
    if (c !== lastCandidate) {
      lastIndex = store.getIndex(user, tracker.mailbox, c.uid) ?? new MessageIndex(EMPTY);
      lastCandidate = c;
    }
    return lastIndex;
  };
  // A store whose bytes are made for each read (SQLite) frees a candidate's once it is tested
  // (a text search holds them only while it runs): a first SEARCH TEXT of 5,000 messages
  // otherwise faulted in fresh pages for each (see `releaseRaw`).
  const release = store.kind === "sqlite" && store.releaseRaw
    ? (bytes: Uint8Array) => store.releaseRaw!(bytes)
    : null;
  let read: Uint8Array | null = null;
  const raw = (uid: number) => {
    const bytes = store.getRaw(user, tracker.mailbox, uid) ?? EMPTY;
    if (release) read = bytes;
    return bytes;
  };
  const env: SearchEnvironment = {
    messageCount: tracker.count,
    maxUid: tracker.maxUid,
    saved: savedUids(selection),
    now: store.now(),
    isRecent: session.rev2 ? () => false : (c) => selection.recent.has(c.uid),
    headers: (c) => searchHeaders(index(c)),
    addresses: (c) => searchAddresses(index(c)),
    addressFilter: (needle) =>
      session.ctx.shared.addressColumns?.filter(user, tracker.mailbox, needle) ?? null,
    text: (c) => searchText(index(c), () => raw(c.uid)),
    emailId: (c) => store.getMessage(user, tracker.mailbox, c.uid)?.emailId ?? "",
  };
  const program = compileSearch(key, env);
  const matches = release === null ? program : (c: SearchCandidate) => {
    const hit = program(c);
    if (read !== null) {
      release(read);
      read = null;
    }
    return hit;
  };
  const found: SearchCandidate[] = [];
  // Both lists ascend by UID: walk them together. Messages the session has not heard of
  // yet, and expunged ones it still numbers, are left out.
  const uids = tracker.uids();
  const messages = store.listMessages(user, tracker.mailbox);
  let next = 0;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i];
    while (next < messages.length && messages[next].uid < uid) next++;
    if (next >= messages.length) break;
    if (messages[next].uid !== uid) continue;
    const candidate = toCandidate(i + 1, messages[next]);
    if (matches(candidate)) found.push(candidate);
  }
  const test = (uid: number) => {
    const meta = store.getMessage(user, tracker.mailbox, uid);
    return meta !== undefined && matches(toCandidate(tracker.seqOf(uid), meta));
  };
  // Arrived, but not announced yet (UIDs ascend: they are above the last one known).
  const unannounced: number[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i].uid > tracker.maxUid; i--) {
    unannounced.push(messages[i].uid);
  }
  return { found, test, unannounced };
}

function toCandidate(seq: number, meta: MessageMeta): SearchCandidate {
  return {
    seq,
    uid: meta.uid,
    flags: meta.flags,
    internalDate: meta.internalDate,
    saveDate: meta.saveDate,
    size: meta.size,
    modseq: meta.modseq,
  };
}

/**
 * What SAVE keeps (RFC 5182 2.1, RFC 9394): the messages the response returns (only
 * MIN/MAX: those; PARTIAL alone: its slice), otherwise every match. Always UIDs.
 */
function savedResult(matches: SearchCandidate[], request: ReturnRequest): number[] {
  const uids = matches.map((c) => c.uid);
  return returnedPositions(uids, request).map((i) => uids[i]);
}

function respond(
  session: AuthedSession,
  tag: string,
  byUid: boolean,
  matches: SearchCandidate[],
  request: ReturnRequest | null,
  withModseq: boolean,
): void {
  const numbers = matches.map((c) => byUid ? c.uid : c.seq);
  const highest = (list: readonly SearchCandidate[]) =>
    list.reduce((max, c) => Math.max(max, c.modseq), 0);
  if (request === null && !session.rev2) {
    const tail = withModseq && matches.length > 0 ? ` (MODSEQ ${highest(matches)})` : "";
    session.out.push(untagged(`SEARCH${numbers.map((n) => ` ${n}`).join("")}${tail}`));
    return;
  }
  const wanted: ReturnRequest = request === null || request.options.length === 0
    ? { options: ["ALL"], partial: null }
    : request;
  if (wanted.options.every((option) => option === "SAVE")) return;
  let line = `ESEARCH (TAG ${quoted(tag)})${byUid ? " UID" : ""}${esearchData(numbers, wanted)}`;
  if (withModseq && matches.length > 0) {
    line += ` MODSEQ ${highest(returnedPositions(numbers, wanted).map((i) => matches[i]))}`;
  }
  session.out.push(untagged(line));
}

/** CANCELUPDATE (RFC 5267 4.2): stops the updates of the results kept under these tags. */
function cancelUpdate(session: AuthedSession, reader: Reader): void {
  const selection = selectionOf(session);
  const tags: string[] = [];
  do {
    reader.sp();
    if (reader.peek() !== '"') throw reader.error("CANCELUPDATE takes quoted tags");
    const tag = reader.readString();
    tags.push(typeof tag === "string" ? tag : new TextDecoder().decode(tag));
  } while (!reader.atEnd());
  reader.end();
  const live = selection.liveResults;
  const unknown = tags.find((tag) => !live?.has(tag));
  if (unknown !== undefined) {
    throw new ImapError("NO", null, `Unknown tag: no search result is updated for ${unknown}`);
  }
  for (const tag of tags) live!.cancel(tag);
}

export const SEARCH_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["SEARCH", {
    states: SELECTED,
    allowExpunge: false,
    // OLDER/YOUNGER, the SAVED* keys (and FETCH SAVEDATE), RETURN (PARTIAL), RETURN (UPDATE)
    // (CONTEXT=SORT: SORT's kept results share the updates and CANCELUPDATE here).
    capabilities: ["WITHIN", "SAVEDATE", "PARTIAL", "CONTEXT=SEARCH", "CONTEXT=SORT"],
    run: (session, reader, tag) => search(session, reader, tag, false),
  }],
  ["UID SEARCH", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader, tag) => search(session, reader, tag, true),
  }],
  ["CANCELUPDATE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => cancelUpdate(session, reader),
  }],
];
