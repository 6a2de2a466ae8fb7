/**
 * SEARCH programs (RFC 9051 6.4.4, 9; ESEARCH return options, RFC 9051 6.4.4.1):
 *
 * ```abnf
 * search         = "SEARCH" [search-return-opts] SP search-program
 * search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
 * search-return-opt = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE" / search-ret-opt-ext
 * search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
 * search-key     = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date /
 *                  "BODY" SP astring / "CC" SP astring / "DELETED" / "FLAGGED" /
 *                  "FROM" SP astring / "KEYWORD" SP flag-keyword / "ON" SP date / "SEEN" /
 *                  "SINCE" SP date / "SUBJECT" SP astring / "TEXT" SP astring /
 *                  "TO" SP astring / "UNANSWERED" / "UNDELETED" / "UNFLAGGED" /
 *                  "UNKEYWORD" SP flag-keyword / "UNSEEN" / "DRAFT" /
 *                  "HEADER" SP header-fld-name SP astring / "LARGER" SP number64 /
 *                  "NOT" SP search-key / "OR" SP search-key SP search-key /
 *                  "SENTBEFORE" SP date / "SENTON" SP date / "SENTSINCE" SP date /
 *                  "SMALLER" SP number64 / "UID" SP sequence-set / "UNDRAFT" /
 *                  sequence-set / "(" search-key *(SP search-key) ")"
 * search-key     =/ "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer  ; RFC 7162 3.1.5
 * search-key     =/ "OLDER" SP nz-number / "YOUNGER" SP nz-number     ; RFC 5032 4
 * search-key     =/ "SAVEDBEFORE" SP date / "SAVEDON" SP date /
 *                   "SAVEDSINCE" SP date / "SAVEDATESUPPORTED"         ; RFC 8514 5
 * search-modseq-ext = SP entry-name SP entry-type-req
 * entry-name     = DQUOTE "/flags/" attr-flag DQUOTE
 * entry-type-req = "priv" / "shared" / "all"
 * search-key     =/ "EMAILID" SP objectid / "THREADID" SP objectid      ; RFC 8474 6
 * ```
 * The MODSEQ entry name and type are checked and then ignored: the store keeps one MODSEQ
 * per message, not one per flag (as Dovecot).
 * IMAP4rev1's NEW, OLD and RECENT are read too; the session decides what they mean. RETURN
 * options other than those of search_return.ts are refused here, as RFC 4466 2.6.1 asks of
 * options a server does not support. OLDER and YOUNGER take 1 to 2^32-1 seconds (Dovecot
 * refuses 0 with BAD, as `nz-number` does). Every mailbox keeps save dates, so
 * SAVEDATESUPPORTED matches every message (RFC 8514 5).
 *
 * @module
 */

import { readModSequence } from "./parse_modseq.ts";
import { isObjectId } from "./object_id.ts";
import { type PartialRange, readReturnRequest } from "./search_return.ts";
import type { ImapDate } from "./datetime.ts";
import type { Reader } from "./parser.ts";
import type { SequenceSet } from "./sequence.ts";

/**
 * A parsed search key. Header names for BCC/CC/FROM/SUBJECT/TO come upper-cased; BCC, CC,
 * FROM and TO are `address` keys, which match the parsed addresses as well as the header
 * text (RFC 9051 6.4.4: "the envelope structure's" field), where HEADER and SUBJECT match
 * the header text only.
 */
export type SearchKey =
  | { type: "and"; keys: SearchKey[] }
  | { type: "or"; a: SearchKey; b: SearchKey }
  | { type: "not"; key: SearchKey }
  | { type: "seq"; set: SequenceSet }
  | { type: "uid"; set: SequenceSet }
  | { type: "flag"; flag: string; present: boolean }
  | { type: "header"; field: string; value: string }
  | { type: "address"; field: "BCC" | "CC" | "FROM" | "TO"; value: string }
  | { type: "body" | "text"; value: string }
  | {
    type: "date";
    which: "internal" | "sent" | "saved";
    op: "before" | "on" | "since";
    date: ImapDate;
  }
  | { type: "within"; op: "older" | "younger"; seconds: number }
  | { type: "size"; op: "larger" | "smaller"; size: number }
  | { type: "all" }
  | { type: "new" | "old" | "recent" }
  | { type: "modseq"; modseq: number }
  | { type: "emailid" | "threadid"; id: string };

