/**
 * Selecting a mailbox, and leaving it.
 *
 * ```abnf
 * select   = "SELECT" SP mailbox                       ; RFC 9051 6.3.2
 * examine  = "EXAMINE" SP mailbox                      ; RFC 9051 6.3.3
 * close    = "CLOSE"                                   ; RFC 9051 6.4.1
 * unselect = "UNSELECT"                                ; RFC 9051 6.4.2 (RFC 3691)
 * ```
 *
 * @module
 */

import { UID_VALIDITY } from "../../store/types.ts";
import {
  AUTHED,
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  SELECTED,
  type Selection,
} from "../context.ts";
import { untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { writeExists, writeFlags, writeListLine, writeRecent } from "../responses.ts";
import { MailboxTracker } from "../tracker.ts";
import { claimRecent } from "../updates.ts";
import { readMailboxArgument, requireMailbox } from "./mailbox.ts";
import { selectionOf } from "./targets.ts";

function select(session: AuthedSession, reader: Reader, readOnly: boolean): CommandResult {
  const name = readMailboxArgument(session, reader);
  const { store } = session.ctx;
  if (session.selection) {
    session.selection = null;
    session.state = "authenticated";
    session.out.push(untagged("OK [CLOSED] Previous mailbox is now closed"));
  }
  requireMailbox(session, name);
  const view = store.selectView(session.user, name);
  const { info } = view;
  const selection: Selection = {
    tracker: new MailboxTracker(session.user, info.name, view.uids, view.keywords),
    readOnly,
    recent: new Set(),
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
  writeFlags(out, selection.tracker.keywords, readOnly);
  // RFC 9051 6.3.2: an IMAP4rev2 client also gets the mailbox's LIST response.
  if (session.rev2) writeListLine(out, "LIST", [], info.name, true);
  session.selection = selection;
  session.state = "selected";
  return {
    code: readOnly ? "READ-ONLY" : "READ-WRITE",
    text: `${readOnly ? "EXAMINE" : "SELECT"} completed`,
  };
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
