/**
 * Building an RFC 5322 message from the fields of `POST /inject`: Date, Message-ID and
 * MIME-Version headers, RFC 2047 encoded words for non-ASCII header text, quoted-printable
 * bodies, and multipart/alternative when both text and html are given.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { formatRfc5322Date } from "../delivery.ts";

/** What an injected message is made of; strings are UTF-8 text. */
export interface ComposeInput {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string | null;
  readonly text: string | null;
  readonly html: string | null;
  /** Extra header fields; a name given here replaces the generated field of that name. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Milliseconds since the epoch, for the Date header. */
  readonly date: number;
  readonly hostname: string;
}

const encoder = new TextEncoder();

/** Whether `text` is printable ASCII (and tab) only. */
function isPlainAscii(text: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(text);
}

/** Octets of the UTF-8 form of the code point `cp`. */
function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Encodes header text as RFC 2047 `B` encoded words when it is not plain ASCII, each word
 * at most 75 characters and never splitting a UTF-8 sequence; words are folded onto lines.
 */
export function encodeHeaderText(text: string): string {
  if (isPlainAscii(text)) return text;
  const words: string[] = [];
  let start = 0;
  let octets = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    // 39 octets become 52 base64 characters, 64 with the framing: room for a field name.
    if (octets + utf8Length(cp) > 39) {
      words.push(text.slice(start, i));
      start = i;
      octets = 0;
    }
    octets += utf8Length(cp);
    i += units;
  }
  if (start < text.length) words.push(text.slice(start));
  return words.map((word) => `=?UTF-8?B?${base64(encoder.encode(word))}?=`).join("\r\n ");
}

/**
 * Splits `Name <addr>` (white space around either allowed) into the name and `<addr>`;
 * null when the text does not end with one `<...>`. A scan from the end: no backtracking.
 */
function splitAngleAddress(address: string): { name: string; angle: string } | null {
  const text = address.trimEnd();
  if (!text.endsWith(">")) return null;
  const open = text.lastIndexOf("<");
  if (open < 0 || text.indexOf(">", open) !== text.length - 1) return null;
  return { name: text.slice(0, open).trim(), angle: text.slice(open) };
}

/** Encodes the display names of an address list (`Name <a@b>, c@d`) where needed. */
export function encodeAddressList(value: string): string {
  return splitAddresses(value).map((address) => {
    const split = splitAngleAddress(address);
    if (!split || isPlainAscii(split.name)) return address.trim();
    const quoted = split.name.length >= 2 && split.name.startsWith('"') && split.name.endsWith('"');
    const name = quoted ? split.name.slice(1, -1) : split.name;
    return `${encodeHeaderText(name)} ${split.angle}`;
  }).join(", ");
}

/** Splits an address list at commas outside quotes and angle brackets. */
export function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted && ch === "\\") {
      current += ch + (value[++i] ?? "");
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "<") angle = true;
    else if (!quoted && ch === ">") angle = false;
    if (ch === "," && !quoted && !angle) {
      if (current.trim()) out.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** The addr-spec of `Name <a@b>` or of a bare `a@b`. */
export function addressOf(value: string): string {
  const split = splitAngleAddress(value);
  return (split ? split.angle.slice(1, -1) : value).trim();
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const CR = 0x0d;
const LF = 0x0a;
const HEX = encoder.encode("0123456789ABCDEF");

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 octets: LF and CRLF become CRLF, lines are at
 * most 76 characters. Writes into `out` when given; returns the length either way, so the
 * caller can size the output exactly with a first pass (linear, no string building).
 */
function quotedPrintable(bytes: Uint8Array, out: Uint8Array | null): number {
  let o = 0;
  let width = 0;
  const put = (byte: number) => {
    if (out) out[o] = byte;
    o++;
  };
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === LF || (byte === CR && bytes[i + 1] === LF)) {
      if (byte === CR) i++;
      put(CR);
      put(LF);
      width = 0;
      continue;
    }
    const next = bytes[i + 1];
    const lineEnds = i === bytes.length - 1 || next === LF || (next === CR && bytes[i + 2] === LF);
    const literal = (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) ||
      ((byte === 0x20 || byte === 0x09) && !lineEnds);
    const length = literal ? 1 : 3;
    if (width + length > 75) {
      put(0x3d);
      put(CR);
      put(LF);
      width = 0;
    }
    if (literal) put(byte);
    else {
      put(0x3d);
      put(HEX[byte >> 4]);
      put(HEX[byte & 15]);
    }
    width += length;
  }
  return o;
}

