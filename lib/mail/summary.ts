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
  return packSummary(
    decodeEncodedWords(subject ?? ""),
    decodeEncodedWords(from ?? ""),
    decodeEncodedWords(to ?? ""),
    decodeEncodedWords(cc ?? ""),
    date ?? "",
    messageId ?? "",
  );
}

/**
 * A summary as one string: the six values' lengths as its first six char codes, then the
 * values one after the other. Every stored message keeps its summary, and six strings and
 * an object a message were a quarter of what a burst of 5,000 APPENDs left on V8's heap for
 * the scavenger to copy and the next mark-compact to evacuate (issue 13); this is two
 * objects. A value is cut from the string when read (listings, events, filters).
 */
class PackedSummary implements MessageSummary {
  /** The lengths, then the values (see the class). Public so deep equality compares it. */
  readonly packed: string;
  constructor(packed: string) {
    this.packed = packed;
  }
  get subject(): string {
    return this.#value(0);
  }
  get from(): string {
    return this.#value(1);
  }
  get to(): string {
    return this.#value(2);
  }
  get cc(): string {
    return this.#value(3);
  }
  get date(): string {
    return this.#value(4);
  }
  get messageId(): string {
    return this.#value(5);
  }
  /** The values as a plain object (JSON: the HTTP API and SQLite's column). */
  toJSON(): MessageSummary {
    return plainSummary(this);
  }
  #value(n: number): string {
    const packed = this.packed;
    let start = SUMMARY_VALUES;
    for (let i = 0; i < n; i++) start += packed.charCodeAt(i);
    return packed.slice(start, start + packed.charCodeAt(n));
  }
}

/** How many values a summary has: the first char codes of a packed one are their lengths. */
const SUMMARY_VALUES = 6;

/** The summary of these values: packed, unless one is too long for a char code to count. */
function packSummary(
  subject: string,
  from: string,
  to: string,
  cc: string,
  date: string,
  messageId: string,
): MessageSummary {
  const longest = Math.max(
    subject.length,
    from.length,
    to.length,
    cc.length,
    date.length,
    messageId.length,
  );
  if (longest > 0xffff) return { subject, from, to, cc, date, messageId };
  const lengths = String.fromCharCode(
    subject.length,
    from.length,
    to.length,
    cc.length,
    date.length,
    messageId.length,
  );
  // Joined, not added: `+` makes a tree of V8 cons strings, six objects kept, not one.
  return new PackedSummary([lengths, subject, from, to, cc, date, messageId].join(""));
}

/**
 * A summary of the same form as the ones {@linkcode summaryOf} makes, from its values (a
 * backend's stored copy): a store's summaries are all alike, whatever loaded them.
 *
 * @example
 * ```ts
 * summaryFromValues({ subject: "Hi", from: "", to: "", cc: "", date: "", messageId: "" }).subject; // "Hi"
 * ```
 */
export function summaryFromValues(values: MessageSummary): MessageSummary {
  return packSummary(
    values.subject ?? "",
    values.from ?? "",
    values.to ?? "",
    values.cc ?? "",
    values.date ?? "",
    values.messageId ?? "",
  );
}

/**
 * The summary's values as a plain object (a packed summary's are read from its string).
 *
 * @example
 * ```ts
 * plainSummary(summarizeMessage(new TextEncoder().encode("Subject: Hi\r\n\r\n"))).subject; // "Hi"
 * ```
 */
export function plainSummary(summary: MessageSummary): MessageSummary {
  return {
    subject: summary.subject,
    from: summary.from,
    to: summary.to,
    cc: summary.cc,
    date: summary.date,
    messageId: summary.messageId,
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
  for (const name of SUMMARY_NAMES) {
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
