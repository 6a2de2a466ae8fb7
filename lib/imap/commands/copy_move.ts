/**
 * COPY and MOVE, by sequence number and by UID.
 *
 * ```abnf
 * copy     = "COPY" SP sequence-set SP mailbox        ; RFC 9051 6.4.7, UIDPLUS COPYUID
 * move     = "MOVE" SP sequence-set SP mailbox        ; RFC 9051 6.4.8 (RFC 6851)
 * uid-copy = "UID" SP copy                            ; RFC 9051 6.4.9
 * uid-move = "UID" SP move
 * ```
 * A missing target is `NO [TRYCREATE]`, one no CREATE could make `NO [CANNOT]`. MOVE into the
 * selected mailbox itself is allowed (RFC 6851 does not forbid it): the messages get new UIDs
 * and keep their flags, and the session hears `* OK [COPYUID ...]`, the EXPUNGEs and the new
 * EXISTS, in that order (as Dovecot answers).
 *
 * @module
 */

import {
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  SELECTED,
} from "../context.ts";
import { untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { formatSequenceSet } from "../sequence.ts";
import { sendUpdates } from "../updates.ts";
import { targetMailbox, validName } from "./mailbox.ts";
import { resolveTargets, selectionOf, writableSelection } from "./targets.ts";

function copyOrMove(
  session: AuthedSession,
  reader: Reader,
  byUid: boolean,
  move: boolean,
): CommandResult {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const argument = reader.readMailboxName(session.utf8);
  reader.end();
  const target = validName(argument, "NONEXISTENT");
  const selection = move ? writableSelection(session, "MOVE") : selectionOf(session);
  const { store } = session.ctx;
  const user = session.user;
  const destination = targetMailbox(session, target);
  const targets = resolveTargets(session, set, byUid);
  if (targets.length === 0) return { text: move ? "No messages moved" : "No messages copied" };
  const uids = targets.map((t) => t.uid);
  const mapping = move
    ? store.moveMessages(user, selection.tracker.mailbox, uids, destination.name)
    : store.copyMessages(user, selection.tracker.mailbox, uids, destination.name);
  const copyUid = mapping.sourceUids.length > 0
    ? `COPYUID ${mapping.uidValidity} ${formatSequenceSet(mapping.sourceUids)} ${
      formatSequenceSet(mapping.destinationUids)
    }`
    : null;
  if (!move) return { code: copyUid, text: "COPY completed" };
  // RFC 6851 4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
  if (copyUid) session.out.push(untagged(`OK [${copyUid}] Moved`));
  sendUpdates(session, true);
  return { text: "MOVE completed" };
}

export const COPY_MOVE_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["COPY", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => copyOrMove(session, reader, false, false),
  }],
  ["UID COPY", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => copyOrMove(session, reader, true, false),
  }],
  ["MOVE", {
    states: SELECTED,
    allowExpunge: true,
    capabilities: ["MOVE"],
    run: (session, reader) => copyOrMove(session, reader, false, true),
  }],
  ["UID MOVE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => copyOrMove(session, reader, true, true),
  }],
];
