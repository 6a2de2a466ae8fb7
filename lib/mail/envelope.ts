/**
 * The data of an IMAP ENVELOPE (RFC 9051 7.5.2) for a message or an encapsulated message:
 * header values as stored (binary strings, not decoded) and parsed address lists.
 *
 * - Date, Subject, In-Reply-To, Message-ID: null when the field is absent, `""` when it is
 *   present but empty.
 * - Address fields: null when absent or when no address could be read; Sender and Reply-To
 *   default to From.
 * - The first occurrence of a field counts (RFC 5322 3.6 allows one).
 *
 * @module
 */

import { type AddressEntry, type AddressListParser, parseAddressList } from "./address.ts";
import {
  fieldNames,
  firstFields,
  type HeaderField,
  rawFieldValue,
  storedFieldValue,
} from "./headers.ts";
import type { MimePart } from "./mime.ts";

/** ENVELOPE fields, in RFC 9051 order. Strings are binary strings (one char per byte). */
export interface Envelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: readonly AddressEntry[] | null;
  readonly sender: readonly AddressEntry[] | null;
  readonly replyTo: readonly AddressEntry[] | null;
  readonly to: readonly AddressEntry[] | null;
  readonly cc: readonly AddressEntry[] | null;
  readonly bcc: readonly AddressEntry[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

/**
 * The envelope of `message` (a part whose `partNumber` is `""`: the root or an encapsulated
 * message) in `raw`; `parse` reads its address lists.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("From: Bob <bob@example.com>\r\nSubject: hi\r\n\r\n");
 * envelopeOf(raw, parseMime(raw)).subject; // "hi"
 * ```
 */
export function envelopeOf(
  raw: Uint8Array,
  message: MimePart,
  parse: AddressListParser = parseAddressList,
): Envelope {
  // Read by index, not destructured: destructuring an array runs its iterator until V8 has
  // the function optimized.
  // A field given twice (RFC 5322 3.6 allows each once) reads as Dovecot reads it: the last
  // one's value, and every one's addresses.
  const fields = message.fields;
  const last = new Array<HeaderField | undefined>(ENVELOPE_FIELDS.names.length);
  const found = firstFields(fields, ENVELOPE_FIELDS, last);
  // Functions, not closures over `raw` and `parse` (made for every delivered message).
  const from = addresses(raw, fields, found, last, 2, parse);
  return {
    date: storedFieldValue(raw, last[0]),
    subject: storedFieldValue(raw, last[1]),
    from,
    sender: addresses(raw, fields, found, last, 3, parse) ?? from,
    replyTo: addresses(raw, fields, found, last, 4, parse) ?? from,
    to: addresses(raw, fields, found, last, 5, parse),
    cc: addresses(raw, fields, found, last, 6, parse),
    bcc: addresses(raw, fields, found, last, 7, parse),
    inReplyTo: storedFieldValue(raw, last[8]),
    messageId: storedFieldValue(raw, last[9]),
  };
}

/**
 * The addresses of the fields named as `ENVELOPE_FIELDS.names[i]`: of the one, or of each in
 * order where there are more (`first` and `last` differ).
 */
function addresses(
  raw: Uint8Array,
  fields: readonly HeaderField[],
  first: ReadonlyArray<HeaderField | undefined>,
  last: ReadonlyArray<HeaderField | undefined>,
  i: number,
  parse: AddressListParser,
): readonly AddressEntry[] | null {
  if (first[i] === last[i]) return addressList(raw, first[i], parse);
  const all: AddressEntry[] = [];
  for (const field of fields) {
    if (field.name.toLowerCase() !== ENVELOPE_FIELDS.names[i].toLowerCase()) continue;
    all.push(...(addressList(raw, field, parse) ?? []));
  }
  return all.length > 0 ? all : null;
}

/** The fields ENVELOPE reads, in the order {@linkcode envelopeOf} takes them. */
const ENVELOPE_FIELDS = fieldNames([
  "Date",
  "Subject",
  "From",
  "Sender",
  "Reply-To",
  "To",
  "Cc",
  "Bcc",
  "In-Reply-To",
  "Message-ID",
]);

/** The addresses of `field`; null without one or when none could be read. */
function addressList(
  raw: Uint8Array,
  field: HeaderField | undefined,
  parse: AddressListParser,
): readonly AddressEntry[] | null {
  if (field === undefined) return null;
  const entries = parse(rawFieldValue(raw, field));
  return entries.length > 0 ? entries : null;
}
