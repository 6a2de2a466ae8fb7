/**
 * The data of IMAP BODYSTRUCTURE and BODY (RFC 9051 7.5.2) for a message, from its MIME part
 * tree: types, parameters, ids, descriptions, transfer encodings, sizes and line counts, the
 * envelope and structure of encapsulated messages, and the extension data (MD5, disposition,
 * language, location).
 *
 * Follows Dovecot where the RFC leaves room: type, subtype, encoding, disposition type and
 * parameter names are lower-cased; parameter values, ids, descriptions, MD5 and location are
 * the stored values (binary strings, not decoded); RFC 2231 sections of one parameter are
 * joined into `name` (none encoded) or `name*` (still `charset'lang'%XX`); a text part
 * without a charset gets `charset us-ascii` (RFC 2045 5.2). Size is the body's octets as
 * stored (what `BODY[n]` returns); lines count its LF bytes.
 *
 * @module
 */

import { type Envelope, envelopeOf } from "./envelope.ts";
import {
  fieldNames,
  firstFields,
  type HeaderField,
  rawFieldValue,
  rawFieldValueIs,
  storedFieldValue,
} from "./headers.ts";
import { type MimePart, splitParameters } from "./mime.ts";
import type { WrittenParameter } from "./mime_part.ts";
import { lowerCase, stripComments } from "./params.ts";

/** Attribute/value pairs, in order; values are binary strings. */
export type Params = ReadonlyArray<readonly [string, string]>;

/** `body-fld-dsp`. */
export interface Disposition {
  readonly type: string;
  readonly params: Params | null;
}

/** Extension data shared by both kinds of body. */
export interface BodyExtension {
  readonly disposition: Disposition | null;
  readonly language: readonly string[] | null;
  readonly location: string | null;
}

/** A non-multipart body (`body-type-1part`). */
export interface SinglePart extends BodyExtension {
  readonly kind: "single";
  readonly type: string;
  readonly subtype: string;
  readonly params: Params | null;
  readonly id: string | null;
  readonly description: string | null;
  readonly encoding: string;
  readonly size: number;
  /** Lines of text/* and message/rfc822 or message/global bodies; null for others. */
  readonly lines: number | null;
  /** The encapsulated message of a message/rfc822 or message/global part. */
  readonly message: { readonly envelope: Envelope; readonly body: BodyStructure } | null;
  readonly md5: string | null;
}

/** A multipart body (`body-type-mpart`). */
export interface Multipart extends BodyExtension {
  readonly kind: "multipart";
  readonly subtype: string;
  readonly children: readonly BodyStructure[];
  readonly params: Params | null;
}

export type BodyStructure = SinglePart | Multipart;

/** The envelope of a message part whose content could not be read (encoded or too deep). */
const EMPTY_ENVELOPE: Envelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

/** Dovecot's structure for a missing body: an empty text/plain part. */
const EMPTY_TEXT: SinglePart = {
  kind: "single",
  type: "text",
  subtype: "plain",
  params: [["charset", "us-ascii"]],
  id: null,
  description: null,
  encoding: "7bit",
  size: 0,
  lines: 0,
  message: null,
  md5: null,
  disposition: null,
  language: null,
  location: null,
};

/**
 * The body structure of `part` (a whole message or one of its parts) in `raw`.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("Subject: hi\r\n\r\nHello\r\n");
 * bodyStructureOf(raw, parseMime(raw)); // { kind: "single", type: "text", subtype: "plain", size: 7, lines: 1, ... }
 * ```
 */
