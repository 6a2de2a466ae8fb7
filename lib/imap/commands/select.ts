/**
 * Selecting a mailbox, and leaving it.
 *
 * ```abnf
 * select   = "SELECT" SP mailbox [select-params]       ; RFC 9051 6.3.2, RFC 7162 7
 * examine  = "EXAMINE" SP mailbox [select-params]      ; RFC 9051 6.3.3, RFC 7162 7
 * select-params = SP "(" select-param *(SP select-param) ")"          ; RFC 4466 2.1
 * select-param  = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
 *                 [SP known-uids] [SP seq-match-data] ")"              ; RFC 7162 3.1.8, 3.2.5
 * known-uids    = sequence-set
 * seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 * close    = "CLOSE"                                   ; RFC 9051 6.4.1
 * unselect = "UNSELECT"                                ; RFC 9051 6.4.2 (RFC 3691)
 * ```
 * With QRESYNC (RFC 7162 3.2.5), when the UIDVALIDITY matches, the response also carries
 * `* VANISHED (EARLIER)` for the known UIDs expunged since the client's MODSEQ and the FETCH
 * (UID FLAGS MODSEQ) of the known messages changed since then, found through the store's
 * modseq index (they cost the changes, not the mailbox). OBJECTID (RFC 8474 4.1): the response
 * carries `* OK [MAILBOXID (id)]`. The seq-match-data is checked and
 * not needed: the store remembers every expunge of a mailbox.
 *
 * @module
 */

