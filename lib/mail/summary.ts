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
  return summaryOf(summaryFields(raw, headerEnd));
}

/**
 * {@linkcode summarizeMessage} from the header's fields parsed already (all of them, as
 * `parseHeaderFields` parses them): a message indexed as it is stored (see `MessageIndex`)
 * is not read a second time for its summary, and the values it decodes are the fields'.
 */
export function summaryOf(fields: readonly HeaderField[]): MessageSummary {
  // The first field of each name counts (as `headerValue` finds it), in one pass, each name
  // of a summary field's length lower-cased once.
  let subject: string | undefined;
  let from: string | undefined;
  let to: string | undefined;
  let cc: string | undefined;
  let date: string | undefined;
  let messageId: string | undefined;
  // Indexed, not `for...of`: each step of an array's iterator was an object, a dozen a message.
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const length = field.name.length;
    // "to", "cc"; "from", "date"; "subject"; "message-id".
    if (length !== 2 && length !== 4 && length !== 7 && length !== 10) continue;
    switch (field.name.toLowerCase()) {
      case "subject":
        subject ??= field.value;
        break;
      case "from":
        from ??= field.value;
        break;
      case "to":
        to ??= field.value;
        break;
      case "cc":
        cc ??= field.value;
        break;
      case "date":
        date ??= field.value;
        break;
      case "message-id":
        messageId ??= field.value;
        break;
    }
  }
  return {
    subject: decodeEncodedWords(subject ?? ""),
    from: decodeEncodedWords(from ?? ""),
    to: decodeEncodedWords(to ?? ""),
    cc: decodeEncodedWords(cc ?? ""),
    date: date ?? "",
    messageId: messageId ?? "",
  };
}

/**
 * The header fields of `raw[0, headerEnd)` that may be one the summary reads, parsed as
 * `parseHeaderFields` parses them (so the values are the same), in order. The others are
 * passed over without being decoded (see {@linkcode mayBeSummaryField}): decoding every
 * field was most of the cost of storing a small message, and a delivered one has a dozen,
 * most of them trace fields.
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

/** The summary's field names, lower-case ASCII. */
const SUMMARY_NAMES = ["subject", "from", "to", "cc", "date", "message-id"].map((name) =>
  Uint8Array.from(name, (ch) => ch.charCodeAt(0))
);

/**
 * Whether the field in `raw[start, end)` may be named as one the summary reads. The parser
 * takes the name to be the text before the first colon, trimmed, without white space in it:
 * so after leading white space the field must start with the name (any case) followed by a
 * colon or white space. A byte of 0x80 and up, there or after the name, may decode to white
 * space (NBSP, BOM) and is taken to match.
 */
function mayBeSummaryField(raw: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && isAsciiSpace(raw[i])) i++;
  if (i < end && raw[i] >= 0x80) return true;
  // Indexed: `for...of` made an iterator result object a name, ~2.5 KB a delivered message
  // (bench/smtp_alloc.ts, issue 13 round 19).
  for (let n = 0; n < SUMMARY_NAMES.length; n++) {
    const name = SUMMARY_NAMES[n];
    const after = i + name.length;
    if (after >= end) continue;
    let k = 0;
    while (k < name.length && lowerAscii(raw[i + k]) === name[k]) k++;
    if (k < name.length) continue;
    const next = raw[after];
    if (next === 0x3a || isAsciiSpace(next) || next >= 0x80) return true;
  }
  return false;
}

/** White space as `String.prototype.trim` sees it, in ASCII: HT, LF, VT, FF, CR, SP. */
function isAsciiSpace(byte: number): boolean {
  return (byte >= 0x09 && byte <= 0x0d) || byte === 0x20;
}

function lowerAscii(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}
