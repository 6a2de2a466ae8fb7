/**
 * METADATA (RFC 5464): server and mailbox annotations.
 *
 * ```abnf
 * getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries   ; RFC 5464 4.2
 * getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
 * getmetadata-option  = "MAXSIZE" SP number / "DEPTH" SP ("0" / "1" / "infinity")
 * entries     = entry / "(" entry *(SP entry) ")"
 * entry       = astring                   ; "/private/..." or "/shared/..."
 * setmetadata = "SETMETADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"  ; 4.3
 * entry-value = entry SP value
 * value       = nstring / literal8        ; NIL removes the entry
 * metadata-resp = "METADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"   ; 4.4.1
 * resp-text-code =/ "METADATA" SP ("LONGENTRIES" SP number / "MAXSIZE" SP number /
 *                   "TOOMANY" / "NOPRIVATE")
 * ```
 * The mailbox `""` names the server (the user's server entries: every user has her own, as
 * with Dovecot). Entry names are case-insensitive and kept in lower case; values are sent
 * back as literals (literal8 when they hold NUL), as Dovecot 2.3 does. An entry asked for
 * by name (DEPTH 0) that does not exist is answered NIL; DEPTH 1 and infinity add the
 * entries below it that exist. Limits (RFC 5464 4.3 asks for them): a value holds at most
 * {@linkcode MAX_METADATA_VALUE} octets (`NO [METADATA MAXSIZE n]`), a mailbox or the server
 * at most {@linkcode MAX_METADATA_ENTRIES} entries (`NO [METADATA TOOMANY]`); a SETMETADATA
 * that fails changes nothing. `/private` and `/shared` are both kept, so NOPRIVATE never
 * comes. METADATA advertises server annotations too (RFC 5464 1: it includes
 * METADATA-SERVER), which Dovecot advertises alone as well.
 *
 * @module
 */

import {
  AUTHED,
  type AuthedCommandSpec,
  type AuthedSession,
  type CommandResult,
  ImapError,
} from "../context.ts";
import { astring, mailboxName } from "../encoder.ts";
import type { MailboxName, Reader } from "../parser.ts";
import { requireMailbox, validName } from "./mailbox.ts";

/** Most octets one entry's value may hold. */
export const MAX_METADATA_VALUE = 16 * 1024;
/** Most entries one mailbox, or the server, may hold (per user). */
export const MAX_METADATA_ENTRIES = 256;
/** Longest entry name, in octets. */
const MAX_ENTRY_NAME = 1024;

type Depth = 0 | 1 | "infinity";

/**
 * The mailbox argument, once the command is read: `""` is the server (null), else the
 * mailbox's canonical name, or `NO [NONEXISTENT]`.
 */
function targetOf(session: AuthedSession, argument: MailboxName): string | null {
  if (argument.invalid === null && argument.name === "") return null;
  return requireMailbox(session, validName(argument, "NONEXISTENT")).name;
}

/**
 * An entry name (RFC 5464 3.2), lower-cased: `/private` or `/shared` and more `/`-separated
 * components, no `*` or `%`, no empty component, no trailing `/`, printable ASCII.
 */
function readEntry(reader: Reader): string {
  const name = reader.readAstring().toLowerCase();
  const bad = (why: string) => new ImapError("BAD", null, `Invalid entry name ${name}: ${why}`);
  if (name.length > MAX_ENTRY_NAME) throw bad(`longer than ${MAX_ENTRY_NAME} octets`);
  if (
    name !== "/private" && name !== "/shared" && !name.startsWith("/private/") &&
    !name.startsWith("/shared/")
  ) throw bad("it must begin with /private or /shared");
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x2a || c === 0x25) {
      throw bad("only printable ASCII other than * and %");
    }
    if (c === 0x2f && (i === name.length - 1 || name.charCodeAt(i + 1) === 0x2f)) {
      throw bad("empty component");
    }
  }
  return name;
}

function readOptions(reader: Reader): { maxSize: number | null; depth: Depth } {
  const options = { maxSize: null as number | null, depth: 0 as Depth };
  if (reader.peek() !== "(") return options;
  reader.expect("(");
  do {
    if (reader.tryKeyword("MAXSIZE")) {
      reader.sp();
      options.maxSize = reader.readNumber();
    } else if (reader.tryKeyword("DEPTH")) {
      reader.sp();
      const depth = reader.readAtom().toLowerCase();
      if (depth !== "0" && depth !== "1" && depth !== "infinity") {
        throw new ImapError("BAD", null, "DEPTH must be 0, 1 or infinity");
      }
      options.depth = depth === "infinity" ? "infinity" : Number(depth) as 0 | 1;
    } else throw reader.error(`Unknown GETMETADATA option: ${reader.peekWord()}`);
  } while (reader.maybeSp());
  reader.expect(")");
  reader.sp();
  return options;
}

