/**
 * SORT criteria and comparators (RFC 5256 3, RFC 5957 for DISPLAYFROM/DISPLAYTO):
 *
 * ```abnf
 * sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key
 * sort-key      = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO"
 *                 / "DISPLAYFROM" / "DISPLAYTO"
 * ```
 * The keys, as Dovecot 2.3 computes them:
 * - SUBJECT: the base subject (RFC 5256 2.1, base_subject.ts);
 * - FROM, TO, CC: the local part of the field's first address (a group's name when the
 *   field starts with a group), `""` without the field;
 * - DISPLAYFROM, DISPLAYTO: the first address's decoded display name, or its
 *   `local@domain` when it has none (RFC 5957 3);
 * - DATE: the `Date:` instant in UTC, or INTERNALDATE when the field is missing or not a
 *   date (RFC 5256 2.2); ARRIVAL: INTERNALDATE; SIZE: RFC822.SIZE.
 * Strings compare with the `i;unicode-casemap` comparator (RFC 5051: titlecased and
 * decomposed, then by code point), as Dovecot does; for ASCII text it orders exactly as
 * RFC 5256's `i;ascii-casemap`. Messages equal on every key keep sequence order.
 *
 * The string keys of a message are computed once and kept in its MIME index's memo, so a
 * repeated SORT only compares.
 *
 * @module
 */

import { type AddressEntry, parseAddressList } from "../mail/address.ts";
import { baseSubject } from "../mail/base_subject.ts";
import { decodeEncodedWords, headerValue } from "../mail/headers.ts";
import type { MessageIndex } from "../mail/message_index.ts";
import { sentDate } from "../mail/sent_date.ts";
import type { Reader } from "./parser.ts";

/** A SORT key (RFC 5256 3, RFC 5957). */
export type SortKey =
  | "ARRIVAL"
  | "CC"
  | "DATE"
  | "FROM"
  | "SIZE"
  | "SUBJECT"
  | "TO"
  | "DISPLAYFROM"
  | "DISPLAYTO";

/** One sort criterion. */
export interface SortCriterion {
  readonly key: SortKey;
  readonly reverse: boolean;
}

const SORT_KEYS: ReadonlySet<string> = new Set([
  "ARRIVAL",
  "CC",
  "DATE",
  "FROM",
  "SIZE",
  "SUBJECT",
  "TO",
  "DISPLAYFROM",
  "DISPLAYTO",
]);

/**
 * Reads `sort-criteria` (RFC 5256 5).
 *
 * @example
 * ```ts
 * readSortCriteria(reader); // on "(REVERSE DATE SUBJECT)"
 * // [{ key: "DATE", reverse: true }, { key: "SUBJECT", reverse: false }]
 * ```
 */
export function readSortCriteria(reader: Reader): SortCriterion[] {
  reader.expect("(");
  const criteria: SortCriterion[] = [];
  do {
    if (reader.peek() === ")" || reader.peek() === " ") {
      throw reader.error(`Expected a sort key but found ${reader.peekWord()}`);
    }
    let word = reader.readAtom().toUpperCase();
    let reverse = false;
    if (word === "REVERSE") {
      reverse = true;
      reader.sp();
      word = reader.readAtom().toUpperCase();
    }
    if (!SORT_KEYS.has(word)) throw reader.error(`Unknown sort key: ${word}`);
    criteria.push({ key: word as SortKey, reverse });
  } while (reader.maybeSp());
  reader.expect(")");
  return criteria;
}

/** What SORT knows of a message besides its index. */
export interface SortItem {
  readonly seq: number;
  readonly uid: number;
  /** INTERNALDATE, ms since the epoch. */
  readonly internalDate: number;
  readonly size: number;
}

/** The header-derived keys of one message, folded for comparison. */
export interface SortFields {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly displayFrom: string;
  readonly displayTo: string;
  /** The `Date:` instant, or null when missing or unreadable. */
  readonly date: number | null;
}

const FIELDS = Symbol("sort fields");

/** The sort keys of a message, computed once per index. */
export function sortFields(index: MessageIndex): SortFields {
  return index.memo(FIELDS, () => {
    const fields = index.root.fields;
    const subject = headerValue(fields, "Subject");
    const date = headerValue(fields, "Date");
    const first = (name: string) => firstAddress(headerValue(fields, name));
    const from = first("From");
    const to = first("To");
    return {
      subject: subject === undefined ? "" : casemap(baseSubject(subject).subject),
      from: casemap(localPart(from)),
      to: casemap(localPart(to)),
      cc: casemap(localPart(first("Cc"))),
      displayFrom: casemap(displayName(from)),
      displayTo: casemap(displayName(to)),
      date: date === undefined ? null : sentDate(date),
    };
  });
}

