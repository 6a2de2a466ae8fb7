/**
 * Every function that runs a regular expression or a scanner over message or client text,
 * by name, each taking one string: the table the extractor fuzz test times on hostile input
 * (issue 11, item 3). A message-level entry puts the input into the header fields and the
 * body of a message and runs the parser over it.
 *
 * @module
 */

import {
  addressOf,
  composeMessage,
  encodeAddressList,
  encodeHeaderText,
} from "../../lib/http/compose.ts";
import { defuse, inlineCidImages } from "../../lib/http/web/html_body.ts";
import { displayAddresses } from "../../lib/mail/address.ts";
import { bodyStructureOf } from "../../lib/mail/bodystructure.ts";
import { envelopeOf } from "../../lib/mail/envelope.ts";
import { decodeEncodedWords } from "../../lib/mail/headers.ts";
import { summarizeMessage } from "../../lib/mail/summary.ts";
import { extractCodes, extractLinks } from "../../lib/mail/links.ts";
import { extractContent, parseContentType, parseMime } from "../../lib/mail/mime.ts";
import { dateDay } from "../../lib/mail/search_text.ts";
import { parsePathArgument } from "../../lib/smtp/address.ts";

const encoder = new TextEncoder();

/** Size of each fuzz input, in UTF-16 units. */
export const FUZZ_SIZE = 1024 * 1024;

/**
 * `fragment` repeated to about 1 MB, between an `x` and a control character, so a run of
 * white space is inside the text (not trimmed away) and nothing matches at the end.
 */
export function repeated(fragment: string): string {
  return "x" + fragment.repeat(Math.ceil(FUZZ_SIZE / fragment.length)) + "\u0001";
}

/** A seeded pseudo-random string of about 1 MB over the characters that matter to markup. */
export function random(seed: number): string {
  const alphabet = `<>!-/="' \t\r\n&#;()?*@.,:aAbq1x\\`;
  let state = seed >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < FUZZ_SIZE; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out.push(alphabet[(state >>> 0) % alphabet.length]);
  }
  return out.join("");
}

/** A message with `input` in the fields parsers read, and as its body. */
export function messageWith(input: string, field?: string): Uint8Array {
  const fields = field === undefined
    ? [
      "Subject",
      "From",
      "To",
      "Date",
      "Content-Type",
      "Content-Language",
      "Content-ID",
      "Content-Disposition",
    ]
    : [field];
  const header = fields.map((name) =>
    `${name}: ${name === "Content-Type" ? "multipart/mixed; " : ""}${input}\r\n`
  ).join("");
  return encoder.encode(`${header}\r\n${input}`);
}

const CID_MESSAGE = encoder.encode(
  "Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\nx\r\n" +
    "--b\r\nContent-Type: image/png\r\nContent-ID: <a>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    "iVBORw0KGgo=\r\n--b--\r\n",
);

/** The message parsers over a message with `input` in `field`: one field at a time keeps a failure specific. */
function messageParsers(field: string): Record<string, (input: string) => unknown> {
  return {
    [`parseMime, extractContent, bodyStructureOf, envelopeOf (${field})`]: (input) => {
      const raw = messageWith(input, field);
      const root = parseMime(raw);
      return [extractContent(raw, root), bodyStructureOf(raw, root), envelopeOf(raw, root)];
    },
  };
}

/** Name → the extractor run over one input. */
export const EXTRACTORS: Readonly<Record<string, (input: string) => unknown>> = {
  "extractLinks (html), htmlToText": (input) => extractLinks(null, input),
  "extractLinks (text)": (input) => extractLinks(input, null),
  "extractCodes": (input) => extractCodes(input, input, input),
  "defuse": defuse,
  "inlineCidImages": (input) => inlineCidImages(input, CID_MESSAGE, parseMime(CID_MESSAGE)),
  "decodeEncodedWords": decodeEncodedWords,
  "parseHeaderFields, summarizeMessage": (input) => summarizeMessage(messageWith(input)),
  ...messageParsers("Content-Type"),
  ...messageParsers("Content-Disposition"),
  ...messageParsers("Content-Language"),
  ...messageParsers("Content-ID"),
  ...messageParsers("From"),
  "parseContentType": parseContentType,
  "displayAddresses": displayAddresses,
  "dateDay": dateDay,
  "encodeAddressList, splitAddresses": encodeAddressList,
  "addressOf": addressOf,
  "encodeHeaderText": encodeHeaderText,
  "composeMessage (text)": (input) =>
    composeMessage({
      from: "a@example.com",
      to: ["b@example.com"],
      subject: null,
      text: input,
      html: null,
      headers: [],
      date: 0,
      hostname: "localhost",
    }),
  "parsePathArgument": (input) => {
    try {
      return parsePathArgument(`FROM:${input}`, "FROM");
    } catch {
      return null;
    }
  },
};
