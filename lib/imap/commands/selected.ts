/**
 * Selected-state commands that change messages.
 *
 * ```abnf
 * store        = "STORE" SP sequence-set SP store-att-flags        ; RFC 9051 6.4.6
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 * copy         = "COPY" SP sequence-set SP mailbox                 ; RFC 9051 6.4.7, UIDPLUS COPYUID
 * move         = "MOVE" SP sequence-set SP mailbox                 ; RFC 9051 6.4.8 (RFC 6851)
 * expunge      = "EXPUNGE"                                         ; RFC 9051 6.4.3
 * uid-expunge  = "UID" SP "EXPUNGE" SP sequence-set                ; RFC 9051 6.4.9 (UIDPLUS)
 * close        = "CLOSE"                                           ; RFC 9051 6.4.1
 * unselect     = "UNSELECT"                                        ; RFC 9051 6.4.2
 * ```
 *
 * @module
 */

import { SYSTEM_FLAGS } from "../../store/flags.ts";
import type { FlagOperation } from "../../store/types.ts";
import { type CommandResult, type CommandSpec, ImapError, type Session } from "../context.ts";
import { flagList, untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { formatSequenceSet } from "../sequence.ts";
import { resolveTargets, selectionOf } from "./targets.ts";

const SELECTED = ["selected"] as const;
const systemFlags = new Set(SYSTEM_FLAGS.map((flag) => flag.toLowerCase()));

function requireWritable(session: Session, verb: string): void {
  if (selectionOf(session).readOnly) {
    throw new ImapError("NO", null, `${verb}: the mailbox is read-only (EXAMINE)`);
  }
}

function readStoreFlags(reader: Reader): string[] {
  if (reader.peek() === "(") return reader.readFlagList();
  const flags: string[] = [];
  do flags.push(reader.readFlag()); while (reader.maybeSp());
  return flags;
}

function store(session: Session, reader: Reader, byUid: boolean) {
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
    if (
      flag.startsWith("\\") && !systemFlags.has(flag.toLowerCase()) &&
      flag.toLowerCase() !== "\\recent"
    ) {
      throw new ImapError("BAD", null, `Cannot store system flag ${flag}`);
    }
  }
  requireWritable(session, "STORE");
  const selection = selectionOf(session);
  const targets = resolveTargets(session, set, byUid);
  const operation: FlagOperation = match[1] === "+"
    ? "add"
    : match[1] === "-"
    ? "remove"
    : "replace";
  const { store } = session.ctx;
  const user = session.user!;
  const mailbox = selection.tracker.mailbox;
  const uids = targets.map((t) => t.uid);
  const stored = flags.filter((f) => f.toLowerCase() !== "\\recent");
  selection.tracker.ownFlagChange(() => store.setFlags(user, mailbox, uids, operation, stored));
  // Without .SILENT the FETCH responses below report the flags, so pending updates for these
  // messages are dropped; with it, another session's pending change still goes out.
  if (!match[2]) selection.tracker.dropFlagUpdates(uids);

  const newKeywords = flags.filter((flag) =>
    !flag.startsWith("\\") && !selection.keywords.has(flag)
  );
  if (newKeywords.length > 0 && operation !== "remove") {
    for (const keyword of newKeywords) selection.keywords.add(keyword);
    const all = [
      "\\Answered",
      "\\Flagged",
      "\\Deleted",
      "\\Seen",
      "\\Draft",
      ...selection.keywords,
    ];
    session.out.push(untagged(`FLAGS ${flagList(all)}`));
    session.out.push(untagged(`OK [PERMANENTFLAGS ${flagList([...all, "\\*"])}] Flags permitted`));
  }
  if (match[2]) return;
  for (const { seq, uid } of targets) {
    const meta = store.getMessage(user, mailbox, uid);
    if (!meta) continue;
    const flags = flagList(meta.flags, !session.rev2 && selection.recent.has(uid));
    session.out.push(untagged(`${seq} FETCH (${byUid ? `UID ${uid} ` : ""}FLAGS ${flags})`));
  }
}

function copyOrMove(
  session: Session,
  reader: Reader,
  byUid: boolean,
  move: boolean,
): CommandResult {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const target = reader.readMailbox(session.utf8);
  reader.end();
  if (move) requireWritable(session, "MOVE");
  const selection = selectionOf(session);
  const { store } = session.ctx;
  const user = session.user!;
  const destination = store.getMailbox(user, target);
  if (!destination) throw new ImapError("NO", "TRYCREATE", `Mailbox does not exist: ${target}`);
  const targets = resolveTargets(session, set, byUid);
  if (targets.length === 0) return { text: move ? "No messages moved" : "No messages copied" };
  const uids = targets.map((t) => t.uid);
  if (move && destination.name === selection.tracker.mailbox) {
    throw new ImapError("NO", "CANNOT", "Cannot move messages into the mailbox they are in");
  }
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
  session.sendUpdates(true);
  return { text: "MOVE completed" };
}

function expunge(session: Session, reader: Reader, byUid: boolean) {
  let uids: number[] | undefined;
  if (byUid) {
    reader.sp();
    const set = reader.readSequenceSet();
    uids = resolveTargets(session, set, true).map((t) => t.uid);
  }
  reader.end();
  requireWritable(session, "EXPUNGE");
  const selection = selectionOf(session);
  if (uids && uids.length === 0) return;
  session.ctx.store.expunge(session.user!, selection.tracker.mailbox, uids);
}

export const SELECTED_COMMANDS: ReadonlyArray<[string, CommandSpec]> = [
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
    run: (session, reader) => copyOrMove(session, reader, false, true),
  }],
  ["UID MOVE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => copyOrMove(session, reader, true, true),
  }],
  ["EXPUNGE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => expunge(session, reader, false),
  }],
  ["UID EXPUNGE", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => expunge(session, reader, true),
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
      if (!selection.readOnly) session.ctx.store.expunge(session.user!, selection.tracker.mailbox);
    },
  }],
  ["UNSELECT", {
    states: SELECTED,
    allowExpunge: true,
    run(session, reader) {
      reader.end();
      session.selection = null;
      session.state = "authenticated";
    },
  }],
];