export interface SearchProgram {
  /** The CHARSET argument, upper-cased, or null when absent. */
  charset: string | null;
  /** RETURN options upper-cased (`[]` for `RETURN ()`), or null when absent. */
  returnOptions: string[] | null;
  /** The range of the PARTIAL return option (RFC 9394), or null. */
  partial: PartialRange | null;
  key: SearchKey;
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

const ADDRESS_KEYS = new Set(["BCC", "CC", "FROM", "TO"]);
const DATE_KEYS: Record<string, ["internal" | "sent" | "saved", "before" | "on" | "since"]> = {
  BEFORE: ["internal", "before"],
  ON: ["internal", "on"],
  SINCE: ["internal", "since"],
  SENTBEFORE: ["sent", "before"],
  SENTON: ["sent", "on"],
  SENTSINCE: ["sent", "since"],
  SAVEDBEFORE: ["saved", "before"],
  SAVEDON: ["saved", "on"],
  SAVEDSINCE: ["saved", "since"],
};
/** Nesting limit for parentheses, NOT and OR, so hostile input cannot blow the stack. */
const MAX_DEPTH = 64;
/**
 * Most search keys in one program (parentheses, NOT and OR count too). Evaluation costs up to
 * one pass over the mailbox per key, so this bounds the work one command can ask for; real
 * clients send a handful, or a few hundred in generated OR chains.
 */
export const MAX_SEARCH_KEYS = 1000;

/**
 * Called once RETURN and CHARSET are read, before any search key: a command can refuse an
 * unknown charset before reading strings in it (RFC 9051 6.4.4: `NO [BADCHARSET]`, not BAD)
 * and learn of SAVE even when a later key is malformed (RFC 5182 2.1).
 */
export type SearchPrefixHook = (prefix: Omit<SearchProgram, "key">) => void;

/**
 * Reads the rest of a SEARCH command after `SEARCH SP` (or `UID SEARCH SP`), through the end
 * of the command. Several top-level keys become one `and`.
 *
 * @example
 * ```ts
 * readSearchProgram(reader); // on "RETURN (COUNT) CHARSET UTF-8 UNSEEN FROM \"bob\""
 * ```
 */
export function readSearchProgram(reader: Reader, onPrefix?: SearchPrefixHook): SearchProgram {
  const request = readReturnRequest(reader);
  if (request) reader.sp();
  const returnOptions = request ? [...request.options] : null;
  const partial = request?.partial ?? null;
  let charset: string | null = null;
  if (reader.tryKeyword("CHARSET")) {
    reader.sp();
    charset = reader.readAstring().toUpperCase();
    reader.sp();
  }
  onPrefix?.({ charset, returnOptions, partial });
  return { charset, returnOptions, partial, key: readSearchKeys(reader) };
}

/**
 * Reads `search-key *(SP search-key)` through the end of the command (SORT and THREAD put
 * their own arguments before it, RFC 5256 5). Several keys become one `and`.
 */
export function readSearchKeys(reader: Reader): SearchKey {
  const keys: SearchKey[] = [];
  const budget = { keys: MAX_SEARCH_KEYS };
  do keys.push(readSearchKey(reader, 0, budget)); while (reader.maybeSp());
  reader.end();
  return keys.length === 1 ? keys[0] : { type: "and", keys };
}

/** `entry-name SP entry-type-req SP` of SEARCH MODSEQ (RFC 7162 3.1.5). */
function readEntry(reader: Reader): void {
  const name = reader.readString();
  const text = typeof name === "string" ? name : "";
  if (!text.toLowerCase().startsWith("/flags/") || text.length === 7) {
    throw reader.error(`Invalid MODSEQ entry name: ${JSON.stringify(text)}`);
  }
  reader.sp();
  const type = reader.readAtom().toLowerCase();
  if (type !== "priv" && type !== "shared" && type !== "all") {
    throw reader.error(`Invalid MODSEQ entry type: ${type} (priv, shared or all)`);
  }
  reader.sp();
}

/** Whether a search program uses the MODSEQ key (RFC 7162 3.1.5: the result gets MODSEQ). */
export function usesModseq(key: SearchKey): boolean {
  return usesKey(key, "modseq");
}

/** Whether a search program uses a key of the given type anywhere. */
export function usesKey(key: SearchKey, type: SearchKey["type"]): boolean {
  if (key.type === type) return true;
  switch (key.type) {
    case "and":
      return key.keys.some((inner) => usesKey(inner, type));
    case "or":
      return usesKey(key.a, type) || usesKey(key.b, type);
    case "not":
      return usesKey(key.key, type);
    default:
      return false;
  }
}

/** One `search-key`, within the nesting and key-count limits. */
function readSearchKey(reader: Reader, depth: number, budget: { keys: number }): SearchKey {
  if (depth > MAX_DEPTH) throw reader.error("Search program nested too deeply");
  if (--budget.keys < 0) {
    throw reader.error(`Search program has too many keys (limit ${MAX_SEARCH_KEYS})`);
  }
  const next = reader.peek();
  if (next === "(") {
    reader.expect("(");
    const keys: SearchKey[] = [];
    do keys.push(readSearchKey(reader, depth + 1, budget)); while (reader.maybeSp());
    reader.expect(")");
    return keys.length === 1 ? keys[0] : { type: "and", keys };
  }
  if (next === "$" || next === "*" || (next >= "0" && next <= "9")) {
    return { type: "seq", set: reader.readSequenceSet() };
  }
  if (next === "" || next === ")" || next === " " || next === '"' || next === "{") {
    throw reader.error(`Expected a search key but found ${reader.peekWord()}`);
  }
  const word = reader.readAtom().toUpperCase();
  const arg = () => {
    reader.sp();
    return reader.readAstring();
  };
  if (word in FLAG_KEYS) {
    const [flag, present] = FLAG_KEYS[word];
    return { type: "flag", flag, present };
  }
  if (ADDRESS_KEYS.has(word)) {
    return { type: "address", field: word as "BCC" | "CC" | "FROM" | "TO", value: arg() };
  }
  if (word === "SUBJECT") return { type: "header", field: word, value: arg() };
  if (word in DATE_KEYS) {
    const [which, op] = DATE_KEYS[word];
    reader.sp();
    return { type: "date", which, op, date: reader.readDate() };
  }
  switch (word) {
    case "ALL":
    case "SAVEDATESUPPORTED":
      return { type: "all" };
    case "OLDER":
    case "YOUNGER":
      reader.sp();
      return {
        type: "within",
        op: word === "OLDER" ? "older" : "younger",
        seconds: reader.readNzNumber(),
      };
    case "NEW":
    case "OLD":
    case "RECENT":
      return { type: word.toLowerCase() as "new" | "old" | "recent" };
    case "BODY":
    case "TEXT":
      return { type: word === "BODY" ? "body" : "text", value: arg() };
    case "KEYWORD":
    case "UNKEYWORD": {
      reader.sp();
      if (reader.peek() === "\\") {
        throw reader.error(`${word} takes a keyword; search system flags with their own keys`);
      }
      return { type: "flag", flag: reader.readAtom(), present: word === "KEYWORD" };
    }
    case "HEADER":
      // Any astring: one no field can have ("", "Bad:Name") matches nothing (search.ts), as
      // Dovecot answers it, rather than BAD.
      return { type: "header", field: arg(), value: arg() };
    case "LARGER":
    case "SMALLER":
      reader.sp();
      return {
        type: "size",
        op: word === "LARGER" ? "larger" : "smaller",
        size: reader.readNumber(Number.MAX_SAFE_INTEGER),
      };
    case "NOT":
      reader.sp();
      return { type: "not", key: readSearchKey(reader, depth + 1, budget) };
    case "OR": {
      reader.sp();
      const a = readSearchKey(reader, depth + 1, budget);
      reader.sp();
      return { type: "or", a, b: readSearchKey(reader, depth + 1, budget) };
    }
    case "UID":
      reader.sp();
      return { type: "uid", set: reader.readSequenceSet() };
    case "MODSEQ":
      reader.sp();
      if (reader.peek() === '"') readEntry(reader);
      return { type: "modseq", modseq: readModSequence(reader, true) };
    case "EMAILID":
    case "THREADID": {
      reader.sp();
      const id = reader.readAtom();
      if (!isObjectId(id)) throw reader.error(`Invalid ${word}: ${JSON.stringify(id)}`);
      return { type: word === "EMAILID" ? "emailid" : "threadid", id };
    }
  }
  throw reader.error(`Unknown search key: ${word}`);
}
