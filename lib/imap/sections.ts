/**
 * FETCH section data: `BODY[section]<partial>` (RFC 9051 6.4.5) as exact slices of the stored
 * message, never re-encoded, and `BINARY[section-part]<partial>` / `BINARY.SIZE` (RFC 3516,
 * RFC 9051 6.4.5) with the part's transfer encoding removed.
 *
 * Sections address the MIME part tree of the message's cached index:
 * - `[]`, `[HEADER]`, `[TEXT]`, `[HEADER.FIELDS (..)]`, `[HEADER.FIELDS.NOT (..)]`: the
 *   message; with a part number in front, the message encapsulated in that message/rfc822
 *   part (any other part has no such section);
 * - `[1.2]`: a part's body (for a message/rfc822 part, the encapsulated message);
 * - `[1.2.MIME]`: a part's MIME header.
 *
 * A section that does not exist is NIL. HEADER.FIELDS keeps the matching fields in stored
 * order, each ending in CRLF, then the empty line.
 *
 * @module
 */

import {
  base64DecodedLength,
  decodeBody,
  decodeQuotedPrintable,
  findPart,
  isKnownEncoding,
  type MimePart,
} from "../mail/mime.ts";
import { HeaderFieldItems, headerFields } from "./header_fields.ts";
import type { MessageView } from "./message_view.ts";
import { holdsNul } from "../mail/message_index.ts";
import type { Section } from "./parse_fetch.ts";

const EMPTY = new Uint8Array(0);

/** The bytes of a section, or null when the message has no such section. */
export function sectionBytes(view: MessageView, section: Section): Uint8Array | null {
  const raw = view.raw;
  if (section.part.length === 0) {
    // BODY[] needs no index: the message is the section.
    return section.text === null ? raw : entityBytes(view, view.root, section);
  }
  const part = findPart(view.root, section.part.join("."));
  if (!part) return null;
  switch (section.text) {
    case null:
      return raw.subarray(part.bodyStart, part.bodyEnd);
    case "MIME":
      return raw.subarray(part.headerStart, part.bodyStart);
    default:
      // HEADER, TEXT and HEADER.FIELDS of a part address its encapsulated message.
      return part.message ? entityBytes(view, part.message, section) : null;
  }
}

/**
 * A whole HEADER.FIELDS data item without partial, `prefix` (the response key and SP) and the
 * literal, kept per message and built by `items` (the server's, see header_fields.ts); null
 * when the message has no such section.
 */
export function headerFieldsItem(
  view: MessageView,
  section: Section,
  prefix: string,
  items: HeaderFieldItems = new HeaderFieldItems(),
): Uint8Array | null {
  let message: MimePart | null = view.root;
  if (section.part.length > 0) {
    message = findPart(view.root, section.part.join("."))?.message ?? null;
  }
  return message && items.item(view, message, section, prefix);
}

/** A section of a whole (or encapsulated) message. */
function entityBytes(view: MessageView, message: MimePart, section: Section): Uint8Array {
  const raw = view.raw;
  switch (section.text) {
    case "HEADER":
      return raw.subarray(message.headerStart, message.bodyStart);
    case "TEXT":
      return raw.subarray(message.bodyStart, message.bodyEnd);
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT":
      return headerFields(raw, message.fields, section);
    default:
      return raw.subarray(message.headerStart, message.bodyEnd);
  }
}

/** Whether a stored message holds NUL, by its bytes (the memory store keeps one array). */
const nulIn = new WeakMap<Uint8Array, boolean>();

/**
 * Section data made fit for a `literal`, which cannot carry NUL (RFC 9051 4.3; only
 * BINARY's `literal8` can): a message stored with NUL bytes (APPEND with a `literal8`) gets
 * them as 0x80, as Dovecot does, so sizes and offsets stay the same. Whether the message has
 * any is found once per message: by its MIME index when the store has one (built at delivery
 * or in idle time, which looked then), else once per stored array.
 */
export function withoutNul(view: MessageView, bytes: Uint8Array): Uint8Array {
  let nul = view.indexAtHand?.nul;
  if (nul === undefined) {
    const raw = view.raw;
    nul = nulIn.get(raw);
    if (nul === undefined) nulIn.set(raw, nul = holdsNul(raw));
  }
  if (!nul || !holdsNul(bytes)) return bytes;
  return bytes.map((byte) => byte === 0 ? 0x80 : byte);
}

/** Applies `<offset.length>`: a slice, empty past the end. */
export function applyPartial(
  bytes: Uint8Array,
  partial: { offset: number; length: number } | null,
): Uint8Array {
  if (!partial) return bytes;
  if (partial.offset >= bytes.length) return EMPTY;
  return bytes.subarray(partial.offset, Math.min(bytes.length, partial.offset + partial.length));
}

/** What a BINARY section holds: its decoded bytes, no such part, or an undecodable one. */
export type BinarySection =
  | { readonly kind: "data"; readonly part: MimePart | null }
  | { readonly kind: "missing" }
  | { readonly kind: "unknown-cte"; readonly encoding: string };

/**
 * Resolves `section-binary`. The whole message (`[]`), a multipart and a message/rfc822
 * part are returned as stored: RFC 2045 6.4 allows them only identity encodings (RFC 9051
 * 6.4.5 asks clients to request BINARY of leaf parts only, and imapflow asks `BINARY[]` for
 * whole messages). A leaf's base64 or quoted-printable is decoded; other encodings than
 * 7bit, 8bit and binary are `unknown-cte` (RFC 3516 4.3).
 */
export function binarySection(view: MessageView, part: readonly number[]): BinarySection {
  if (part.length === 0) return { kind: "data", part: null };
  const found = findPart(view.root, part.join("."));
  if (!found) return { kind: "missing" };
  const leaf = found.children.length === 0 && !found.message;
  if (leaf && !isKnownEncoding(found.encoding)) {
    return { kind: "unknown-cte", encoding: found.encoding };
  }
  return { kind: "data", part: found };
}

/** The bytes of a resolved BINARY section. */
export function binaryBytes(view: MessageView, part: MimePart | null): Uint8Array {
  if (!part) return view.raw;
  const leaf = part.children.length === 0 && !part.message;
  return leaf ? decodeBody(view.raw, part) : view.raw.subarray(part.bodyStart, part.bodyEnd);
}

/** The length of {@linkcode binaryBytes}, without decoding base64. */
export function binarySize(view: MessageView, part: MimePart | null): number {
  if (!part) return view.raw.length;
  const body = view.raw.subarray(part.bodyStart, part.bodyEnd);
  const leaf = part.children.length === 0 && !part.message;
  if (!leaf) return body.length;
  if (part.encoding === "base64") return base64DecodedLength(body);
  if (part.encoding === "quoted-printable") return decodeQuotedPrintable(body).length;
  return body.length;
}
