/**
 * FETCH ENVELOPE (RFC 9051 7.5.2): the encoded envelope of a message, built once per message
 * and kept in its MIME index (`index.memo`), so `FETCH 1:* ENVELOPE` never re-parses or
 * re-encodes.
 *
 * ```abnf
 * envelope  = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
 *             env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
 * env-from  = "(" 1*address ")" / nil              ; likewise sender ... bcc
 * address   = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
 * ```
 *
 * Header values go out as stored (RFC 9051 gives no decoding): unfolded, NUL as 0x80, and a
 * quoted string when they are 7-bit and short, else a literal with the exact bytes (8-bit
 * text, control characters). Unlike Dovecot, runs of white space in a subject or display
 * name are kept as they are rather than collapsed.
 *
 * @module
 */

import type { AddressEntry, AddressListParser } from "../mail/address.ts";
import { type Envelope, envelopeOf } from "../mail/envelope.ts";
import type { MimePart } from "../mail/mime.ts";
import { nstring } from "./encoder.ts";
import type { ByteSlabs } from "./byte_slabs.ts";
import type { MessageView } from "./message_view.ts";

/** An encoded IMAP value: text when it is all ASCII, else bytes (it holds 8-bit literals). */
export type Encoded = string | Uint8Array;

/**
 * Collects encoded parts and joins them into one {@linkcode Encoded} value. Writes bytes as it
 * goes (IMAP syntax and quoted values are ASCII, literals are bytes): no string is built and
 * encoded afterwards, and a value that can be quoted is checked and copied in one pass.
 */
export class EncodedWriter {
  readonly #slabs: ByteSlabs | null;
  #buffer: Uint8Array;
  /** Where this value starts in `#buffer` (a slab holds values written before it). */
  #start: number;
  #length: number;
  /** Whether a part of bytes (a literal) was written: then {@linkcode done} gives bytes. */
  #binary = false;

  /**
   * @param slabs where {@linkcode bytes} cuts the value from (written in place, no copy);
   * default: an array of its own
   */
  constructor(slabs: ByteSlabs | null = null) {
    this.#slabs = slabs;
    const slab = slabs?.room(512) ?? null;
    this.#buffer = slab ?? new Uint8Array(256);
    this.#start = this.#length = slab === null ? 0 : slabs!.free;
  }

  /** Appends IMAP syntax or an encoded value (a string here is ASCII). */
  push(part: Encoded): this {
    if (typeof part === "string") this.#ascii(part);
    else {
      this.#reserve(part.length);
      this.#buffer.set(part, this.#length);
      this.#length += part.length;
      this.#binary = true;
    }
    return this;
  }

  /** Appends a binary string as an `nstring` (null: NIL). */
  nstring(value: string | null): this {
    if (value === null) return this.#ascii("NIL");
    // Most header values go out quoted as they are: copy while checking.
    if (value.length <= MAX_QUOTED) {
      this.#reserve(value.length + 2);
      const buffer = this.#buffer;
      const start = this.#length;
      let at = start;
      buffer[at++] = 0x22;
      let plain = true;
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if ((c < 0x20 && c !== 0x09) || c >= 0x7f || c === 0x22 || c === 0x5c) {
          plain = false;
          break;
        }
        buffer[at++] = c;
      }
      if (plain) {
        buffer[at++] = 0x22;
        this.#length = at;
        return this;
      }
    }
    return this.push(binaryNstring(value));
  }

  /** Everything written, as one value. */
  done(): Encoded {
    if (this.#binary) return this.bytes();
    let out = "";
    for (let i = this.#start; i < this.#length; i += 8192) {
      const chunk = this.#buffer.subarray(i, Math.min(this.#length, i + 8192));
      out += String.fromCharCode.apply(null, chunk as never);
    }
    return out;
  }

  /** Everything written, as bytes (what a cache keeps: sending them needs no encoding). */
  bytes(): Uint8Array {
    if (this.#slabs !== null && this.#buffer === this.#slabs.slab) {
      return this.#slabs.cut(this.#length);
    }
    return this.#buffer.slice(this.#start, this.#length);
  }

  #ascii(text: string): this {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
    return this;
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    const written = this.#buffer.subarray(this.#start, this.#length);
    const size = Math.max(2 * written.length, written.length + n, 256);
    // Past the slab's end: a new slab if the value fits one, else an array of its own.
    const slab = this.#buffer === this.#slabs?.slab ? this.#slabs.room(size) : null;
    const grown = slab ?? new Uint8Array(size);
    const start = slab === null ? 0 : this.#slabs!.free;
    grown.set(written, start);
    this.#buffer = grown;
    this.#start = start;
    this.#length = start + written.length;
  }
}

