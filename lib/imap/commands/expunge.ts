/**
 * EXPUNGE and UID EXPUNGE.
 *
 * ```abnf
 * expunge     = "EXPUNGE"                              ; RFC 9051 6.4.3
 * uid-expunge = "UID" SP "EXPUNGE" SP sequence-set     ; RFC 9051 6.4.9 (UIDPLUS)
 * ```
 * The EXPUNGE responses are the session's updates, sent after the command.
 *
 * @module
 */

import { type AuthedCommandSpec, type AuthedSession, SELECTED } from "../context.ts";
import type { Reader } from "../parser.ts";
import { resolveTargets, writableSelection } from "./targets.ts";

function expunge(session: AuthedSession, reader: Reader, byUid: boolean): void {
  let uids: number[] | undefined;
  if (byUid) {
    reader.sp();
    const set = reader.readSequenceSet();
    uids = resolveTargets(session, set, true).map((t) => t.uid);
  }
  reader.end();
  const selection = writableSelection(session, "EXPUNGE");
  if (uids && uids.length === 0) return;
  session.ctx.store.expunge(session.user, selection.tracker.mailbox, uids);
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