export function bodyStructureOf(raw: Uint8Array, part: MimePart): BodyStructure {
  // Read by index, not destructured: destructuring an array runs its iterator until V8 has
  // the function optimized.
  const found = firstFields(part.fields, CONTENT_FIELDS);
  const declared = found[0] === undefined ? NO_PARAMETERS : writtenParameters(raw, part, found[0]);
  // The extension fields are named one by one below, not spread: a spread copies them
  // property by property, once per part of every delivered message.
  const dispositionValue = disposition(storedFieldValue(raw, found[1]));
  const language = languages(storedFieldValue(raw, found[2]));
  const location = storedFieldValue(raw, found[3]);
  const { type, subtype } = part.contentType;
  if (part.children.length > 0) {
    return {
      kind: "multipart",
      subtype,
      children: part.children.map((child) => bodyStructureOf(raw, child)),
      params: joinParams(declared, false),
      disposition: dispositionValue,
      language,
      location,
    };
  }
  const params = joinParams(declared, type === "text");
  const isMessage = type === "message" && (subtype === "rfc822" || subtype === "global");
  const text = type === "text";
  let message: SinglePart["message"] = null;
  if (isMessage) {
    message = part.message
      ? { envelope: envelopeOf(raw, part.message), body: bodyStructureOf(raw, part.message) }
      : { envelope: EMPTY_ENVELOPE, body: EMPTY_TEXT };
  }
  return {
    kind: "single",
    type,
    subtype,
    params,
    id: storedFieldValue(raw, found[4]),
    description: storedFieldValue(raw, found[5]),
    encoding: part.encoding,
    size: part.bodyEnd - part.bodyStart,
    lines: text || isMessage ? countLines(raw, part.bodyStart, part.bodyEnd) : null,
    message,
    md5: storedFieldValue(raw, found[6]),
    disposition: dispositionValue,
    language,
    location,
  };
}

const NO_PARAMETERS: readonly WrittenParameter[] = [];

/**
 * The parameters of `field`, the part's `Content-Type`, as stored: those its content type was
 * parsed with when that read the same text (an ASCII field, nearly all mail: the MIME parse
 * tokenized it already; compared in place, no string of the stored value made), else the
 * stored value tokenized here.
 */
function writtenParameters(
  raw: Uint8Array,
  part: MimePart,
  field: HeaderField,
): readonly WrittenParameter[] {
  const written = part.contentType.written;
  const same = written !== undefined && rawFieldValueIs(raw, field, written.source);
  return same ? written.params : splitParameters(rawFieldValue(raw, field)).params;
}

/** The fields {@linkcode bodyStructureOf} reads, in the order it takes them. */
const CONTENT_FIELDS = fieldNames([
  "Content-Type",
  "Content-Disposition",
  "Content-Language",
  "Content-Location",
  "Content-ID",
  "Content-Description",
  "Content-MD5",
]);

/** Whether the structure holds a message/global part anywhere (its encoding differs in rev1). */
export function hasMessageGlobal(body: BodyStructure): boolean {
  if (body.kind === "multipart") return body.children.some(hasMessageGlobal);
  if (!body.message) return false;
  return (body.type === "message" && body.subtype === "global") ||
    hasMessageGlobal(body.message.body);
}

/**
 * The LF bytes in `raw[start, end)`, counted four at a time (about 2.5 times as fast as a byte
 * loop or an indexOf a line, on text).
 */
