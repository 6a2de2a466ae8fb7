/**
 * STORE and UID STORE.
 *
 * ```abnf
 * store           = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
 *                                                  ; RFC 9051 6.4.6, RFC 4466 2.5
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 * uid-store       = "UID" SP store                                    ; RFC 9051 6.4.9
 * store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"
 * store-modifier  = "UNCHANGEDSINCE" SP mod-sequence-valzer           ; RFC 7162 3.1.3
 * ```
 * Without `.SILENT` the new flags come back as `FETCH (FLAGS ...)`; a keyword new to the
 * session first gets a new `FLAGS` response (RFC 9051 7.3.5), with or without `.SILENT`.
 *
 * CONDSTORE (RFC 7162 3.1.3): with UNCHANGEDSINCE n, a message whose MODSEQ is above n is
 * left alone and named in the tagged `OK [MODIFIED set]` (sequence numbers, or UIDs for
 * UID STORE); `UNCHANGEDSINCE 0` leaves every message alone. The test and the change are
 * one step (the store is synchronous), so no other change can come between them. Once
 * CONDSTORE is on, the FETCH responses carry UID and MODSEQ, and `.SILENT` still reports
 * the MODSEQ of each message this STORE changed.
 *
 * @module
 */

import { SYSTEM_FLAGS } from "../../store/flags.ts";
import type { FlagOperation } from "../../store/types.ts";
import {
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  ImapError,
  SELECTED,
} from "../context.ts";
import { enableCondstore } from "../condstore.ts";
import { readModSequence } from "../parse_modseq.ts";
import type { Reader } from "../parser.ts";
import { formatSequenceSet } from "../sequence.ts";
import { writeRecordItemsNow } from "../fetch_meta.ts";
import type { FetchAttribute } from "../parse_fetch.ts";
import { announceKeywords } from "../updates.ts";
import {
  resolveRuns,
  resolveTargets,
  runsOf,
  type Target,
  type TargetRuns,
  targetsOf,
  writableSelection,
} from "./targets.ts";

/** The backslash flags a client may set; the parser gives them in their canonical spelling. */
const SETTABLE_SYSTEM_FLAGS = new Set<string>(SYSTEM_FLAGS);

/**
 * `BAD` for a backslash flag a client cannot set (STORE, APPEND): `\Recent` (RFC 3501 2.3.2:
 * "can not be altered by the client") and any unknown one (a `flag-extension` no RFC defines),
 * as Dovecot answers both, rather than dropping them unsaid.
 */
export function checkSettableFlags(flags: readonly string[]): void {
  for (const flag of flags) {
    if (flag.startsWith("\\") && !SETTABLE_SYSTEM_FLAGS.has(flag)) {
      throw new ImapError("BAD", null, `Invalid system flag ${flag}`);
    }
  }
}

function readStoreFlags(reader: Reader): string[] {
  if (reader.peek() === "(") return reader.readFlagList();
  const flags: string[] = [];
  do flags.push(reader.readFlag()); while (reader.maybeSp());
  return flags;
}

/** `store-modifiers`: UNCHANGEDSINCE's value, or null without one. */
function readUnchangedSince(reader: Reader): number | null {
  if (reader.peek() !== "(") return null;
  reader.expect("(");
  let unchangedSince: number | null = null;
  do {
    if (!reader.tryKeyword("UNCHANGEDSINCE")) {
      throw reader.error(`Unknown STORE modifier: ${reader.peekWord()}`);
    }
    reader.sp();
    unchangedSince = readModSequence(reader, true);
  } while (reader.maybeSp());
  reader.expect(")");
  reader.sp();
  return unchangedSince;
}

function store(session: AuthedSession, reader: Reader, byUid: boolean): CommandResult | void {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const unchangedSince = readUnchangedSince(reader);
  const item = reader.readAtom().toUpperCase();
  const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!match) throw new ImapError("BAD", null, `Unknown STORE item: ${item}`);
  reader.sp();
  const flags = readStoreFlags(reader);
  reader.end();
  checkSettableFlags(flags);
  const selection = writableSelection(session, "STORE");
  if (unchangedSince !== null) enableCondstore(session);
  const operation: FlagOperation = match[1] === "+"
    ? "add"
    : match[1] === "-"
    ? "remove"
    : "replace";
  const { store } = session.ctx;
  const user = session.user;
  const mailbox = selection.tracker.mailbox;
  const modified: Target[] = [];
  // The messages the STORE names, as runs: `STORE 1:* +FLAGS.SILENT` of a large mailbox
  // passes the UIDs, sliced natively, straight to the store, and its responses are written
  // as FETCH's record lines are (fetch_meta.ts), a line mostly the one before counted up.
  let named: TargetRuns;
  if (unchangedSince !== null) {
    // A system flag always exists (RFC 7162 3.1.3): MODSEQ above n fails, whatever the item.
    named = runsOf(
      resolveTargets(session, set, byUid).filter((target) => {
        const meta = store.getMessage(user, mailbox, target.uid);
        if (meta && meta.modseq > unchangedSince) modified.push(target);
        return meta !== undefined && meta.modseq <= unchangedSince;
      }),
    );
  } else named = resolveRuns(session, set, byUid);
  const uids = named.uids;
  const addsKeywords = operation !== "remove" && flags.some((flag) => !flag.startsWith("\\"));
  const changes = selection.tracker.ownFlagChange(
    () => store.setFlags(user, mailbox, uids, operation, flags),
    addsKeywords,
  );
  // Without .SILENT the FETCH responses below report the flags, so pending updates for these
  // messages are dropped; with it, another session's pending change still goes out.
  const silent = match[2] !== undefined;
  if (!silent) selection.tracker.dropFlagUpdates(uids);

  // New keywords (this change's, or another session's not yet announced) go out first,
  // also after .SILENT.
  announceKeywords(session);
  if (!silent) {
    // The flags of every message named; UID too for UID STORE and once CONDSTORE is on,
    // and then MODSEQ (added by the line writer with FLAGS).
    const items: FetchAttribute[] = byUid || session.condstore
      ? [{ kind: "UID" }, { kind: "FLAGS" }]
      : [{ kind: "FLAGS" }];
    writeRecordItemsNow(session, mailbox, named, items);
  } else if (session.condstore && changes.length > 0) {
    // The UID and MODSEQ of each message this STORE changed.
    let report = named;
    if (changes.length < uids.length) {
      const changed = new Set(changes.map((change) => change.uid));
      report = runsOf(targetsOf(named).filter((target) => changed.has(target.uid)));
    }
    writeRecordItemsNow(session, mailbox, report, [{ kind: "UID" }, { kind: "MODSEQ" }]);
  }
  if (modified.length === 0) return;
  const numbers = modified.map((target) => byUid ? target.uid : target.seq);
  return { code: `MODIFIED ${formatSequenceSet(numbers)}`, text: "Conditional STORE failed" };
}

export const STORE_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["STORE", {
    states: SELECTED,
    allowExpunge: false,
    run: (session, reader) => store(session, reader, false),
  }],
  ["UID STORE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => store(session, reader, true),
  }],
];
