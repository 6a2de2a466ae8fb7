/**
 * STATUS, and the STATUS response LIST-STATUS shares.
 *
 * ```abnf
 * status     = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"   ; RFC 9051 6.3.11
 * status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE"
 *              / "RECENT"                                  ; RFC 9051 9, RFC 8438, RFC 3501
 *              / "HIGHESTMODSEQ"                           ; RFC 7162 3.1.6 (enables CONDSTORE)
 *              / "APPENDLIMIT"                             ; RFC 7889 4 (the message size limit)
 *              / "MAILBOXID"                               ; RFC 8474 4.3
 * status-att-val =/ "MAILBOXID" SP "(" objectid ")"
 * ```
 *
 * @module
 */

import type { MailboxInfo } from "../../store/types.ts";
import { AUTHED, type AuthedCommandSpec, ImapError, type Session } from "../context.ts";
import { mailboxName } from "../encoder.ts";
import type { Reader } from "../parser.ts";
import { enableCondstore } from "../condstore.ts";
import { recentCount } from "../updates.ts";
import { requireMailbox, validName } from "./mailbox.ts";

const STATUS_ITEMS = [
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  "RECENT",
  "HIGHESTMODSEQ",
  "APPENDLIMIT",
  "MAILBOXID",
] as const;
type StatusItem = typeof STATUS_ITEMS[number];

/** Reads `(item item ...)` of STATUS (also used by LIST RETURN (STATUS (...))). */
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

/** Writes `* STATUS name (...)` for a mailbox. */
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
      case "HIGHESTMODSEQ":
        return `HIGHESTMODSEQ ${info.highestModseq}`;
      case "APPENDLIMIT":
        return `APPENDLIMIT ${session.ctx.config.limits.maxMessageSize}`;
      case "MAILBOXID":
        return `MAILBOXID (${info.mailboxId})`;
    }
  });
  session.out.push("* STATUS ", mailboxName(info.name, session.utf8), ` (${values.join(" ")})\r\n`);
}

export const STATUS_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["STATUS", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["STATUS=SIZE"],
    run(session, reader) {
      reader.sp();
      const name = reader.readMailboxName(session.utf8);
      reader.sp();
      const items = readStatusItems(reader);
      reader.end();
      if (items.includes("HIGHESTMODSEQ")) enableCondstore(session);
      writeStatus(session, requireMailbox(session, validName(name, "NONEXISTENT")), items);
    },
  }],
];
