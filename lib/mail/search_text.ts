/**
 * The text of a message as IMAP SEARCH matches it (RFC 9051 6.4.4): header values with RFC
 * 2047 encoded words decoded, and the bodies of text parts with their transfer encoding and
 * charset removed, all lower-cased once so matching is a plain substring test.
 *
 * Both are derived from the {@linkcode MessageIndex} and kept in its memo, so a repeated
 * SEARCH never re-parses, re-decodes or re-lower-cases a message. Headers and bodies are
 * separate entries: SEARCH FROM never pays for decoding bodies.
 *
 * Memory: only text parts are kept (never the base64 of attachments), once, lower-cased; for
 * typical mail that is the size of its readable text plus its header values.
 *
 * @module
 */

import { MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from "./address.ts";
import { monthNumber } from "./dates.ts";
import { decodeEncodedWords, type HeaderField } from "./headers.ts";
import type { MessageIndex } from "./message_index.ts";
import { decodeBodyText, type MimePart } from "./mime.ts";

/** One top-level header field: name and decoded value, both lower-cased. */
export interface SearchField {
  readonly name: string;
  readonly value: string;
}

/** What SEARCH reads of a message's top-level header. */
export interface SearchHeaders {
  readonly fields: readonly SearchField[];
  /**
   * The calendar day of the `Date:` field as written, in its own time zone (days since
   * 1970-01-01), or null when the field is missing or unreadable.
   */
  readonly sentDay: number | null;
}

/** What BODY and TEXT read of a message, lower-cased. */
export interface SearchText {
  /** `name: value` lines of the message header and of every MIME part header. */
  readonly header: string;
  /**
   * The decoded text of every text part, and the header lines of encapsulated messages
   * (which are part of the outer message's body).
   */
  readonly body: string;
}

const HEADERS = Symbol("search headers");
const TEXT = Symbol("search text");
const ADDRESSES = Symbol("search addresses");

/** The fields whose addresses SEARCH BCC, CC, FROM and TO also match as parsed. */
const ADDRESS_FIELDS: ReadonlySet<string> = new Set(["bcc", "cc", "from", "to"]);
const NO_FIELDS: readonly SearchField[] = [];

/**
 * The decoded, lower-cased header fields of the message, computed once per index.
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"));
 * searchHeaders(index).fields; // [{ name: "subject", value: "grüße" }]
 * ```
 */
export function searchHeaders(index: MessageIndex): SearchHeaders {
  return index.memo(HEADERS, () => {
    const fields = index.root.fields.map(searchField);
    const date = fields.find((field) => field.name === "date");
    return { fields, sentDay: date ? dateDay(date.value) : null };
  });
}

/**
 * The lower-cased header and body text of the message, computed once per index. `raw` gives
 * the message bytes (the index holds offsets only); it is called on the first use only.
 */
export function searchText(index: MessageIndex, raw: () => Uint8Array): SearchText {
  return index.memo(TEXT, () => {
    const bytes = raw();
    const header: string[] = headerLines(index.root.fields);
    const body: string[] = [];
    collectParts(bytes, index.root, header, body);
    return { header: header.join("\n"), body: body.join("\n") };
  });
}

/**
 * What SEARCH BCC, CC, FROM and TO match besides the header text (RFC 9051 6.4.4: "the
 * envelope structure's" field): the addresses of those fields as parsed, comments and
 * folding white space removed (RFC 5322 3.4), each as `name <local@domain>` (`<local@domain>`
 * without a display name; the name decoded), which holds the address, its local part, its
 * domain and its name; group names too. Lower-cased, one per line, so a match never spans
 * two addresses.
 *
 * Only what the field's decoded text lacks is kept: for ordinary headers nothing, so this
 * costs no memory per message. Computed once per index, on the first address search, in
 * time linear in the header (see {@linkcode missingForms}).
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("From: <a (c)@ b.org>\r\n\r\n"));
 * searchAddresses(index); // [{ name: "from", value: "<a@b.org>" }]
 * ```
 */
export function searchAddresses(index: MessageIndex): readonly SearchField[] {
  return index.memo(ADDRESSES, () => {
    const decoded = searchHeaders(index).fields;
    const fields = index.root.fields;
    let found: SearchField[] | null = null;
    for (let i = 0; i < fields.length; i++) {
      const { name, value } = decoded[i];
      if (!ADDRESS_FIELDS.has(name)) continue;
      const forms = missingForms(addressForms(fields[i].value), value);
      if (forms.length > 0) (found ??= []).push({ name, value: forms.join("\n") });
    }
    return found ?? NO_FIELDS;
  });
}

/** An address list entry as address searches match it, lower-cased. */
interface AddressForm {
  /** `name <local@domain>`, `<local@domain>`, or a group's name. */
  readonly form: string;
  /** What must be in the header text for `form` to add nothing a search could find. */
  readonly probe: string;
}

function addressForms(value: string): AddressForm[] {
  const forms: AddressForm[] = [];
  for (const entry of parseAddressList(value)) {
    if (entry.kind === "end") continue;
    if (entry.kind === "group") {
      const form = decodeEncodedWords(entry.name).toLowerCase();
      forms.push({ form, probe: form });
      continue;
    }
    const local = entry.mailbox === MISSING_MAILBOX ? "" : entry.mailbox;
    const address = (entry.host === MISSING_DOMAIN ? local : `${local}@${entry.host}`)
      .toLowerCase();
    if (entry.name === null) {
      // A bare address in the text already holds all a search can ask of it.
      forms.push({ form: `<${address}>`, probe: address });
      continue;
    }
    const form = `${decodeEncodedWords(entry.name).toLowerCase()} <${address}>`;
    forms.push({ form, probe: form });
  }
  return forms;
}

/**
 * The forms whose probe `text` does not contain. Linear: the entries are written in order,
 * so each probe is looked for after the previous one, and after the first one missing the
 * rest are kept without looking (a header of many addresses never costs a scan each).
 */
function missingForms(forms: readonly AddressForm[], text: string): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const { form, probe } of forms) {
    if (missing.length === 0) {
      const at = text.indexOf(probe, from);
      if (at >= 0) {
        from = at + probe.length;
        continue;
      }
    }
    missing.push(form);
  }
  return missing;
}