/** Quoted-printable of UTF-8 octets, in two linear passes (size, then write). */
export function encodeQuotedPrintableBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(quotedPrintable(bytes, null));
  quotedPrintable(bytes, out);
  return out;
}

/** Quoted-printable (RFC 2045 6.7) of UTF-8 text with CRLF line ends, lines <= 76. */
export function encodeQuotedPrintable(text: string): string {
  return new TextDecoder().decode(encodeQuotedPrintableBytes(encoder.encode(text)));
}

/**
 * Whether `bytes` can go as 7bit: printable ASCII and tabs in lines of at most 998 octets,
 * ended by LF or CRLF (a lone CR cannot). Also counts the bare LFs that need a CR.
 */
function sevenBit(bytes: Uint8Array): { simple: boolean; bareLfs: number } {
  let line = 0;
  let bareLfs = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === LF) {
      if (i === 0 || bytes[i - 1] !== CR) bareLfs++;
      line = 0;
    } else if (byte === CR && bytes[i + 1] === LF) {
      continue;
    } else if ((byte >= 0x20 && byte <= 0x7e) || byte === 0x09) {
      if (++line > 998) return { simple: false, bareLfs };
    } else return { simple: false, bareLfs };
  }
  return { simple: true, bareLfs };
}

/** `bytes` with every bare LF made CRLF. */
function withCrlf(bytes: Uint8Array, bareLfs: number): Uint8Array {
  if (bareLfs === 0) return bytes;
  const out = new Uint8Array(bytes.length + bareLfs);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === LF && (i === 0 || bytes[i - 1] !== CR)) out[o++] = CR;
    out[o++] = bytes[i];
  }
  return out;
}

/** A body part: its Content-Type and Content-Transfer-Encoding, then the encoded body. */
function textPart(subtype: "plain" | "html", text: string): { headers: string; body: Uint8Array } {
  const bytes = encoder.encode(text);
  const { simple, bareLfs } = sevenBit(bytes);
  return {
    headers: `Content-Type: text/${subtype}; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: ${simple ? "7bit" : "quoted-printable"}\r\n`,
    body: simple ? withCrlf(bytes, bareLfs) : encodeQuotedPrintableBytes(bytes),
  };
}

/** The octets of `pieces` (strings as UTF-8) one after another, copied once. */
function concat(pieces: ReadonlyArray<string | Uint8Array>): Uint8Array {
  return concatBytes(
    pieces.map((piece) => typeof piece === "string" ? encoder.encode(piece) : piece),
  );
}

/**
 * A lower bound of the size of the message {@linkcode composeMessage} builds, in octets,
 * computed without building it: the size check before composing.
 */
export function composedSizeAtLeast(input: Pick<ComposeInput, "text" | "html">): number {
  // A UTF-16 unit never becomes fewer UTF-8 octets, and encoding only adds.
  return (input.text?.length ?? 0) + (input.html?.length ?? 0);
}

/** Builds the message bytes. */
export function composeMessage(input: ComposeInput): Uint8Array {
  const generated: Array<[string, string]> = [
    ["Date", formatRfc5322Date(input.date)],
    ["From", encodeAddressList(input.from)],
    ["To", encodeAddressList(input.to.join(", "))],
  ];
  if (input.subject !== null) generated.push(["Subject", encodeHeaderText(input.subject)]);
  generated.push(["Message-ID", `<${crypto.randomUUID()}@${input.hostname}>`]);
  generated.push(["MIME-Version", "1.0"]);
  const overridden = new Set(input.headers.map(([name]) => name.toLowerCase()));
  const fields = generated.filter(([name]) => !overridden.has(name.toLowerCase()));
  for (const [name, value] of input.headers) fields.push([name, encodeHeaderText(value)]);
  const header = fields.map(([name, value]) => `${name}: ${value}\r\n`).join("");
  if (input.text !== null && input.html !== null) {
    const boundary = `=_elektromail_${crypto.randomUUID()}`;
    const plain = textPart("plain", input.text);
    const html = textPart("html", input.html);
    return concat([
      `${header}Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n\r\n`,
      `--${boundary}\r\n${plain.headers}\r\n`,
      plain.body,
      `\r\n--${boundary}\r\n${html.headers}\r\n`,
      html.body,
      `\r\n--${boundary}--\r\n`,
    ]);
  }
  const part = input.html !== null
    ? textPart("html", input.html)
    : textPart("plain", input.text ?? "");
  return concat([`${header}${part.headers}\r\n`, part.body]);
}
