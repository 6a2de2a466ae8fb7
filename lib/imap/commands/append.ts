/**
 * APPEND, with MULTIAPPEND (several messages in one command) and CATENATE (a message made of
 * text and IMAP URLs).
 *
 * ```abnf
 * append         = "APPEND" SP mailbox 1*append-message          ; RFC 3502 6.3.11
 * append-message = append-opts SP append-data
 * append-opts    = [SP flag-list] [SP date-time]
 * append-data    = literal / literal8 / append-data-ext          ; RFC 3516 4.4 literal8
 * append-data    =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")" ; RFC 4469 5
 * cat-part       = text-literal / url
 * text-literal   = "TEXT" SP literal
 * url            = "URL" SP astring
 * ```
 * All messages are read and checked first, then appended in one store transaction: all of
 * them or none (RFC 3502 6.3.11). The tagged OK carries UIDPLUS APPENDUID with the UID set
 * (RFC 4315 3). Each literal's size was checked before its `+` continuation (dispatch.ts,
 * `literalDecision`); the message size limit is APPENDLIMIT (RFC 7889), `NO [TOOBIG]` past
 * it. `TRYCREATE` for a missing mailbox, `CANNOT` for a name no CREATE could make (empty, an
 * empty level), `NONEXISTENT` for one that is not valid modified UTF-7 (no CREATE could help).
 *
 * @module
 */

import { checkSettableFlags } from "./store.ts";
import {
  AUTHED,
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  ImapError,
} from "../context.ts";
import { type CatenatePart, resolveCatenate } from "../catenate.ts";
import type { MailboxName, Reader } from "../parser.ts";
import { formatSequenceSet } from "../sequence.ts";
import { targetMailbox, validName } from "./mailbox.ts";

/** Messages one APPEND may carry (MULTIAPPEND); past it `NO [LIMIT]`, nothing appended. */
export const MAX_APPEND_MESSAGES = 1000;

/**
 * Message data one APPEND may carry in all (MULTIAPPEND, CATENATE texts) when that is more
 * than one message of the size limit: the framer holds a command whole before it runs.
 */
export const MAX_APPEND_TOTAL = 64 * 1024 * 1024;

/**
 * The octets all messages of one APPEND may add up to, literals as sent and CATENATE results
 * alike: {@linkcode MAX_APPEND_TOTAL}, or one message of the size limit if that is more.
 */
export function appendTotalLimit(maxMessageSize: number): number {
  return Math.max(maxMessageSize, MAX_APPEND_TOTAL);
}

/**
 * URLs one APPEND may name in all its CATENATE parts; past it `NO [LIMIT]`. Each may read a
 * whole stored message (from disk with SQLite), so this bounds the work one command causes.
 */
export const MAX_CATENATE_URLS = 100;

/** Parts of one CATENATE message; past it `NO [LIMIT]`. */
export const MAX_CATENATE_PARTS = 1000;

/** One message as the client sent it: its data, or its CATENATE parts still to resolve. */
export interface AppendMessage {
  readonly flags: string[];
  readonly internalDate: number | undefined;
  readonly data: Uint8Array | CatenatePart[];
}

export const APPEND_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["APPEND", {
    states: AUTHED,
    allowExpunge: true,
    // As Dovecot lists them; URL-PARTIAL (RFC 5550 5): `;PARTIAL=` works in CATENATE and URLFETCH.
    capabilities: ["MULTIAPPEND", "URL-PARTIAL", "CATENATE", "APPENDLIMIT"],
    run(session, reader) {
      const { mailbox: argument, messages } = readAppendArguments(reader, session.utf8);
      const name = validName(argument, "NONEXISTENT");
      // With SQLite its changes may commit with those of the APPENDs pipelined after it (the
      // session holds the commit open across them, lib/imap/session.ts), each in a savepoint:
      // its tagged OK waits for that commit.
      let result: CommandResult = {};
      const commit = session.ctx.store.shareCommit(() => {
        result = append(session, name, messages);
      });
      return commit === null ? result : { ...result, commit };
    },
  }],
];

