/**
 * FETCH data items (RFC 9051 6.4.5, 9):
 *
 * ```abnf
 * fetch-att  = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".TEXT"] /
 *              "RFC822.SIZE" / "BODY" ["STRUCTURE"] / "UID" /
 *              "BODY" section [partial] / "BODY.PEEK" section [partial] /
 *              "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary
 * section    = "[" [section-spec] "]"
 * section-spec = section-msgtext / (section-part ["." section-text])
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 * section-part = nz-number *("." nz-number)
 * section-text = section-msgtext / "MIME"
 * section-binary = "[" [section-part] "]"
 * header-list = "(" header-fld-name *(SP header-fld-name) ")"
 * partial    = "<" number64 "." nz-number64 ">"
 * fetch-att  =/ "MODSEQ"                                           ; RFC 7162 3.1.4.1
 * fetch-att  =/ "SAVEDATE"                                         ; RFC 8514 4
 * fetch-att  =/ "EMAILID" / "THREADID"                            ; RFC 8474 7
 * fetch-att  =/ "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]  ; RFC 8970 7
 * preview-mod = "LAZY"
 * fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"  ; RFC 4466 2.4
 * fetch-modifier  = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED"  ; RFC 7162 3.1.4, 3.2.6
 * fetch-modifier  =/ "PARTIAL" SP partial-range                      ; RFC 9394
 * ```
 * Macros ALL, FAST and FULL stand alone, never inside a list.
 *
 * @module
 */

import { type PartialRange as PageRange, readPartialRange } from "./search_return.ts";
import { readModSequence } from "./parse_modseq.ts";
import type { Reader } from "./parser.ts";

/** `section-spec`; `part` is empty for the whole message. */
export interface Section {
  part: number[];
  text: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME" | null;
  fields: string[];
}

/** `partial` (RFC 9051 9): `<offset.length>` of a BODY[...] or BINARY[...] item. */
export interface PartialRange {
  offset: number;
  length: number;
}

/** One requested item; `raw` is the item's text as the client sent it. */
export type FetchAttribute =
  | {
    kind:
      | "FLAGS"
      | "UID"
      | "INTERNALDATE"
      | "SAVEDATE"
      | "RFC822.SIZE"
      | "RFC822"
      | "RFC822.HEADER"
      | "RFC822.TEXT"
      | "ENVELOPE"
      | "BODYSTRUCTURE"
      | "BODY"
      | "MODSEQ"
      | "EMAILID"
      | "THREADID"
      | "PREVIEW";
    raw?: string;
  }
  | { kind: "BODY"; peek: boolean; section: Section; partial: PartialRange | null; raw?: string }
  | { kind: "BINARY"; peek: boolean; part: number[]; partial: PartialRange | null; raw?: string }
  | { kind: "BINARY.SIZE"; part: number[]; raw?: string };

/**
 * Most `fetch-att` items one FETCH may name; a repeated item counts each time. Each item may
 * send a whole message, so this bounds what one command line (up to 64 KiB, thousands of
 * items) can make the server produce. Real clients name a handful (imapflow, Thunderbird,
 * Apple Mail: under 20; one BODY.PEEK[n.MIME] per part of a many-part message stays far
 * below), so the limit is generous; past it the command is refused whole with `BAD`, as
 * Dovecot refuses commands past its limits, rather than answering part of it.
 */
export const MAX_FETCH_ITEMS = 256;

const SIMPLE = [
  "FLAGS",
  "UID",
  "INTERNALDATE",
  "SAVEDATE",
  "RFC822.SIZE",
  "RFC822.HEADER",
  "RFC822.TEXT",
  "RFC822",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "MODSEQ",
  "EMAILID",
  "THREADID",
] as const;

const MACROS: Record<string, FetchAttribute["kind"][]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

/**
 * Reads a macro, one item, or a parenthesised list of items (the caller has read the SP
 * before it).
 *
 * @example
 * ```ts
 * readFetchAttributes(reader); // on "(UID BODY.PEEK[HEADER]<0.100>)"
 * ```
 */
