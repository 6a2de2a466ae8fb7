/**
 * Mailbox management.
 *
 * ```abnf
 * create      = "CREATE" SP mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"]
 *                                                         ; RFC 9051 6.3.4, RFC 6154 3
 * delete      = "DELETE" SP mailbox                       ; RFC 9051 6.3.5
 * rename      = "RENAME" SP mailbox SP mailbox            ; RFC 9051 6.3.6
 * subscribe   = "SUBSCRIBE" SP mailbox                    ; RFC 9051 6.3.7
 * unsubscribe = "UNSUBSCRIBE" SP mailbox                  ; RFC 9051 6.3.8
 * ```
 * CREATE's OK carries the new mailbox's MAILBOXID (RFC 8474 4.1).
 * The store checks names and refuses what it cannot do (`Cannot create mailbox: ...`);
 * the checks here are those whose IMAP response differs from the store's.
 *
 * @module
 */

import {
  HIERARCHY_DELIMITER,
  type MailboxInfo,
  SPECIAL_USES,
  type SpecialUse,
} from "../../store/types.ts";
import { validateMailboxName } from "../../store/names.ts";
import { AUTHED, type AuthedCommandSpec, type AuthedSession, ImapError } from "../context.ts";
import type { MailboxName, Reader } from "../parser.ts";

/**
 * Reads a command's one argument, a mailbox name, and checks the end of the command; a name
 * that is not valid modified UTF-7 names no mailbox (`NO [NONEXISTENT]`, see
 * {@linkcode validName}).
 */
export function readMailboxArgument(session: AuthedSession, reader: Reader): string {
  reader.sp();
  const name = reader.readMailboxName(session.utf8);
  reader.end();
  return validName(name, "NONEXISTENT");
}

/**
 * The name of a mailbox argument read by `Reader.readMailboxName`, or `NO` when a client
 * that has not enabled UTF-8 sent a name that is not valid modified UTF-7: the command is
 * fine, the name just cannot exist (`NONEXISTENT`) or be created (`CANNOT`), as Dovecot
 * answers. Call it once the whole command is read, so bad syntax later on is still `BAD`.
 */
export function validName(name: MailboxName, code: "NONEXISTENT" | "CANNOT"): string {
  if (name.invalid === null) return name.name;
  throw new ImapError(
    "NO",
    code,
    `${name.invalid} (RFC 3501 5.1.3; send UTF-8 names after ENABLE UTF8=ACCEPT)`,
  );
}

/**
 * The mailbox an APPEND, COPY or MOVE goes to: `NO [TRYCREATE]` when it does not exist (RFC
 * 9051 7.1: a CREATE would let the command succeed), but `NO [CANNOT]` for a name no CREATE
 * can make (empty, an empty level, `*` or `%`), as Dovecot answers, so that a client does not
 * try.
 */
export function targetMailbox(session: AuthedSession, name: string): MailboxInfo {
  const info = session.ctx.store.getMailbox(session.user, name);
  if (info) return info;
  validateMailboxName(name);
  throw new ImapError("NO", "TRYCREATE", `Mailbox does not exist: ${name}`);
}

/** The mailbox named `name`, or `NO [NONEXISTENT]`. */
export function requireMailbox(session: AuthedSession, name: string): MailboxInfo {
  const info = session.ctx.store.getMailbox(session.user, name);
  if (!info) throw new ImapError("NO", "NONEXISTENT", `Mailbox does not exist: ${name}`);
  return info;
}

/** `(USE (\Attr))` of CREATE (RFC 6154 3): at most one attribute, one we know. */
function readUseAttribute(reader: Reader): SpecialUse | null {
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
  return use ?? null;
}

export const MAILBOX_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["CREATE", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["CREATE-SPECIAL-USE"],
    run(session, reader) {
      reader.sp();
      const argument = reader.readMailboxName(session.utf8);
      const specialUse = reader.maybeSp() ? readUseAttribute(reader) : null;
      reader.end();
      let name = validName(argument, "CANNOT");
      // RFC 9051 6.3.4: a trailing delimiter says the client intends to create children.
      if (name.endsWith(HIERARCHY_DELIMITER)) name = name.slice(0, -HIERARCHY_DELIMITER.length);
      if (name.toUpperCase() === "INBOX") {
        throw new ImapError("NO", "ALREADYEXISTS", "INBOX always exists");
      }
      const info = session.ctx.store.createMailbox(session.user, name, { specialUse });
      // RFC 8474 4.1: the new mailbox's MAILBOXID in the tagged OK.
      return { code: `MAILBOXID (${info.mailboxId})`, text: "CREATE completed" };
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
      session.ctx.store.deleteMailbox(session.user, info.name);
    },
  }],
  ["RENAME", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const source = reader.readMailboxName(session.utf8);
      reader.sp();
      const target = reader.readMailboxName(session.utf8);
      reader.end();
      const from = validName(source, "NONEXISTENT");
      const to = validName(target, "CANNOT");
      const info = requireMailbox(session, from);
      if (session.ctx.store.getMailbox(session.user, to)) {
        throw new ImapError("NO", "ALREADYEXISTS", `Mailbox already exists: ${to}`);
      }
      session.ctx.store.renameMailbox(session.user, info.name, to);
    },
  }],
  ["SUBSCRIBE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      const name = readMailboxArgument(session, reader);
      requireMailbox(session, name);
      session.ctx.store.setSubscribed(session.user, name, true);
    },
  }],
  ["UNSUBSCRIBE", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      const name = readMailboxArgument(session, reader);
      session.ctx.store.setSubscribed(session.user, name, false);
    },
  }],
];
