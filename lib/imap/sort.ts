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
  return out.normalize("NFKD");
}

/** Code point order of two strings (UTF-16 order differs only above U+D7FF). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP character.
    const sx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x;
    const sy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y;
    return sx < sy ? -1 : 1;
  }
  return a.length - b.length;
}

/** The comparator of a criteria list; equal messages keep sequence order. */
export function sortComparator<T extends SortItem>(
  criteria: readonly SortCriterion[],
  fieldsOf: (item: T) => SortFields,
): (a: T, b: T) => number {
  const compares = criteria.map(({ key, reverse }) => {
    const compare = keyComparator(key, fieldsOf);
    return reverse ? (a: T, b: T) => compare(b, a) : compare;
  });
  return (a, b) => {
    for (const compare of compares) {
      const order = compare(a, b);
      if (order !== 0) return order;
    }
    return a.seq - b.seq;
  };
}

function keyComparator<T extends SortItem>(
  key: SortKey,
  fieldsOf: (item: T) => SortFields,
): (a: T, b: T) => number {
  const text = (pick: (fields: SortFields) => string) => (a: T, b: T) =>
    compareStrings(pick(fieldsOf(a)), pick(fieldsOf(b)));
  switch (key) {
    case "ARRIVAL":
      return (a, b) => a.internalDate - b.internalDate;
    case "SIZE":
      return (a, b) => a.size - b.size;
    case "DATE": {
      const date = (item: T) => fieldsOf(item).date ?? item.internalDate;
      return (a, b) => date(a) - date(b);
    }
    case "SUBJECT":
      return text((fields) => fields.subject);
    case "FROM":
      return text((fields) => fields.from);
    case "TO":
      return text((fields) => fields.to);
    case "CC":
      return text((fields) => fields.cc);
    case "DISPLAYFROM":
      return text((fields) => fields.displayFrom);
    case "DISPLAYTO":
      return text((fields) => fields.displayTo);
  }
}

/**
 * `items` sorted by `criteria` (a new array). Each item's fields are looked up once, and
 * only when a criterion reads the header.
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
  const decorated = items.map((item) => ({
    seq: item.seq,
    uid: item.uid,
    internalDate: item.internalDate,
    size: item.size,
    item,
    fields: needsFields ? fieldsOf(item) : NO_FIELDS,
  }));
  decorated.sort(sortComparator(criteria, (entry) => entry.fields));
  return decorated.map((entry) => entry.item);
}

const NO_FIELDS: SortFields = {
  subject: "",
  from: "",
  to: "",
  cc: "",
  displayFrom: "",
  displayTo: "",
  date: null,
};
