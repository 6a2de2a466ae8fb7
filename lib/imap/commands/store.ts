/**
 * STORE and UID STORE.
 *
 * ```abnf
 * store           = "STORE" SP sequence-set SP store-att-flags        ; RFC 9051 6.4.6
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 * uid-store       = "UID" SP store                                    ; RFC 9051 6.4.9
 * ```
 * Without `.SILENT` the new flags come back as `FETCH (FLAGS …)`; a keyword new to the
 * session first gets a new `FLAGS` response (RFC 9051 7.3.5), with or without `.SILENT`.
 *
 * @module
 */

import { RECENT_FLAG, SYSTEM_FLAGS } from "../../store/flags.ts";
import type { FlagOperation } from "../../store/types.ts";
import { type AuthedCommandSpec, type AuthedSession, ImapError, SELECTED } from "../context.ts";
import type { Reader } from "../parser.ts";
import { writeFetchFlags } from "../responses.ts";
import { announceKeywords, sessionFlagList } from "../updates.ts";
import { resolveTargets, writableSelection } from "./targets.ts";

/**
 * Backslash flags STORE takes: the system flags, and `\Recent`, which is left out (it is
 * the server's to set). The parser gives them in their canonical spelling.
 */
const STORABLE_SYSTEM_FLAGS = new Set<string>([...SYSTEM_FLAGS, RECENT_FLAG]);

function readStoreFlags(reader: Reader): string[] {
  if (reader.peek() === "(") return reader.readFlagList();
  const flags: string[] = [];
  do flags.push(reader.readFlag()); while (reader.maybeSp());
  return flags;
}

function store(session: AuthedSession, reader: Reader, byUid: boolean): void {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const item = reader.readAtom().toUpperCase();
  const match = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!match) throw new ImapError("BAD", null, `Unknown STORE item: ${item}`);
  reader.sp();
  const flags = readStoreFlags(reader);
  reader.end();
  for (const flag of flags) {
    if (flag.startsWith("\\") && !STORABLE_SYSTEM_FLAGS.has(flag)) {
      throw new ImapError("BAD", null, `Cannot store system flag ${flag}`);
    }
  }
  const selection = writableSelection(session, "STORE");
  const targets = resolveTargets(session, set, byUid);
  const operation: FlagOperation = match[1] === "+"
    ? "add"
    : match[1] === "-"
    ? "remove"
    : "replace";
  const { store } = session.ctx;
  const user = session.user;
  const mailbox = selection.tracker.mailbox;
  const uids = targets.map((t) => t.uid);
  const stored = flags.filter((flag) => flag !== RECENT_FLAG);
  selection.tracker.ownFlagChange(() => store.setFlags(user, mailbox, uids, operation, stored));
  // Without .SILENT the FETCH responses below report the flags, so pending updates for these
  // messages are dropped; with it, another session's pending change still goes out.
  if (!match[2]) selection.tracker.dropFlagUpdates(uids);

  // New keywords (this change's, or another session's not yet announced) go out first,
  // also after .SILENT.
  announceKeywords(session);
  if (match[2]) return;
  for (const { seq, uid } of targets) {
    const meta = store.getMessage(user, mailbox, uid);
    if (!meta) continue;
    writeFetchFlags(
      session.out,
      seq,
      byUid ? uid : null,
      sessionFlagList(session, uid, meta.flags),
    );
  }
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