function countLines(raw: Uint8Array, start: number, end: number): number {
  let lines = 0;
  let i = start;
  while (i < end && ((raw.byteOffset + i) & 3) !== 0) if (raw[i++] === 0x0a) lines++;
  if (end - i < 4) {
    for (; i < end; i++) if (raw[i] === 0x0a) lines++;
    return lines;
  }
  const words = new Int32Array(raw.buffer, raw.byteOffset + i, (end - i) >> 2);
  for (let w = 0; w < words.length; w++) {
    const x = words[w] ^ 0x0a0a0a0a; // a zero byte where an LF was
    // Bit 7 of each byte set when the byte is not zero (exact: no borrow between bytes).
    const nonZero = ((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x;
    const zero = ~nonZero & 0x80808080;
    if (zero !== 0) lines += ((zero >>> 7) * 0x01010101) >>> 24; // how many bytes were zero
  }
  for (i += words.length * 4; i < end; i++) if (raw[i] === 0x0a) lines++;
  return lines;
}

function disposition(value: string | null): Disposition | null {
  if (value === null) return null;
  const { type, params } = splitParameters(value);
  if (!/^[!#$%&'*+.^_`{|}~0-9A-Za-z-]+$/.test(type)) return null;
  return { type: lowerCase(type), params: joinParams(params, false) };
}

/** `Content-Language: en, de-CH (comment)` -> `["en", "de-CH"]` (RFC 3282). */
function languages(value: string | null): string[] | null {
  if (value === null) return null;
  // Comments removed by a scanner: `\([^)]*\)` was quadratic on a run of "(".
  const tags = stripComments(value).split(",").map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
  return tags.length > 0 ? tags : null;
}

/** The parameter a text part without a charset reports (RFC 2045 5.2). */
const US_ASCII: readonly [string, string] = ["charset", "us-ascii"];

/**
 * Parameters as IMAP reports them: names lower-cased; the RFC 2231 sections of one name
 * (`name*0*`, `name*1`, ...) joined in order, as `name*` with the `charset'lang'` prefix and
 * %XX escapes kept when any section is encoded, else as `name`; with `charset` `us-ascii`
 * last when `charsetDefault` and there is no charset. Empty: null.
 */
function joinParams(list: readonly WrittenParameter[], charsetDefault: boolean): Params | null {
  if (list.length === 0) return charsetDefault ? [US_ASCII] : null;
  // Nearly every list: no RFC 2231 sections, an array of its final size (pushes to an empty
  // one made room for 16; a part of every delivered message is read so).
  let plain = true;
  for (let i = 0; i < list.length && plain; i++) plain = !list[i].name.includes("*");
  if (plain) {
    const pairs = new Array<readonly [string, string]>(list.length + (charsetDefault ? 1 : 0));
    let hasCharset = false;
    for (let i = 0; i < list.length; i++) {
      const name = lowerCase(list[i].name);
      if (name === "charset") hasCharset = true;
      pairs[i] = [name, list[i].value];
    }
    if (charsetDefault && !hasCharset) pairs[list.length] = US_ASCII;
    else pairs.length = list.length;
    return pairs;
  }
  const withSections = joinSections(list);
  if (charsetDefault && !withSections?.some((param) => param[0] === "charset")) {
    return [...(withSections ?? []), US_ASCII];
  }
  return withSections;
}

/** {@linkcode joinParams} of a list with RFC 2231 sections, without the charset default. */
function joinSections(list: readonly WrittenParameter[]): Params | null {
  const out: Array<readonly [string, string]> = [];
  // Made on the first RFC 2231 section: nearly every parameter list has none.
  let sections: Map<string, Array<{ index: number; value: string; encoded: boolean }>> | null =
    null;
  let slots: Map<string, number> | null = null;
  // Indexed, not `for...of` with destructuring: no iterator objects (every delivered message's
  // Content-Type is read so).
  for (let i = 0; i < list.length; i++) {
    const { name, value } = list[i];
    const lower = name.toLowerCase();
    // A plain parameter (nearly all of them): no section pattern to read.
    if (!lower.includes("*")) {
      out.push([lower, value]);
      continue;
    }
    const match = /^(.+?)(?:\*([0-9]{1,4}))?(\*)?$/.exec(lower);
    if (!match) continue;
    const [, key, index, star] = match;
    if (index === undefined && !star) {
      out.push([key, value]);
      continue;
    }
    sections ??= new Map();
    slots ??= new Map();
    if (!slots.has(key)) {
      slots.set(key, out.length);
      out.push([key, ""]);
      sections.set(key, []);
    }
    sections.get(key)!.push({ index: Number(index ?? 0), value, encoded: !!star });
  }
  if (sections === null || slots === null) return out.length > 0 ? out : null;
  for (const [key, parts] of sections) {
    parts.sort((a, b) => a.index - b.index);
    const slot = slots.get(key)!;
    if (!parts.some((part) => part.encoded)) {
      out[slot] = [key, parts.map((part) => part.value).join("")];
      continue;
    }
    const first = parts[0];
    const prefix = first.index === 0 && first.encoded ? "" : "''";
    const joined = parts.map((part) => part.encoded ? part.value : percentEncode(part.value));
    out[slot] = [key + "*", prefix + joined.join("")];
  }
  return out.length > 0 ? out : null;
}

/** RFC 2231 `attribute-char`s stay, everything else becomes %XX (binary strings: one byte each). */
function percentEncode(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i) & 0xff;
    const ch = value[i];
    const plain = code > 0x20 && code < 0x7f && !"*'%()<>@,;:\\\"/[]?=".includes(ch);
    out += plain ? ch : "%" + code.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
