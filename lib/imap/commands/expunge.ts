/**
 * EXPUNGE and UID EXPUNGE.
 *
 * ```abnf
 * expunge     = "EXPUNGE"                              ; RFC 9051 6.4.3
 * uid-expunge = "UID" SP "EXPUNGE" SP sequence-set     ; RFC 9051 6.4.9 (UIDPLUS)
 * ```
 * The EXPUNGE responses are the session's updates, sent after the command (VANISHED with
 * QRESYNC, whose tagged OK also carries the new HIGHESTMODSEQ, RFC 7162 3.2.10, as Dovecot).
 *
 * @module
 */

import { selectedHighestModseq } from "../condstore.ts";
import {
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  SELECTED,
} from "../context.ts";
import type { Reader } from "../parser.ts";
import { resolveTargets, writableSelection } from "./targets.ts";

function expunge(session: AuthedSession, reader: Reader, byUid: boolean): CommandResult {
  let uids: number[] | undefined;
  if (byUid) {
    reader.sp();
    const set = reader.readSequenceSet();
    uids = resolveTargets(session, set, true).map((t) => t.uid);
  }
  reader.end();
  const selection = writableSelection(session, "EXPUNGE");
  if (!uids || uids.length > 0) {
    session.ctx.store.expunge(session.user, selection.tracker.mailbox, uids);
  }
  if (!session.qresync) return {};
  return { code: `HIGHESTMODSEQ ${selectedHighestModseq(session)}` };
}

export const EXPUNGE_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["EXPUNGE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => expunge(session, reader, false),
  }],
  ["UID EXPUNGE", {
    states: SELECTED,
    allowExpunge: true,
    // UIDPLUS (RFC 4315) also brings APPENDUID and COPYUID, which APPEND, COPY and MOVE send.
    capabilities: ["UIDPLUS"],
    run: (session, reader) => expunge(session, reader, true),
  }],
];