import {
  type SelectView,
  StoreError,
  type StoreErrorKind,
  UID_VALIDITY,
} from "../../store/types.ts";
import { intersectRanges } from "../condstore.ts";
import { readModSequence } from "../parse_modseq.ts";
import {
  AUTHED,
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  ImapError,
  SELECTED,
  type Selection,
} from "../context.ts";
import { untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import {
  writeExists,
  writeFetchFlags,
  writeFlags,
  writeHighestModseq,
  writeListLine,
  writeRecent,
  writeVanished,
} from "../responses.ts";
import { resolveSequenceSet, sequenceRanges, type SequenceSet } from "../sequence.ts";
import { RecentUids } from "../recent.ts";
import { MailboxTracker } from "../tracker.ts";
import { claimRecent, sessionFlagList } from "../updates.ts";
import { requireMailbox, validName } from "./mailbox.ts";
import { selectionOf } from "./targets.ts";

/** The QRESYNC select parameter (RFC 7162 3.2.5). */
interface QresyncParam {
  readonly uidValidity: number;
  readonly modseq: number;
  readonly knownUids: SequenceSet | null;
}

/** What SELECT/EXAMINE's parameters ask for. */
interface SelectParams {
  condstore: boolean;
  qresync: QresyncParam | null;
}

function readSelectParams(reader: Reader): SelectParams {
  const params: SelectParams = { condstore: false, qresync: null };
  if (!reader.maybeSp()) return params;
  reader.expect("(");
  do {
    if (reader.tryKeyword("CONDSTORE")) params.condstore = true;
    else if (reader.tryKeyword("QRESYNC")) params.qresync = readQresync(reader);
    else throw reader.error(`Unknown SELECT parameter: ${reader.peekWord()}`);
  } while (reader.maybeSp());
  reader.expect(")");
  return params;
}

function readQresync(reader: Reader): QresyncParam {
  reader.sp();
  reader.expect("(");
  const uidValidity = reader.readNzNumber();
  reader.sp();
  const modseq = readModSequence(reader, false);
  let knownUids: SequenceSet | null = null;
  if (reader.maybeSp() && reader.peek() !== "(") {
    knownUids = reader.readSequenceSet();
    if (knownUids === "$") throw reader.error("known-uids cannot be $");
    reader.maybeSp();
  }
  if (reader.peek() === "(") {
    // seq-match-data: two sets of the same size (RFC 7162 3.2.5.2).
    reader.expect("(");
    const seqs = reader.readSequenceSet();
    reader.sp();
    const uids = reader.readSequenceSet();
    reader.expect(")");
    if (seqs === "$" || uids === "$" || setSize(seqs) !== setSize(uids)) {
      throw reader.error("seq-match-data must pair sequence numbers with as many UIDs");
    }
  }
  reader.expect(")");
  return { uidValidity, modseq, knownUids };
}

/** How many numbers a set without `*` names (null with `*`). */
function setSize(set: Exclude<SequenceSet, "$">): number | null {
  let size = 0;
  for (const { start, end } of set) {
    if (start === "*" || end === "*") return null;
    size += Math.abs(end - start) + 1;
  }
  return size;
}

function select(session: AuthedSession, reader: Reader, readOnly: boolean): CommandResult {
  reader.sp();
  const argument = reader.readMailboxName(session.utf8);
  const params = readSelectParams(reader);
  reader.end();
  if (params.qresync && !session.qresync) {
    throw new ImapError("BAD", null, "QRESYNC is not enabled (ENABLE QRESYNC first)");
  }
  const name = validName(argument, "NONEXISTENT");
  if (session.selection) {
    session.selection = null;
    session.state = "authenticated";
    session.out.push(untagged("OK [CLOSED] Previous mailbox is now closed"));
  }
  const view = selectView(session, name);
  const { info } = view;
  const selection: Selection = {
    tracker: new MailboxTracker(session.user, info.name, view.uids, view.keywords),
    readOnly,
    recent: new RecentUids(),
  };
  const firstUnseen = view.firstUnseenUid === 0 ? 0 : selection.tracker.seqOf(view.firstUnseenUid);
  const out = session.out;
  writeExists(out, view.uids.length);
  if (!session.rev2) {
    claimRecent(session, selection, 0);
    writeRecent(out, selection.recent.size);
    if (firstUnseen > 0) out.push(untagged(`OK [UNSEEN ${firstUnseen}] First unseen message`));
  }
  out.push(untagged(`OK [UIDVALIDITY ${UID_VALIDITY}] UIDs valid`));
  out.push(untagged(`OK [UIDNEXT ${info.uidNext}] Predicted next UID`));
  // RFC 7162 3.1.2.1, as Dovecot: only to a client that has enabled CONDSTORE.
  if (params.condstore) session.condstore = true;
  if (session.condstore) writeHighestModseq(out, info.highestModseq);
  // RFC 8474 4.1: the mailbox's MAILBOXID, in the response code form of its example.
  out.push(untagged(`OK [MAILBOXID (${info.mailboxId})] Ok`));
  writeFlags(out, selection.tracker.keywords, readOnly);
  // RFC 9051 6.3.2: an IMAP4rev2 client also gets the mailbox's LIST response.
  if (session.rev2) writeListLine(out, "LIST", [], info.name, true);
  session.selection = selection;
  session.state = "selected";
  if (params.qresync?.uidValidity === info.uidValidity) resync(session, params.qresync);
  return {
    code: readOnly ? "READ-ONLY" : "READ-WRITE",
    text: `${readOnly ? "EXAMINE" : "SELECT"} completed`,
  };
}

/**
 * The store's SELECT view of the mailbox, or `NO [NONEXISTENT]` as {@linkcode requireMailbox}
 * says it: one lookup of the mailbox, where a check before the view made two (and a
 * `MailboxInfo` more) in the first command after a burst, whose every step is cold.
 */
function selectView(session: AuthedSession, name: string): SelectView {
  try {
    return session.ctx.store.selectView(session.user, name);
  } catch (error) {
    if (error instanceof StoreError && MISSING.has(error.kind)) requireMailbox(session, name);
    throw error;
  }
}

const MISSING: ReadonlySet<StoreErrorKind> = new Set(["no-such-mailbox", "no-such-user"]);

/**
 * RFC 7162 3.2.5.1: what changed since the client's MODSEQ, among the UIDs it knows (all
 * when it names none): the expunged ones as `VANISHED (EARLIER)`, then the changed ones'
 * FETCH (UID FLAGS MODSEQ).
 */
function resync(session: AuthedSession, param: QresyncParam): void {
  const { store } = session.ctx;
  const tracker = selectionOf(session).tracker;
  const info = store.getMailbox(session.user, tracker.mailbox)!;
  const lastUid = info.uidNext - 1;
  const known = param.knownUids === null
    ? [[1, lastUid] as [number, number]]
    : sequenceRanges(param.knownUids, lastUid);
  const vanished = store.vanishedSince(session.user, tracker.mailbox, param.modseq);
  writeVanished(session.out, intersectRanges(vanished, known), true);
  const inKnown = param.knownUids === null
    ? () => true
    : resolveSequenceSet(param.knownUids, lastUid);
  for (const uid of store.changedSince(session.user, tracker.mailbox, param.modseq)) {
    const meta = store.getMessage(session.user, tracker.mailbox, uid);
    const seq = tracker.seqOf(uid);
    if (!meta || seq === 0 || !inKnown(uid)) continue;
    writeFetchFlags(session.out, seq, uid, sessionFlagList(session, uid, meta.flags), meta.modseq);
  }
}

export const SELECT_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["SELECT", {
    states: AUTHED,
    allowExpunge: true,
    run: (session, reader) => select(session, reader, false),
  }],
  ["EXAMINE", {
    states: AUTHED,
    allowExpunge: true,
    run: (session, reader) => select(session, reader, true),
  }],
  ["CLOSE", {
    states: SELECTED,
    allowExpunge: true,
    run(session, reader) {
      reader.end();
      const selection = selectionOf(session);
      session.selection = null;
      session.state = "authenticated";
      // RFC 9051 6.4.1: expunge silently, unless the mailbox was EXAMINEd.
      if (!selection.readOnly) session.ctx.store.expunge(session.user, selection.tracker.mailbox);
    },
  }],
  ["UNSELECT", {
    states: SELECTED,
    allowExpunge: true,
    capabilities: ["UNSELECT"],
    run(session, reader) {
      reader.end();
      session.selection = null;
      session.state = "authenticated";
    },
  }],
];
