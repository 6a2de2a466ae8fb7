/**
 * Mailbox commands.
 *
 * ```abnf
 * select      = "SELECT" SP mailbox                       ; RFC 9051 6.3.2
 * examine     = "EXAMINE" SP mailbox                      ; RFC 9051 6.3.3
 * create      = "CREATE" SP mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"]
 *                                                         ; RFC 9051 6.3.4, RFC 6154 3
 * delete      = "DELETE" SP mailbox                       ; RFC 9051 6.3.5
 * rename      = "RENAME" SP mailbox SP mailbox            ; RFC 9051 6.3.6
 * subscribe   = "SUBSCRIBE" SP mailbox                    ; RFC 9051 6.3.7
 * unsubscribe = "UNSUBSCRIBE" SP mailbox                  ; RFC 9051 6.3.8
 * status      = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"   ; RFC 9051 6.3.11
 * ```
 *
 * @module
 */

import {
  type MailboxInfo,
  SPECIAL_USES,
  type SpecialUse,
  UID_VALIDITY,
} from "../../store/types.ts";
import { type CommandSpec, ImapError, type Selection, type Session } from "../context.ts";
import { flagList, mailboxName, untagged } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { claimRecent } from "../session.ts";
import { MailboxTracker } from "../tracker.ts";

const AUTHED = ["authenticated", "selected"] as const;
const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/** Reads a mailbox argument and checks the end of the command. */
function readMailboxArgument(session: Session, reader: Reader): string {
  reader.sp();
  const name = reader.readMailbox(session.utf8);
  reader.end();
  return name;
}

function requireMailbox(session: Session, name: string): MailboxInfo {
  const info = session.ctx.store.getMailbox(session.user!, name);
  if (!info) throw new ImapError("NO", "NONEXISTENT", `Mailbox does not exist: ${name}`);
  return info;
}

function select(session: Session, reader: Reader, readOnly: boolean) {
  const name = readMailboxArgument(session, reader);
  const { store } = session.ctx;
  if (session.selection) {
    session.selection = null;
    session.state = "authenticated";
    session.out.push(untagged("OK [CLOSED] Previous mailbox is now closed"));
  }
  requireMailbox(session, name);
  const view = store.selectView(session.user!, name);
  const { info } = view;
  const keywords = new Set(view.keywords);
  const selection: Selection = {
    tracker: new MailboxTracker(session.user!, info.name, view.uids),
    readOnly,
    recent: new Set(),
    keywords,
  };
  const firstUnseen = view.firstUnseenUid === 0 ? 0 : selection.tracker.seqOf(view.firstUnseenUid);
  const out = session.out;
  out.push(untagged(`${view.uids.length} EXISTS`));
  if (!session.rev2) {
    claimRecent(session, selection, 0);
    out.push(untagged(`${selection.recent.size} RECENT`));
    if (firstUnseen > 0) out.push(untagged(`OK [UNSEEN ${firstUnseen}] First unseen message`));
  }
  out.push(untagged(`OK [UIDVALIDITY ${UID_VALIDITY}] UIDs valid`));
  out.push(untagged(`OK [UIDNEXT ${info.uidNext}] Predicted next UID`));
  out.push(untagged(`FLAGS ${flagList([...SYSTEM_FLAGS, ...keywords])}`));
  out.push(
    untagged(
      readOnly
        ? "OK [PERMANENTFLAGS ()] Read-only mailbox"
        : `OK [PERMANENTFLAGS ${flagList([...SYSTEM_FLAGS, ...keywords, "\\*"])}] Flags permitted`,
    ),
  );
  if (session.rev2) out.push('* LIST () "/" ', mailboxName(info.name, true), "\r\n");
  session.selection = selection;
  session.state = "selected";
  return {
    code: readOnly ? "READ-ONLY" : "READ-WRITE",
    text: `${readOnly ? "EXAMINE" : "SELECT"} completed`,
  };
}

const STATUS_ITEMS = [
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  "RECENT",
] as const;
type StatusItem = typeof STATUS_ITEMS[number];

/** Reads `(item item …)` of STATUS (also used by LIST RETURN (STATUS (…))). */
export function readStatusItems(reader: Reader): StatusItem[] {
  reader.expect("(");
  const items: StatusItem[] = [];
  do {
    const item = reader.readAtom().toUpperCase() as StatusItem;
    if (!STATUS_ITEMS.includes(item)) {
      throw new ImapError("BAD", null, `Unknown STATUS item: ${item}`);
    }
    items.push(item);
  } while (reader.maybeSp());
  reader.expect(")");
  return items;
}