function searchField(field: HeaderField): SearchField {
  return { name: field.name.toLowerCase(), value: decodeEncodedWords(field.value).toLowerCase() };
}

function headerLines(fields: readonly HeaderField[]): string[] {
  return fields.map((field) => {
    const { name, value } = searchField(field);
    return `${name}: ${value}`;
  });
}

/**
 * Walks the part tree below `part`: MIME part headers go to `header`, text bodies and the
 * headers of encapsulated messages to `body`.
 */
function collectParts(raw: Uint8Array, part: MimePart, header: string[], body: string[]): void {
  if (part.children.length > 0) {
    for (const child of part.children) {
      header.push(...headerLines(child.fields));
      collectParts(raw, child, header, body);
    }
  } else if (part.message) {
    body.push(...headerLines(part.message.fields));
    collectParts(raw, part.message, body, body);
  } else if (part.contentType.type === "text") {
    body.push(decodeBodyText(raw, part).toLowerCase());
  }
}

/**
 * The calendar day (days since 1970-01-01) of an RFC 5322 `date-time` as written, ignoring
 * its time and zone (RFC 9051 6.4.4: SENT* disregard time and timezone), or null when it
 * does not hold `[day-name ","] day month year time`. Two- and three-digit years are read
 * as RFC 5322 4.3 says.
 *
 * @example
 * ```ts
 * dateDay("Wed, 25 Nov 2026 23:30:00 -0800"); // 20782 (25 Nov 2026, not the next day in UTC)
 * ```
 */
export function dateDay(value: string): number | null {
  const match = /^\s*(?:[a-z]{3}\s*,\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+\d{1,2}:\d{2}/i
    .exec(value);
  if (!match) return null;
  const day = Number(match[1]);
  const month = monthNumber(match[2]);
  let year = Number(match[3]);
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3].length === 3) year += 1900;
  if (!month || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  return dayNumber(year, month, day);
}

/**
 * Days from 1970-01-01 to a calendar date (month 1-12), for any four-digit year (unlike
 * `Date.UTC`, which reads years below 100 as 19xx).
 *
 * @example
 * ```ts
 * dayNumber(1970, 1, 2); // 1
 * ```
 */
export function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return Math.round(date.getTime() / 86_400_000);
}