export function readFetchAttributes(reader: Reader): FetchAttribute[] {
  if (reader.peek() === "(") {
    reader.expect("(");
    const items: FetchAttribute[] = [];
    do {
      if (items.length === MAX_FETCH_ITEMS) {
        throw reader.error(`Too many FETCH items (limit ${MAX_FETCH_ITEMS})`);
      }
      items.push(readFetchAttribute(reader));
    } while (reader.maybeSp());
    reader.expect(")");
    return items;
  }
  for (const [name, kinds] of Object.entries(MACROS)) {
    if (reader.tryKeyword(name)) {
      return kinds.map((kind) => ({ kind, raw: kind }) as FetchAttribute);
    }
  }
  return [readFetchAttribute(reader)];
}

/**
 * FETCH's modifiers (RFC 7162): CHANGEDSINCE's value (null: none), and VANISHED; PARTIAL's
 * range (RFC 9394: a page of the messages named, null: all).
 */
export interface FetchModifiers {
  changedSince: number | null;
  vanished: boolean;
  partial: PageRange | null;
}

/**
 * Reads the optional `fetch-modifiers` after the items. `CHANGEDSINCE 0` is a syntax error:
 * its value is a `mod-sequence-value`, which is positive (RFC 7162 7).
 */
export function readFetchModifiers(reader: Reader): FetchModifiers {
  const modifiers: FetchModifiers = { changedSince: null, vanished: false, partial: null };
  if (!reader.maybeSp()) return modifiers;
  reader.expect("(");
  do {
    if (reader.tryKeyword("CHANGEDSINCE")) {
      reader.sp();
      modifiers.changedSince = readModSequence(reader, false);
    } else if (reader.tryKeyword("VANISHED")) modifiers.vanished = true;
    else if (reader.tryKeyword("PARTIAL")) {
      reader.sp();
      modifiers.partial = readPartialRange(reader);
    } else throw reader.error(`Unknown FETCH modifier: ${reader.peekWord()}`);
  } while (reader.maybeSp());
  reader.expect(")");
  return modifiers;
}

/** One `fetch-att`. */
export function readFetchAttribute(reader: Reader): FetchAttribute {
  const start = reader.position;
  const item = readItem(reader);
  item.raw = reader.slice(start, reader.position);
  return item;
}

function readItem(reader: Reader): FetchAttribute {
  for (const kind of SIMPLE) if (reader.tryKeyword(kind)) return { kind };
  if (reader.tryKeyword("PREVIEW")) {
    readPreviewModifiers(reader);
    return { kind: "PREVIEW" };
  }
  if (reader.tryKeyword("BINARY.SIZE")) {
    return { kind: "BINARY.SIZE", part: readBinarySection(reader) };
  }
  const peek = reader.tryKeyword("BINARY.PEEK");
  if (peek || reader.tryKeyword("BINARY")) {
    const part = readBinarySection(reader);
    return { kind: "BINARY", peek, part, partial: readPartial(reader) };
  }
  if (reader.tryKeyword("BODY.PEEK")) {
    if (reader.peek() !== "[") throw reader.error("Expected [ after BODY.PEEK");
    return { kind: "BODY", peek: true, section: readSection(reader), partial: readPartial(reader) };
  }
  if (reader.tryKeyword("BODY")) {
    if (reader.peek() !== "[") return { kind: "BODY" };
    return {
      kind: "BODY",
      peek: false,
      section: readSection(reader),
      partial: readPartial(reader),
    };
  }
  throw reader.error(`Unknown FETCH item: ${reader.peekWord()}`);
}

/**
 * PREVIEW's optional `(LAZY)` (RFC 8970 3.2). LAZY lets a server answer NIL for a preview it
 * would have to compute; this one always has it (from the cached MIME index), so it is read
 * and then has no effect.
 */