/** Writes `* STATUS name (…)` for a mailbox. */
export function writeStatus(
  session: Session,
  info: MailboxInfo,
  items: readonly StatusItem[],
): void {
  const values = items.map((item) => {
    switch (item) {
      case "MESSAGES":
        return `MESSAGES ${info.messages}`;
      case "UIDNEXT":
        return `UIDNEXT ${info.uidNext}`;
      case "UIDVALIDITY":
        return `UIDVALIDITY ${info.uidValidity}`;
      case "UNSEEN":
        return `UNSEEN ${info.unseen}`;
      case "DELETED":
        return `DELETED ${info.deleted}`;
      case "SIZE":
        return `SIZE ${info.size}`;
      case "RECENT":
        return `RECENT ${recentCount(session, info)}`;
    }
  });
  session.out.push("* STATUS ", mailboxName(info.name, session.utf8), ` (${values.join(" ")})\r\n`);
}

function recentCount(session: Session, info: MailboxInfo): number {
  const claimed = session.ctx.shared.recentClaims.get(`${info.user}\u0000${info.name}`) ?? 0;
  if (claimed >= info.uidNext - 1) return 0;
  return session.ctx.store.listMessages(info.user, info.name).filter((message) =>
    message.uid > claimed
  ).length;
}

export const MAILBOX_COMMANDS: ReadonlyArray<[string, CommandSpec]> = [
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
  ["CREATE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      let name = reader.readMailbox(session.utf8);
      let specialUse: SpecialUse | null = null;
      if (reader.maybeSp()) {
        reader.expect("(");
        if (!reader.tryKeyword("USE")) throw new ImapError("BAD", null, "Expected USE");
        reader.sp();
        const uses = reader.readFlagList();
        reader.expect(")");
        if (uses.length > 1) {
          throw new ImapError("NO", "USEATTR", "Only one special-use attribute per mailbox");
        }
        const use = SPECIAL_USES.find((known) => known.toLowerCase() === uses[0]?.toLowerCase());
        if (uses.length === 1 && !use) {
          throw new ImapError("NO", "USEATTR", `Unsupported special-use attribute: ${uses[0]}`);
        }
        specialUse = use ?? null;
      }
      reader.end();
      // RFC 9051 6.3.4: a trailing delimiter says the client intends to create children.
      if (name.endsWith("/")) name = name.slice(0, -1);
      if (name.toUpperCase() === "INBOX") {
        throw new ImapError("NO", "ALREADYEXISTS", "INBOX always exists");
      }
      session.ctx.store.createMailbox(session.user!, name, { specialUse });
    },
  }],
  ["DELETE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      const name = readMailboxArgument(session, reader);
      const info = requireMailbox(session, name);
      if (info.name === "INBOX") throw new ImapError("NO", "CANNOT", "INBOX cannot be deleted");
      if (session.selection?.tracker.mailbox === info.name) {
        session.selection = null;
        session.state = "authenticated";
      }
      session.ctx.store.deleteMailbox(session.user!, info.name);
    },
  }],
  ["RENAME", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const from = reader.readMailbox(session.utf8);
      reader.sp();
      const to = reader.readMailbox(session.utf8);
      reader.end();
      const info = requireMailbox(session, from);
      if (session.ctx.store.getMailbox(session.user!, to)) {
        throw new ImapError("NO", "ALREADYEXISTS", `Mailbox already exists: ${to}`);
      }
      session.ctx.store.renameMailbox(session.user!, info.name, to);
    },
  }],
  ["SUBSCRIBE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      const name = readMailboxArgument(session, reader);
      requireMailbox(session, name);
      session.ctx.store.setSubscribed(session.user!, name, true);
    },
  }],
  ["UNSUBSCRIBE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      const name = readMailboxArgument(session, reader);
      session.ctx.store.setSubscribed(session.user!, name, false);
    },
  }],
  ["STATUS", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const name = reader.readMailbox(session.utf8);
      reader.sp();
      const items = readStatusItems(reader);
      reader.end();
      writeStatus(session, requireMailbox(session, name), items);
    },
  }],
];