/** The entries `name` (DEPTH 0) and below it that DEPTH asks for, in name order. */
function selectEntries(
  entries: ReadonlyMap<string, Uint8Array>,
  name: string,
  depth: Depth,
): Array<[string, Uint8Array | null]> {
  const found: Array<[string, Uint8Array | null]> = [];
  const own = entries.get(name);
  if (own || depth === 0) found.push([name, own ?? null]);
  if (depth === 0) return found;
  const prefix = name + "/";
  for (const [entry, value] of [...entries].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    if (!entry.startsWith(prefix)) continue;
    if (depth === 1 && entry.indexOf("/", prefix.length) >= 0) continue;
    found.push([entry, value]);
  }
  return found;
}

function getMetadata(session: AuthedSession, reader: Reader): CommandResult | void {
  reader.sp();
  const { maxSize, depth } = readOptions(reader);
  const argument = reader.readMailboxName(session.utf8);
  reader.sp();
  const names: string[] = [];
  if (reader.peek() === "(") {
    reader.expect("(");
    do names.push(readEntry(reader)); while (reader.maybeSp());
    reader.expect(")");
  } else names.push(readEntry(reader));
  reader.end();
  const target = targetOf(session, argument);
  const entries = session.ctx.store.getMetadata(session.user, target);
  let longest = 0;
  const parts: Array<string | Uint8Array> = [];
  const seen = new Set<string>();
  for (const name of names) {
    for (const [entry, value] of selectEntries(entries, name, depth)) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      if (value && maxSize !== null && value.length > maxSize) {
        longest = Math.max(longest, value.length);
        continue;
      }
      parts.push(parts.length > 0 ? " " : "", astring(entry, false), " ", ...valueParts(value));
    }
  }
  if (parts.length > 0) {
    session.out.push(
      "* METADATA ",
      target === null ? '""' : mailboxName(target, session.utf8),
      " (",
      ...parts,
      ")\r\n",
    );
  }
  // RFC 5464 4.2.1: the size of the longest entry left out for MAXSIZE.
  if (longest > 0) return { code: `METADATA LONGENTRIES ${longest}` };
}

/** A value as a literal (literal8 when it holds NUL), NIL for none. */
function valueParts(value: Uint8Array | null): Array<string | Uint8Array> {
  if (!value) return ["NIL"];
  return [`${value.includes(0) ? "~" : ""}{${value.length}}\r\n`, value];
}

function setMetadata(session: AuthedSession, reader: Reader): void {
  reader.sp();
  const argument = reader.readMailboxName(session.utf8);
  reader.sp();
  reader.expect("(");
  const changes: Array<[string, Uint8Array | null]> = [];
  if (reader.peek() !== ")") {
    do {
      const name = readEntry(reader);
      if (!reader.maybeSp()) throw new ImapError("BAD", null, `Entry value missing for ${name}`);
      changes.push([name, readValue(reader)]);
    } while (reader.maybeSp());
  }
  reader.expect(")");
  reader.end();
  const store = session.ctx.store;
  const mailbox = targetOf(session, argument);
  const tooLong = changes.find(([, value]) => value && value.length > MAX_METADATA_VALUE);
  if (tooLong) {
    throw new ImapError(
      "NO",
      `METADATA MAXSIZE ${MAX_METADATA_VALUE}`,
      `The value of ${tooLong[0]} is over ${MAX_METADATA_VALUE} octets`,
    );
  }
  const after = new Set(store.getMetadata(session.user, mailbox).keys());
  for (const [name, value] of changes) value ? after.add(name) : after.delete(name);
  if (after.size > MAX_METADATA_ENTRIES) {
    throw new ImapError(
      "NO",
      "METADATA TOOMANY",
      `At most ${MAX_METADATA_ENTRIES} entries per mailbox and for the server`,
    );
  }
  store.setMetadata(session.user, mailbox, changes);
}

/** `nstring / literal8` as bytes; null for NIL. */
function readValue(reader: Reader): Uint8Array | null {
  if (reader.tryKeyword("NIL")) return null;
  if (reader.peek() === "~") return reader.readLiteralBytes();
  const value = reader.readString();
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

export const METADATA_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["GETMETADATA", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["METADATA"],
    run: getMetadata,
  }],
  ["SETMETADATA", { states: AUTHED, allowExpunge: true, run: setMetadata }],
];
