/**
 * What IMAP SEARCH reads of a message's top-level header (RFC 9051 6.4.4): the fields with
 * RFC 2047 encoded words decoded and lower-cased once, so matching a HEADER, SUBJECT, FROM,
 * TO, CC or BCC key is a plain substring test; the day of the `Date:` field for SENT*; and
 * the parsed forms of address fields that their text lacks.
 *
 * Computed at delivery for every message (lib/imap/warm.ts) and kept in the index memo, so
 * they are kept small: the fields of a header are one flat string and its offsets, not an
 * object and two strings a field.
 *
 * @module
 */

import {
  type AddressListParser,
  isSimpleMailbox,
  MISSING_DOMAIN,
  MISSING_MAILBOX,
  parseAddressList,
} from "./address.ts";
import { dayNumber, daysInMonth, monthNumber } from "./dates.ts";
import { decodeEncodedWords, type HeaderField } from "./headers.ts";
import type { MessageIndex } from "./message_index.ts";
import type { MimePart } from "./mime_part.ts";

/** One top-level header field: name and decoded value, both lower-cased. */
export interface SearchField {
  readonly name: string;
  readonly value: string;
}

/** What SEARCH reads of a message's top-level header. */
export interface SearchHeaders {
  /** The fields, in order (made on each read: the index keeps them as one string). */
  readonly fields: readonly SearchField[];
  /**
   * The calendar day of the `Date:` field as written, in its own time zone (days since
   * 1970-01-01), or null when the field is missing or unreadable.
   */
  readonly sentDay: number | null;
  /** Whether a field named `name` holds `needle` (both lower-cased already). */
  has(name: string, needle: string): boolean;
}

const HEADERS = Symbol("search headers");
const ADDRESSES = Symbol("search addresses");

const NO_FIELDS: readonly SearchField[] = [];

/**
 * The decoded, lower-cased header fields of the message, computed once per index. `root` is
 * the index's root part, when the caller has a view of it already (its fields parsed).
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"));
 * searchHeaders(index).fields; // [{ name: "subject", value: "gr\u00fc\u00dfe" }]
 * ```
 */
export function searchHeaders(index: MessageIndex, root?: MimePart): SearchHeaders {
  return compactHeaders(index, root);
}

/** {@linkcode searchHeaders} as the one class that implements it, for this module's readers. */
function compactHeaders(index: MessageIndex, root?: MimePart): CompactHeaders {
  return index.memo(
    HEADERS,
    () => CompactHeaders.of((root ?? index.root).fields, index.parts.rootHeader),
  );
}

/** Decodes bytes already checked to be ASCII (where windows-1252 maps each byte to itself). */
const ascii = new TextDecoder("latin1");

/** Longest header lower-cased through the kept buffer (see {@linkcode asciiLowerText}). */
const KEPT_LOWER = 16 * 1024;

/** Where {@linkcode asciiLowerText} lower-cases a header's bytes, kept between calls. */
const keptLower = new Uint8Array(KEPT_LOWER);

/**
 * `bytes` as lower-cased text when they are all ASCII and hold no `=?` (no encoded word can
 * be in them), else null. One byte loop checks them and copies them lower-cased into a kept
 * buffer, which is then decoded natively: one string of the header's length. (Decoding the
 * bytes and lower-casing the text made two, 0.5 KB each a delivered message; building the
 * codes into an array for `String.fromCharCode`, before that, took an 8-byte slot a byte.)
 */
function asciiLowerText(bytes: Uint8Array): string | null {
  const length = bytes.length;
  const out = length <= KEPT_LOWER ? keptLower : new Uint8Array(length);
  let previous = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte >= 0x80 || (byte === 0x3f && previous === 0x3d)) return null;
    previous = byte;
    // A-Z to a-z: what `toLowerCase` does to ASCII.
    out[i] = byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
  }
  return ascii.decode(out.subarray(0, length));
}