/** Checks and stores the messages of one APPEND; its tagged OK's code and text. */
function append(session: AuthedSession, name: string, messages: AppendMessage[]): CommandResult {
  const { store } = session.ctx;
  const info = targetMailbox(session, name);
  const inAll = appendTotalLimit(session.ctx.config.limits.maxMessageSize);
  let total = 0;
  const ready = messages.map((message) => {
    const raw = checkedMessage(session, message);
    // URLs make data the literals did not carry: the sum is checked again here.
    total += raw.length;
    if (total > inAll) {
      throw new ImapError("NO", "TOOBIG", `Messages are over ${inAll} octets in all`);
    }
    // A literal is a buffer the framer made for this message alone, and CATENATE builds a
    // new one: the store keeps it instead of a copy (no garbage of the message's size).
    const options = {
      flags: message.flags,
      internalDate: message.internalDate,
      transfer: true,
    };
    return { raw, options };
  });
  const stored = store.appendMessages(session.user, info.name, ready);
  const uids = formatSequenceSet(stored.map((meta) => meta.uid));
  return { code: `APPENDUID ${info.uidValidity} ${uids}`, text: "APPEND completed" };
}

/**
 * Everything after `APPEND`: the mailbox and `1*append-message`, up to the end of the
 * command; more than {@linkcode MAX_APPEND_MESSAGES} is `NO [LIMIT]`.
 */
export function readAppendArguments(
  reader: Reader,
  utf8: boolean,
): { mailbox: MailboxName; messages: AppendMessage[] } {
  reader.sp();
  const mailbox = reader.readMailboxName(utf8);
  const messages: AppendMessage[] = [];
  let urls = 0;
  do {
    if (messages.length === MAX_APPEND_MESSAGES) {
      throw new ImapError(
        "NO",
        "LIMIT",
        `Cannot append more than ${MAX_APPEND_MESSAGES} messages in one command`,
      );
    }
    reader.sp();
    const message = readAppendMessage(reader);
    messages.push(message);
    if (!(message.data instanceof Uint8Array)) {
      urls += message.data.filter((part) => part.kind === "url").length;
      if (urls > MAX_CATENATE_URLS) {
        throw new ImapError("NO", "LIMIT", `Cannot catenate more than ${MAX_CATENATE_URLS} URLs`);
      }
    }
  } while (!reader.atEnd());
  reader.end();
  return { mailbox, messages };
}

/** `append-opts SP append-data`, after the space before it. */
function readAppendMessage(reader: Reader): AppendMessage {
  let flags: string[] = [];
  let internalDate: number | undefined;
  if (reader.peek() === "(") {
    flags = reader.readFlagList();
    checkSettableFlags(flags);
    reader.sp();
  }
  if (reader.peek() === '"') {
    internalDate = reader.readDateTime();
    reader.sp();
  }
  if (reader.tryKeyword("CATENATE")) {
    reader.sp();
    return { flags, internalDate, data: readCatenateParts(reader) };
  }
  return { flags, internalDate, data: reader.readLiteralBytes() };
}

/** `"(" cat-part *(SP cat-part) ")"` */
function readCatenateParts(reader: Reader): CatenatePart[] {
  reader.expect("(");
  const parts: CatenatePart[] = [];
  if (reader.peek() === ")") throw reader.error("Empty CATENATE list");
  do {
    if (parts.length === MAX_CATENATE_PARTS) {
      throw new ImapError("NO", "LIMIT", `Cannot catenate more than ${MAX_CATENATE_PARTS} parts`);
    }
    if (reader.tryKeyword("TEXT")) {
      reader.sp();
      parts.push({ kind: "text", bytes: reader.readLiteralBytes() });
    } else if (reader.tryKeyword("URL")) {
      reader.sp();
      parts.push({ kind: "url", url: reader.readAstring() });
    } else {
      throw reader.error(`Expected TEXT or URL but found ${reader.peekWord()}`);
    }
  } while (reader.maybeSp());
  reader.expect(")");
  return parts;
}

/** The message's bytes (CATENATE resolved), non-empty and within the size limit. */
function checkedMessage(session: AuthedSession, message: AppendMessage): Uint8Array {
  const limit = session.ctx.config.limits.maxMessageSize;
  const raw = message.data instanceof Uint8Array
    ? message.data
    : resolveCatenate(session, message.data, limit);
  if (raw.length === 0) throw new ImapError("NO", null, "Cannot append an empty message");
  if (raw.length > limit) {
    throw new ImapError("NO", "TOOBIG", `Message is over the limit of ${limit} octets`);
  }
  return raw;
}
