/**
 * APPEND.
 *
 * ```abnf
 * append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal   ; RFC 9051 6.3.12
 * ```
 * The literal's size was checked before its `+` continuation (dispatch.ts); UIDPLUS
 * APPENDUID in the tagged OK; `TRYCREATE` for a missing mailbox, `NONEXISTENT` for a name
 * that is not valid modified UTF-7 (no CREATE could help).
 *
 * @module
 */

import { RECENT_FLAG } from "../../store/flags.ts";
import { AUTHED, type AuthedCommandSpec, ImapError } from "../context.ts";
import { validName } from "./mailbox.ts";

export const APPEND_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["APPEND", {
    states: AUTHED,
    allowExpunge: true,
    run(session, reader) {
      reader.sp();
      const argument = reader.readMailboxName(session.utf8);
      reader.sp();
      let flags: string[] = [];
      let internalDate: number | undefined;
      if (reader.peek() === "(") {
        flags = reader.readFlagList();
        reader.sp();
      }
      if (reader.peek() === '"') {
        internalDate = reader.readDateTime();
        reader.sp();
      }
      const message = reader.readLiteralBytes();
      reader.end();
      const name = validName(argument, "NONEXISTENT");
      for (const flag of flags) {
        if (flag === RECENT_FLAG) {
          throw new ImapError("BAD", null, "\\Recent cannot be set by APPEND");
        }
      }
      const { store, config } = session.ctx;
      if (message.length === 0) throw new ImapError("NO", null, "Cannot append an empty message");
      if (message.length > config.limits.maxMessageSize) {
        throw new ImapError(
          "NO",
          "TOOBIG",
          `Message is over the limit of ${config.limits.maxMessageSize} octets`,
        );
      }
      const info = store.getMailbox(session.user, name);
      if (!info) throw new ImapError("NO", "TRYCREATE", `Mailbox does not exist: ${name}`);
      // The literal is a buffer the framer made for this message alone: the store keeps it
      // instead of a copy (half the bytes allocated per APPEND, and no garbage of its size).
      const stored = store.append(session.user, info.name, message, {
        flags,
        internalDate,
        transfer: true,
      });
      return { code: `APPENDUID ${info.uidValidity} ${stored.uid}`, text: "APPEND completed" };
    },
  }],
];
