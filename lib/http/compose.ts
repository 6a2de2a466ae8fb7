/**
 * Building an RFC 5322 message from the fields of `POST /inject`: Date, Message-ID and
 * MIME-Version headers, RFC 2047 encoded words for non-ASCII header text, quoted-printable
 * bodies, and multipart/alternative when both text and html are given.
 *
 * @module
 */

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

/**
 * Encodes header text as RFC 2047 `B` encoded words when it is not plain ASCII, each word
 * at most 75 characters and never splitting a UTF-8 sequence; words are folded onto lines.
 */
export function encodeHeaderText(text: string): string {
  if (isPlainAscii(text)) return text;
  const words: string[] = [];
  let chunk = "";
  for (const char of text) {
    // 39 octets become 52 base64 characters, 64 with the framing: room for a field name.
    if (encoder.encode(chunk + char).length > 39) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${base64(encoder.encode(word))}?=`).join("\r\n ");
}

/** Encodes the display names of an address list (`Name <a@b>, c@d`) where needed. */
export function encodeAddressList(value: string): string {
  return splitAddresses(value).map((address) => {
    const match = /^\s*(.*?)\s*(<[^<>]*>)\s*$/.exec(address);
    if (!match || isPlainAscii(match[1])) return address.trim();
    const name = match[1].replace(/^"(.*)"$/, "$1");
    return `${encodeHeaderText(name)} ${match[2]}`;
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
  const match = /<([^<>]*)>\s*$/.exec(value);
  return (match ? match[1] : value).trim();
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Quoted-printable (RFC 2045 6.7) of UTF-8 text with CRLF line ends, lines ≤ 76. */
export function encodeQuotedPrintable(text: string): string {
  const lines = text.split(/\r?\n/);
  return lines.map((line) => {
    const bytes = encoder.encode(line);
    let out = "";
    let width = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      const last = i === bytes.length - 1;
      const literal = (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) ||
        ((byte === 0x20 || byte === 0x09) && !last);
      const piece = literal
        ? String.fromCharCode(byte)
        : "=" + byte.toString(16).toUpperCase().padStart(2, "0");
      if (width + piece.length > 75) {
        out += "=\r\n";
        width = 0;
      }
      out += piece;
      width += piece.length;
    }
    return out;
  }).join("\r\n");
}

/** A body part: its Content-Type and Content-Transfer-Encoding, then the encoded body. */
function textPart(subtype: "plain" | "html", text: string): { headers: string; body: string } {
  const normalized = text.replace(/\r?\n/g, "\r\n");
  const simple = isPlainAscii(normalized.replace(/\r\n/g, "")) &&
    normalized.split("\r\n").every((line) => line.length <= 998);
  return {
    headers: `Content-Type: text/${subtype}; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: ${simple ? "7bit" : "quoted-printable"}\r\n`,
    body: simple ? normalized : encodeQuotedPrintable(normalized),
  };
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
  let header = fields.map(([name, value]) => `${name}: ${value}\r\n`).join("");
  let body: string;
  if (input.text !== null && input.html !== null) {
    const boundary = `=_elektromail_${crypto.randomUUID()}`;
    const plain = textPart("plain", input.text);
    const html = textPart("html", input.html);
    header += `Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n`;
    body = `--${boundary}\r\n${plain.headers}\r\n${plain.body}\r\n` +
      `--${boundary}\r\n${html.headers}\r\n${html.body}\r\n--${boundary}--\r\n`;
  } else {
    const part = input.html !== null
      ? textPart("html", input.html)
      : textPart("plain", input.text ?? "");
    header += part.headers;
    body = part.body;
  }
  return encoder.encode(`${header}\r\n${body}`);
}