/**
 * A binary string (one char per byte) as an `nstring`: NIL for null, a quoted string when it
 * can be one (see {@linkcode nstring}), else a literal of the exact bytes.
 *
 * @example
 * ```ts
 * binaryNstring("hi"); // "\"hi\""
 * binaryNstring("\xe9t\xe9"); // bytes of "{3}\r\n" and E9 74 E9
 * ```
 */
export function binaryNstring(value: string | null): Encoded {
  if (value === null) return "NIL";
  if (plainQuotable(value)) return `"${value}"`;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) >= 0x80) {
      return nstring(Uint8Array.from(value, (ch) => ch.charCodeAt(0) & 0xff));
    }
  }
  return nstring(value);
}

/** Longest quoted string `nstring` writes (encoder.ts `MAX_QUOTED`). */
const MAX_QUOTED = 1024;

/**
 * Whether `value` goes out quoted as it is: printable ASCII or TAB, nothing to escape, not too
 * long. One pass over what most header values are; the rest take `nstring`'s way.
 */
function plainQuotable(value: string): boolean {
  if (value.length > MAX_QUOTED) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c >= 0x7f || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Writes an envelope's fields (without the surrounding parentheses). */
export function writeEnvelope(out: EncodedWriter, envelope: Envelope): void {
  out.nstring(envelope.date).push(" ").nstring(envelope.subject);
  // One call a list, not a loop over an array of them (made a message, at delivery too).
  writeAddresses(out.push(" "), envelope.from);
  writeAddresses(out.push(" "), envelope.sender);
  writeAddresses(out.push(" "), envelope.replyTo);
  writeAddresses(out.push(" "), envelope.to);
  writeAddresses(out.push(" "), envelope.cc);
  writeAddresses(out.push(" "), envelope.bcc);
  out.push(" ").nstring(envelope.inReplyTo).push(" ").nstring(envelope.messageId);
}

function writeAddresses(out: EncodedWriter, list: readonly AddressEntry[] | null): void {
  if (list === null || list.length === 0) {
    out.push("NIL");
    return;
  }
  out.push("(");
  // Indexed, not `for...of`: no iterator objects (ENVELOPE is made for every delivered message).
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    switch (entry.kind) {
      case "mailbox":
        out.push("(").nstring(entry.name).push(" ").nstring(entry.route).push(" ")
          .nstring(entry.mailbox).push(" ").nstring(entry.host).push(")");
        break;
      case "group":
        out.push("(NIL NIL ").nstring(entry.name).push(" NIL)");
        break;
      case "end":
        out.push("(NIL NIL NIL NIL)");
        break;
    }
  }
  out.push(")");
}

/**
 * The encoded `envelope` of a whole or encapsulated message, parentheses included.
 *
 * @example
 * ```ts
 * encodeEnvelope(raw, index.root); // '("Wed, 25 Nov 2026 ..." "hi" (("Bob" NIL "bob" "example.com")) ...)'
 * ```
 */
export function encodeEnvelope(raw: Uint8Array, message: MimePart): Encoded {
  return envelopeWriter(raw, message).done();
}

function envelopeWriter(
  raw: Uint8Array,
  message: MimePart,
  slabs: ByteSlabs | null = null,
  parse?: AddressListParser,
): EncodedWriter {
  const out = new EncodedWriter(slabs).push("(");
  writeEnvelope(out, envelopeOf(raw, message, parse));
  return out.push(")");
}

const ENVELOPE_KEY = Symbol("imap ENVELOPE");

/**
 * The message's encoded envelope, computed on first use and kept (as bytes, ready to send)
 * in its MIME index (cut from `slabs` when given; `parse` reads the address lists).
 */
export function cachedEnvelope(
  view: MessageView,
  slabs: ByteSlabs | null = null,
  parse?: AddressListParser,
): Uint8Array {
  return view.index.memo(
    ENVELOPE_KEY,
    () => envelopeWriter(view.raw, view.root, slabs, parse).bytes(),
  );
}
