/**
 * The listing summary of a message: header values decoded once when it is stored, so
 * listings (HTTP, events, filters) never re-read the bytes.
 *
 * @module
 */

import {
  decodeEncodedWords,
  findHeaderEnd,
  type HeaderField,
  headerValue,
  parseHeaderFields,
} from "./headers.ts";

/** Header values decoded once at append time, for listings without re-reading the bytes. */
export interface MessageSummary {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  /** The Date header as written, or "" when absent. */
  readonly date: string;
  readonly messageId: string;
}

/** Reads the listing summary (decoded subject and addresses) from a message's header. */
export function summarizeMessage(raw: Uint8Array): MessageSummary {
  const { headerEnd } = findHeaderEnd(raw);
  const fields = summaryFields(raw, headerEnd);
  const get = (name: string) => decodeEncodedWords(headerValue(fields, name) ?? "");
  return {
    subject: get("Subject"),
    from: get("From"),
    to: get("To"),
    cc: get("Cc"),
    date: headerValue(fields, "Date") ?? "",
    messageId: headerValue(fields, "Message-ID") ?? "",
  };
}

/**
 * The header fields of `raw[0, headerEnd)` that may be one the summary reads, parsed as
 * `parseHeaderFields` parses them (so the values are the same), in order. The others are
 * passed over without being decoded: a field can only be named Subject, From, To, Cc, Date
 * or Message-ID if its first byte that is not white space is one of their initials, or a
 * byte of 0x80 and up (which may decode to white space that the name's trimming removes).
 * This is most of the cost of storing a small message otherwise: a delivered one has a
 * dozen fields, most of them trace fields.
 */
function summaryFields(raw: Uint8Array, headerEnd: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let fieldStart = -1;
  const finish = (fieldEnd: number) => {
    if (fieldStart >= 0 && mayBeSummaryField(raw, fieldStart, fieldEnd)) {
      fields.push(...parseHeaderFields(raw, fieldStart, fieldEnd));
    }
  };
  // The same cut into fields as parseHeaderFields: a line that starts with SP or HT
  // continues the open field.
  for (let i = 0; i < headerEnd;) {
    let lineEnd = raw.indexOf(0x0a, i);
    lineEnd = lineEnd < 0 || lineEnd >= headerEnd ? headerEnd : lineEnd + 1;
    const first = raw[i];
    if (first !== 0x20 && first !== 0x09) {
      finish(i);
      fieldStart = i;
    }
    i = lineEnd;
  }
  finish(headerEnd);
  return fields;
}

/** Initials (lower case) of the summary's field names: Subject, From, To, Cc, Date, Message-ID. */
const SUMMARY_INITIALS = new Set([0x73, 0x66, 0x74, 0x63, 0x64, 0x6d]);

function mayBeSummaryField(raw: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = raw[i];
    // ASCII white space as String.prototype.trim sees it: HT, LF, VT, FF, CR, SP.
    if ((byte >= 0x09 && byte <= 0x0d) || byte === 0x20) continue;
    return byte >= 0x80 || SUMMARY_INITIALS.has(byte | 0x20);
  }
  return false;
}
