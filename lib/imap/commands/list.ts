/**
 * LIST and LSUB.
 *
 * ```abnf
 * list             = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 * list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
 * mbox-or-pat      = list-mailbox / patterns
 * patterns         = "(" list-mailbox *(SP list-mailbox) ")"
 * list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 * return-option    = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "(" status-att ... ")"
 * lsub             = "LSUB" SP mailbox SP list-mailbox
 * ```
 * RFC 9051 6.3.9, RFC 5258 (LIST-EXTENDED), RFC 5819 (LIST-STATUS), RFC 6154, RFC 3501 6.3.9.
 * A reference or pattern from a rev1 client that is not valid modified UTF-7 matches no
 * mailbox: the answer is OK with no entries, as Dovecot gives.
 *
 * @module
 */

import { AUTHED, type AuthedCommandSpec, type AuthedSession, ImapError } from "../context.ts";
import { type ListEntry, listMailboxes, listSubscribed } from "../list.ts";
import type { MailboxName } from "../parser.ts";
import { writeListLine } from "../responses.ts";
import { readStatusItems, writeStatus } from "./status.ts";

function writeEntry(session: AuthedSession, verb: "LIST" | "LSUB", entry: ListEntry): void {
  writeListLine(session.out, verb, entry.attributes, entry.name, session.utf8, entry.childInfo);
}

/**
 * The patterns that can match a name: none when the reference is not valid modified UTF-7,
 * else those that are (`readListMailbox` gives null for the others).
 */
function validPatterns(reference: MailboxName, patterns: Array<string | null>): string[] {
  if (reference.invalid !== null) return [];
  return patterns.filter((pattern) => pattern !== null);
}

function sources(session: AuthedSession) {
  return session.ctx.store.listMailboxes(session.user);
}

export const LIST_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["LIST", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE"],
    run(session, reader) {
      reader.sp();
      const select = { subscribed: false, specialUse: false, recursive: false };
      if (reader.peek() === "(") {
        reader.expect("(");
        while (reader.peek() !== ")") {
          const option = reader.readAtom().toUpperCase();
          if (option === "SUBSCRIBED") select.subscribed = true;
          else if (option === "SPECIAL-USE") select.specialUse = true;
          else if (option === "RECURSIVEMATCH") select.recursive = true;
          else if (option !== "REMOTE") {
            throw new ImapError("BAD", null, `Unknown LIST selection option: ${option}`);
          }
          reader.maybeSp();
        }
        reader.expect(")");
        reader.sp();
        if (select.recursive && !select.subscribed && !select.specialUse) {
          throw new ImapError("BAD", null, "RECURSIVEMATCH needs another selection option");
        }
      }
      const reference = reader.readMailboxName(session.utf8);
      reader.sp();
      const patterns: Array<string | null> = [];
      if (reader.peek() === "(") {
        reader.expect("(");
        do patterns.push(reader.readListMailbox(session.utf8)); while (reader.maybeSp());
        reader.expect(")");
      } else patterns.push(reader.readListMailbox(session.utf8));
      const returns = {
        subscribed: false,
        status: null as ReturnType<typeof readStatusItems> | null,
      };
      if (reader.maybeSp()) {
        if (!reader.tryKeyword("RETURN")) throw new ImapError("BAD", null, "Expected RETURN");
        reader.sp();
        reader.expect("(");
        while (reader.peek() !== ")") {
          const option = reader.readAtom().toUpperCase();
          if (option === "SUBSCRIBED") returns.subscribed = true;
          else if (option === "STATUS") {
            reader.sp();
            returns.status = readStatusItems(reader);
          } else if (option !== "CHILDREN" && option !== "SPECIAL-USE") {
            throw new ImapError("BAD", null, `Unknown LIST return option: ${option}`);
          }
          reader.maybeSp();
        }
        reader.expect(")");
      }
      reader.end();

      if (patterns.length === 1 && patterns[0] === "") {
        // RFC 9051 6.3.9: the hierarchy delimiter and the root name.
        writeListLine(session.out, "LIST", ["\\Noselect"], "", session.utf8);
        return;
      }
      // A reference or pattern that is not valid modified UTF-7 matches nothing (Dovecot).
      const valid = validPatterns(reference, patterns);
      if (valid.length === 0) return;
      const mailboxes = sources(session);
      const entries = listMailboxes(
        mailboxes,
        new Set(session.ctx.store.listSubscriptions(session.user)),
        {
          reference: reference.name,
          patterns: valid,
          selectSubscribed: select.subscribed,
          selectSpecialUse: select.specialUse,
          recursiveMatch: select.recursive,
          returnSubscribed: returns.subscribed,
        },
      );
      const byName = new Map(mailboxes.map((info) => [info.name, info]));
      for (const entry of entries) {
        writeEntry(session, "LIST", entry);
        const info = byName.get(entry.name);
        if (returns.status && info) writeStatus(session, info, returns.status);
      }
    },
  }],
  ["LSUB", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const reference = reader.readMailboxName(session.utf8);
      reader.sp();
      const [pattern] = validPatterns(reference, [reader.readListMailbox(session.utf8)]);
      reader.end();
      if (pattern === undefined) return;
      const subscriptions = new Set(session.ctx.store.listSubscriptions(session.user));
      const entries = listSubscribed(subscriptions, reference.name, pattern);
      for (const entry of entries) {
        writeEntry(session, "LSUB", entry);
      }
    },
  }],
];