function firstAddress(value: string | undefined): AddressEntry | null {
  if (value === undefined) return null;
  return parseAddressList(value)[0] ?? null;
}

/** RFC 5256 3: the `addr-mailbox` of the first address, unquoted. */
function localPart(entry: AddressEntry | null): string {
  if (entry === null || entry.kind === "end") return "";
  if (entry.kind === "group") return entry.name;
  return unquote(entry.mailbox);
}

/** RFC 5957 3: the display name, else the address. */
function displayName(entry: AddressEntry | null): string {
  if (entry === null || entry.kind === "end") return "";
  if (entry.kind === "group") return entry.name;
  const name = entry.name === null ? "" : decodeEncodedWords(entry.name);
  if (name !== "") return name;
  return `${unquote(entry.mailbox)}@${entry.host}`;
}

function unquote(local: string): string {
  if (!local.startsWith('"')) return local;
  let out = "";
  for (let i = 1; i < local.length; i++) {
    const ch = local[i];
    if (ch === "\\" && i + 1 < local.length) out += local[++i];
    else if (ch !== '"') out += ch;
  }
  return out;
}

/**
 * The `i;unicode-casemap` form of a string (RFC 5051 2): each character titlecased (its
 * simple upper-case mapping) and decomposed; ASCII is just upper-cased.
 *
 * The result is a comparison key, never shown: JavaScript compares strings by UTF-16 code
 * unit, which differs from code point order (Dovecot's, comparing UTF-8) only where a
 * character above U+FFFF meets one in U+E000-U+FFFF. Those are written as U+DBFF followed
 * by themselves, which sorts them after every surrogate pair and keeps their own order, so
 * plain `<` on keys is code point order.
 */
export function casemap(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toUpperCase();
  let out = "";
  for (const ch of text.normalize("NFKD")) {
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  let key = "";
  for (const ch of out.normalize("NFKD")) {
    const unit = ch.charCodeAt(0);
    key += ch.length === 1 && unit >= 0xe000 ? `\udbff${ch}` : ch;
  }
  return key;
}

/** Order of two {@linkcode casemap} keys (code point order of the folded text). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One criterion's value for a message: a number, or a casemap key. */
function keyValue(key: SortKey, item: SortItem, fields: SortFields): number | string {
  switch (key) {
    case "ARRIVAL":
      return item.internalDate;
    case "SIZE":
      return item.size;
    case "DATE":
      return fields.date ?? item.internalDate;
    case "SUBJECT":
      return fields.subject;
    case "FROM":
      return fields.from;
    case "TO":
      return fields.to;
    case "CC":
      return fields.cc;
    case "DISPLAYFROM":
      return fields.displayFrom;
    case "DISPLAYTO":
      return fields.displayTo;
  }
}

/**
 * `items` sorted by `criteria` (a new array); messages equal on every criterion keep
 * sequence order, also under REVERSE (as Dovecot). Each item's fields are looked up once,
 * and only when a criterion reads the header; the sort then compares plain values in
 * columns, so a repeated SORT costs little more than writing its result.
 *
 * @example
 * ```ts
 * sortItems(items, [{ key: "DATE", reverse: true }], (item) => sortFields(indexOf(item)));
 * ```
 */
export function sortItems<T extends SortItem>(
  items: readonly T[],
  criteria: readonly SortCriterion[],
  fieldsOf: (item: T) => SortFields,
): T[] {
  const needsFields = criteria.some(({ key }) => key !== "ARRIVAL" && key !== "SIZE");
  const fields = items.map((item) => needsFields ? fieldsOf(item) : NO_FIELDS);
  const columns = criteria.map(({ key, reverse }) => ({
    values: items.map((item, i) => keyValue(key, item, fields[i])),
    sign: reverse ? -1 : 1,
  }));
  const order = items.map((_, i) => i);
  order.sort((a, b) => {
    for (const { values, sign } of columns) {
      const x = values[a];
      const y = values[b];
      if (x !== y) return x < y ? -sign : sign;
    }
    return items[a].seq - items[b].seq;
  });
  return order.map((i) => items[i]);
}

/** No header fields: stands in when the criteria use none (ARRIVAL, SIZE). */
export const NO_FIELDS: SortFields = {
  subject: "",
  from: "",
  to: "",
  cc: "",
  displayFrom: "",
  displayTo: "",
  date: null,
};