/** ASCII white space as `String.prototype.trim` sees it: HT, LF, VT, FF, CR, SP. */
function isSpaceCode(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * Offsets below 65,536 (nearly every header) kept as the char codes of a string: V8 stores
 * it as 2 bytes an offset and never looks inside it when it marks, where an array of numbers
 * takes 8 bytes a slot and is walked. Larger offsets stay an array.
 */
function compactBounds(numbers: readonly number[]): string | readonly number[] {
  if (numbers.length > 0 && numbers[numbers.length - 1] >= 0x10000) return numbers;
  // A header's few dozen offsets in one call, without a copy of the array.
  if (numbers.length <= 8192) return String.fromCharCode.apply(null, numbers as number[]);
  let codes = "";
  for (let i = 0; i < numbers.length; i += 8192) {
    codes += String.fromCharCode.apply(null, numbers.slice(i, i + 8192) as number[]);
  }
  return codes;
}

/** The address fields SEARCH BCC, CC, FROM and TO read, lower-cased. */
const ADDRESS_NAMES = ["from", "to", "cc", "bcc"] as const;

/** Most offsets (four a field) made into bounds through a kept array. */
const KEPT_BOUNDS = 128;

/**
 * Arrays for the offsets of a header's fields, one per length, kept and filled anew (as
 * headers.ts `binaryString` keeps its arrays of codes): the bounds are a string made from
 * them, and a fresh array a message was 8 bytes an offset of garbage. At most 32 arrays of
 * up to 128 offsets (17 KB).
 */
const keptBounds: number[][] = [];

/**
 * The decoded, lower-cased fields of a header kept as one flat string and the bounds of each
 * field's name and value in it: two objects a message where a list of fields was about forty
 * (the fields, their names and values), all of which V8 marked after every burst of mail.
 * Made from a header's fields the text is `name:value` after `name:value`; made from a header
 * of plain ASCII it is the header itself lower-cased, with folded values unfolded (see
 * {@linkcode CompactHeaders.of}). Either way the fields come in order in it, each name before
 * its value.
 */
class CompactHeaders implements SearchHeaders {
  readonly #text: string;
  /** Made from a header of ASCII without encoded words: values are the fields' lower-cased. */
  readonly plain: boolean;
  /**
   * Four offsets a field in `#text`: where its name starts and ends, where its value starts
   * and ends. See {@linkcode compactBounds}; `#at` reads it.
   */
  readonly #bounds: string | readonly number[];
  #sentDay: number | null | undefined = undefined;

  private constructor(text: string, bounds: readonly number[], plain: boolean) {
    this.#text = text;
    this.plain = plain;
    this.#bounds = compactBounds(bounds);
  }

  /**
   * The fields of a header; `header`, when given, holds the bytes the fields' offsets index:
   * a header of plain ASCII is then made from those bytes in one pass.
   */
  static of(fields: readonly HeaderField[], header?: Uint8Array): CompactHeaders {
    const lower = header === undefined ? null : asciiLowerText(header);
    if (lower !== null) return CompactHeaders.#ofAscii(fields, lower);
    const parts: string[] = [];
    const bounds: number[] = [];
    let length = 0;
    for (const field of fields) {
      const name = field.name.toLowerCase();
      const value = decodeEncodedWords(field.value).toLowerCase();
      parts.push(name, ":", value);
      bounds.push(length, length + name.length);
      length += name.length + 1;
      bounds.push(length, length + value.length);
      length += value.length;
    }
    // One flat string (a join is not a rope of the parts).
    return new CompactHeaders(parts.join(""), bounds, false);
  }

  /**
   * {@linkcode of} for a header of ASCII without encoded words (`lower`, its bytes as text,
   * lower-cased): there a field's decoded, lower-cased value is its text after the colon
   * unfolded, trimmed and lower-cased, and its name the text before the colon trimmed, so the
   * text is `lower` unfolded (the line breaks before white space taken out, as headers.ts
   * `fieldValue` does; one native replace, only when the header is folded, as a Received
   * field is) with the bounds of the names and values in it. Before, each name and value was
   * a string of its own, joined into a second copy of the header: 2.6 KB a delivered message
   * of garbage, where this leaves the bounds.
   */
  static #ofAscii(fields: readonly HeaderField[], lower: string): CompactHeaders {
    const count = 4 * fields.length;
    // Offsets that fit a kept array (see `keptBounds`) are made into the bounds' string there;
    // others go in an array of their own, which the bounds may then be.
    const bounds = count <= KEPT_BOUNDS && lower.length < 0x10000
      ? keptBounds[count] ??= new Array<number>(count).fill(0)
      : new Array<number>(count);
    // The folds before the offset being placed: `lf` is the next line feed not yet passed,
    // `removed` the characters the unfolding takes out before it.
    let lf = lower.indexOf("\n");
    let removed = 0;
    const place = (k: number, offset: number) => {
      while (lf >= 0 && lf < offset) {
        const next = lower.charCodeAt(lf + 1);
        if (next === 0x20 || next === 0x09) removed += lower.charCodeAt(lf - 1) === 0x0d ? 2 : 1;
        lf = lower.indexOf("\n", lf + 1);
      }
      bounds[k] = offset - removed;
    };
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f];
      const colon = lower.indexOf(":", field.start);
      // Name and value trimmed by scanning (in ASCII, `trim` removes HT to CR and SP). A fold
      // is never at either end of them: it ends in white space, which the trim takes.
      let nameStart = field.start;
      let nameEnd = colon;
      while (nameStart < nameEnd && isSpaceCode(lower.charCodeAt(nameStart))) nameStart++;
      while (nameEnd > nameStart && isSpaceCode(lower.charCodeAt(nameEnd - 1))) nameEnd--;
      let valueStart = colon + 1;
      let valueEnd = field.end;
      while (valueStart < valueEnd && isSpaceCode(lower.charCodeAt(valueStart))) valueStart++;
      while (valueEnd > valueStart && isSpaceCode(lower.charCodeAt(valueEnd - 1))) valueEnd--;
      place(4 * f, nameStart);
      place(4 * f + 1, nameEnd);
      place(4 * f + 2, valueStart);
      place(4 * f + 3, valueEnd);
    }
    const text = removed === 0 ? lower : lower.replace(/\r?\n(?=[ \t])/g, "");
    return new CompactHeaders(text, bounds, true);
  }

  /** Offset `k` of the bounds. */
  #at(k: number): number {
    const bounds = this.#bounds;
    return typeof bounds === "string" ? bounds.charCodeAt(k) : bounds[k];
  }

  get count(): number {
    return this.#bounds.length >> 2;
  }

  /** The lower-cased name of field `i`. */
  name(i: number): string {
    return this.#text.slice(this.#at(4 * i), this.#at(4 * i + 1));
  }

  /** The decoded, lower-cased value of field `i`. */
  value(i: number): string {
    return this.#text.slice(this.#at(4 * i + 2), this.#at(4 * i + 3));
  }

  get fields(): SearchField[] {
    return Array.from(
      { length: this.count },
      (_, i) => ({ name: this.name(i), value: this.value(i) }),
    );
  }

  get sentDay(): number | null {
    if (this.#sentDay === undefined) {
      const date = this.#indexOf("date");
      this.#sentDay = date < 0 ? null : dateDay(this.value(date));
    }
    return this.#sentDay;
  }

  /** The first field named `name`, or -1. */
  #indexOf(name: string): number {
    for (let i = 0; i < this.count; i++) if (this.#named(i, name)) return i;
    return -1;
  }

  /** The length of field `i`'s name. */
  nameLength(i: number): number {
    return this.#at(4 * i + 1) - this.#at(4 * i);
  }

  /**
   * Field `i`'s name when it is From, To, Cc or Bcc (lower-cased, the same string each time),
   * else null: compared where it is in the text, not cut out of it (a string a field).
   */
  addressName(i: number): "from" | "to" | "cc" | "bcc" | null {
    const length = this.nameLength(i);
    if (length < 2 || length > 4) return null;
    for (let a = 0; a < ADDRESS_NAMES.length; a++) {
      if (this.#named(i, ADDRESS_NAMES[a])) return ADDRESS_NAMES[a];
    }
    return null;
  }

  #named(i: number, name: string): boolean {
    const start = this.#at(4 * i);
    return this.#at(4 * i + 1) - start === name.length && this.#text.startsWith(name, start);
  }

  has(name: string, needle: string): boolean {
    const text = this.#text;
    // Most messages do not hold the needle anywhere: one native scan of the header says so
    // without reading the bounds (another object a message, which a first search over a
    // fresh burst of mail finds out of the CPU's caches) or any field's name.
    if (text.indexOf(needle) < 0) return false;
    const bounds = this.#bounds;
    // The first `needle` at or after the start of the last value looked at: values come in
    // order, so a header of many such fields is still scanned once.
    let hit = -1;
    for (let i = 0; i < bounds.length >> 2; i++) {
      if (!this.#named(i, name)) continue;
      const start = this.#at(4 * i + 2);
      const end = this.#at(4 * i + 3);
      if (end - start < needle.length) continue;
      if (hit < start) {
        hit = text.indexOf(needle, start);
        if (hit < 0) return false;
      }
      if (hit + needle.length <= end) return true;
    }
    return false;
  }
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
 * time linear in the header (see {@linkcode missingForms}). `parse` reads the address lists.
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("From: <a (c)@ b.org>\r\n\r\n"));
 * searchAddresses(index); // [{ name: "from", value: "<a@b.org>" }]
 * ```
 */
export function searchAddresses(
  index: MessageIndex,
  root?: MimePart,
  parse: AddressListParser = parseAddressList,
): readonly SearchField[] {
  return index.memo(ADDRESSES, () => {
    const fields = (root ??= index.root).fields;
    const decoded = compactHeaders(index, root);
    let found: SearchField[] | null = null;
    for (let i = 0; i < fields.length; i++) {
      const name = decoded.addressName(i);
      if (name === null) continue;
      const text = decoded.value(i);
      // In a header of plain ASCII, a value that is one plain mailbox (`a@b.org`, `<a@b.org>`,
      // `Name <a@b.org>`) holds its address forms as written: nothing is missing, and nothing
      // need be parsed or lower-cased. (A local part or domain spelled like the parser's
      // MISSING_* placeholders is left to the general way.)
      if (decoded.plain && isSimpleMailbox(text) && !text.includes("missing_")) continue;
      const forms = missingForms(addressForms(fields[i].value, parse), text);
      if (forms.length > 0) (found ??= []).push({ name, value: forms.join("\n") });
    }
    return found ?? NO_FIELDS;
  });
}

/**
 * All that SEARCH BCC, CC, FROM and TO match in the message, as one string: the decoded,
 * lower-cased values of those fields and their address forms ({@linkcode searchAddresses}),
 * one per line. Every string such a search can find in the message is in it, so a string not
 * in it is not in the message's address fields (a filter: it may also hold strings no address
 * key finds, such as one across two lines).
 *
 * @example
 * ```ts
 * const index = new MessageIndex(new TextEncoder().encode("From: <a (c)@ b.org>\r\nTo: x@y.org\r\n\r\n"));
 * searchAddressText(index); // "<a (c)@ b.org>\nx@y.org\n<a@b.org>"
 * ```
 */
export function searchAddressText(
  index: MessageIndex,
  root?: MimePart,
  parse: AddressListParser = parseAddressList,
): string {
  const decoded = compactHeaders(index, root);
  const parts: string[] = [];
  for (let i = 0; i < decoded.count; i++) {
    if (decoded.addressName(i) !== null) parts.push(decoded.value(i));
  }
  const forms = searchAddresses(index, root, parse);
  for (let i = 0; i < forms.length; i++) parts.push(forms[i].value);
  return parts.join("\n");
}

/** An address list entry as address searches match it, lower-cased. */
interface AddressForm {
  /** `name <local@domain>`, `<local@domain>`, or a group's name. */
  readonly form: string;
  /** What must be in the header text for `form` to add nothing a search could find. */
  readonly probe: string;
}

function addressForms(value: string, parse: AddressListParser): AddressForm[] {
  const forms: AddressForm[] = [];
  for (const entry of parse(value)) {
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
  if (!month || day < 1 || day > daysInMonth(year, month)) return null;
  return dayNumber(year, month, day);
}
