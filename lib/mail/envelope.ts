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
import { fieldNames, firstFields, type HeaderField, rawFieldValue } from "./headers.ts";
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
  const found = firstFields(message.fields, ENVELOPE_FIELDS);
  const text = (field: HeaderField | undefined) => field ? rawFieldValue(raw, field) : null;
  const addresses = (field: HeaderField | undefined) =>
    field ? addressList(raw, field, parse) : null;
  const from = addresses(found[2]);
  return {
    date: text(found[0]),
    subject: text(found[1]),
    from,
    sender: addresses(found[3]) ?? from,
    replyTo: addresses(found[4]) ?? from,
    to: addresses(found[5]),
    cc: addresses(found[6]),
    bcc: addresses(found[7]),
    inReplyTo: text(found[8]),
    messageId: text(found[9]),
  };
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

function addressList(
  raw: Uint8Array,
  field: HeaderField,
  parse: AddressListParser,
): readonly AddressEntry[] | null {
  const entries = parse(rawFieldValue(raw, field));
  return entries.length > 0 ? entries : null;
}