function readPreviewModifiers(reader: Reader): void {
  const start = reader.position;
  if (!reader.maybeSp()) return;
  // `FETCH 1 PREVIEW (CHANGEDSINCE 5)`: a list that is not PREVIEW's is the command's.
  if (reader.peek() !== "(") return reader.unread(reader.position - start);
  reader.expect("(");
  if (!reader.tryKeyword("LAZY")) return reader.unread(reader.position - start);
  while (reader.maybeSp()) {
    if (!reader.tryKeyword("LAZY")) {
      throw reader.error(`Unknown PREVIEW modifier: ${reader.peekWord()}`);
    }
  }
  reader.expect(")");
}

function readPart(reader: Reader): number[] {
  const part = [reader.readNzNumber()];
  while (reader.peek() === ".") {
    reader.expect(".");
    if (!/[1-9]/.test(reader.peek())) {
      reader.unread(1);
      break;
    }
    part.push(reader.readNzNumber());
  }
  return part;
}

function readBinarySection(reader: Reader): number[] {
  reader.expect("[");
  const part = reader.peek() === "]" ? [] : readPart(reader);
  reader.expect("]");
  return part;
}

function readSection(reader: Reader): Section {
  reader.expect("[");
  const section: Section = { part: [], text: null, fields: [] };
  if (reader.peek() === "]") {
    reader.expect("]");
    return section;
  }
  if (/[0-9]/.test(reader.peek())) {
    section.part = readPart(reader);
    if (reader.peek() === "]") {
      reader.expect("]");
      return section;
    }
    reader.expect(".");
    if (reader.tryKeyword("MIME")) {
      section.text = "MIME";
      reader.expect("]");
      return section;
    }
  }
  if (reader.tryKeyword("HEADER.FIELDS.NOT")) section.text = "HEADER.FIELDS.NOT";
  else if (reader.tryKeyword("HEADER.FIELDS")) section.text = "HEADER.FIELDS";
  else if (reader.tryKeyword("HEADER")) section.text = "HEADER";
  else if (reader.tryKeyword("TEXT")) section.text = "TEXT";
  else throw reader.error(`Invalid section: ${reader.peekWord()}`);
  if (section.text === "HEADER.FIELDS" || section.text === "HEADER.FIELDS.NOT") {
    reader.sp();
    reader.expect("(");
    do section.fields.push(readHeaderName(reader)); while (reader.maybeSp());
    reader.expect(")");
  }
  reader.expect("]");
  return section;
}

/** `header-fld-name` (an astring) that is also a valid RFC 5322 field name. */
function readHeaderName(reader: Reader): string {
  const name = reader.readAstring();
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
    throw reader.error(`Invalid header field name: ${JSON.stringify(name)}`);
  }
  return name;
}

function readPartial(reader: Reader): PartialRange | null {
  if (reader.peek() !== "<") return null;
  reader.expect("<");
  const offset = reader.readNumber(Number.MAX_SAFE_INTEGER);
  reader.expect(".");
  if (reader.peek() === "0") throw reader.error("Partial length must be non-zero");
  const length = reader.readNumber(Number.MAX_SAFE_INTEGER);
  reader.expect(">");
  return { offset, length };
}

/**
 * The key a response uses for an item (RFC 9051 7.5.2): `.PEEK` dropped, a partial shown as
 * its origin only, keywords upper-cased, header field names as requested.
 *
 * @example
 * ```ts
 * responseKey(item); // "BODY[HEADER.FIELDS (From)]<0>" for BODY.PEEK[header.fields (From)]<0.10>
 * ```
 */
export function responseKey(item: FetchAttribute): string {
  const origin = (partial: PartialRange | null) => partial ? `<${partial.offset}>` : "";
  if ("section" in item) {
    const s = item.section;
    let spec = s.part.join(".");
    if (s.text) spec += (spec ? "." : "") + s.text;
    if (s.fields.length > 0) spec += ` (${s.fields.join(" ")})`;
    return `BODY[${spec}]${origin(item.partial)}`;
  }
  if (item.kind === "BINARY") return `BINARY[${item.part.join(".")}]${origin(item.partial)}`;
  if (item.kind === "BINARY.SIZE") return `BINARY.SIZE[${item.part.join(".")}]`;
  return item.kind;
}
