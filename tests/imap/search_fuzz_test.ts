/**
 * Deterministic fuzzing of SEARCH: programs generated from the RFC 9051 grammar (keys,
 * nesting, sets, dates, quoted strings and literals), then mutated at the token and byte
 * level, framed and parsed. The parser may only throw ParseError; whatever it accepts is
 * compiled and run over a small mailbox, which must never throw.
 */

import assert from "node:assert/strict";
import { randomBelow } from "../harness/random.ts";
import { ImapFramer } from "../../lib/imap/framer.ts";
import { readSearchProgram } from "../../lib/imap/parse_search.ts";
import { ParseError, readCommandName, Reader } from "../../lib/imap/parser.ts";
import { compileSearch, type SearchEnvironment } from "../../lib/imap/search.ts";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { searchAddresses, searchHeaders, searchText } from "../../lib/mail/search_text.ts";

const enc = new TextEncoder();

const FLAG_KEYS = [
  "ALL",
  "ANSWERED",
  "DELETED",
  "DRAFT",
  "FLAGGED",
  "SEEN",
  "UNANSWERED",
  "UNDELETED",
  "UNDRAFT",
  "UNFLAGGED",
  "UNSEEN",
  "NEW",
  "OLD",
  "RECENT",
];
const STRING_KEYS = ["BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO"];
const DATE_KEYS = [
  "BEFORE",
  "ON",
  "SINCE",
  "SENTBEFORE",
  "SENTON",
  "SENTSINCE",
  "SAVEDBEFORE",
  "SAVEDON",
  "SAVEDSINCE",
];
const WORDS = ["x", "", "Grüße", "a b", 'q"uote', "back\\slash", "NIL", "*", "{3}", "日本"];

/** A generated program: the command text with literals inline, as a client would send it. */
function generate(rand: (n: number) => number): string {
  const string = (): string => {
    const word = WORDS[rand(WORDS.length)];
    switch (rand(3)) {
      case 0:
        return /^[A-Za-z*]+$/.test(word) ? word : `"${word.replace(/["\\]/g, "\\$&")}"`;
      case 1:
        return `"${word.replace(/["\\]/g, "\\$&")}"`;
      default:
        return `{${enc.encode(word).length}${rand(2) ? "+" : ""}}\r\n${word}`;
    }
  };
  const number = () => String(rand(3) === 0 ? rand(1_000_000) : 1 + rand(9));
  const set = (): string => {
    if (rand(8) === 0) return "$";
    const parts: string[] = [];
    for (let i = 0; i <= rand(3); i++) {
      const a = rand(5) === 0 ? "*" : number();
      parts.push(rand(2) ? `${a}:${rand(4) === 0 ? "*" : number()}` : a);
    }
    return parts.join(",");
  };
  const date = () => {
    const text = `${1 + rand(31)}-${["Jan", "feb", "MAR", "Dec", "Foo"][rand(5)]}-${
      1990 + rand(60)
    }`;
    return rand(2) ? text : `"${text}"`;
  };
  const key = (depth: number): string => {
    switch (depth > 4 ? rand(5) : rand(10)) {
      case 0:
        return FLAG_KEYS[rand(FLAG_KEYS.length)];
      case 1:
        return `${STRING_KEYS[rand(STRING_KEYS.length)]} ${string()}`;
      case 2:
        return `${DATE_KEYS[rand(DATE_KEYS.length)]} ${date()}`;
      case 3:
        if (rand(3) === 0) return `${rand(2) ? "OLDER" : "YOUNGER"} ${number()}`;
        return `${rand(2) ? "LARGER" : "SMALLER"} ${number()}`;
      case 4:
        return rand(2) ? `UID ${set()}` : set();
      case 5:
        return `HEADER ${["X-Id", "Subject", '""', "{4+}\r\nDate"][rand(4)]} ${string()}`;
      case 6:
        return `${rand(2) ? "KEYWORD" : "UNKEYWORD"} ${["$Work", "\\Seen", "foo"][rand(3)]}`;
      case 7:
        return `NOT ${key(depth + 1)}`;
      case 8:
        return `OR ${key(depth + 1)} ${key(depth + 1)}`;
      default:
        return `(${keys(depth + 1)})`;
    }
  };
  const keys = (depth: number) => Array.from({ length: 1 + rand(3) }, () => key(depth)).join(" ");
  let prefix = "";
  if (rand(3) === 0) {
    const options = [
      "MIN",
      "MAX",
      "ALL",
      "COUNT",
      "SAVE",
      "UPDATE",
      "PARTIAL 1:5",
      "PARTIAL -1:-3",
      "PARTIAL",
      "PARTIAL 0:-1",
    ];
    prefix += `RETURN (${
      Array.from({ length: rand(4) }, () => options[rand(options.length)]).join(" ")
    }) `;
  }
  if (rand(4) === 0) prefix += `CHARSET ${["UTF-8", '"us-ascii"', "KOI8-R"][rand(3)]} `;
  return `t${rand(100)} ${rand(2) ? "UID " : ""}SEARCH ${prefix}${keys(0)}\r\n`;
}

const NOISE = ' ()"{}\\*$:,+-0123456789\r\n\x00\xff';

/** Token- and byte-level damage. */
function mutate(rand: (n: number) => number, text: string): Uint8Array {
  let tokens = text.split(/(?<= )/);
  for (let k = 1 + rand(3); k > 0; k--) {
    const at = rand(tokens.length);
    switch (rand(5)) {
      case 0:
        tokens.splice(at, 1);
        break;
      case 1:
        tokens.splice(at, 0, tokens[rand(tokens.length)]);
        break;
      case 2:
        [tokens[at], tokens[0]] = [tokens[0], tokens[at]];
        break;
      case 3:
        tokens[at] = tokens[at].slice(0, rand(tokens[at].length + 1));
        break;
      default:
        tokens = [...tokens.slice(0, at), NOISE[rand(NOISE.length)], ...tokens.slice(at)];
    }
  }
  const bytes = [...enc.encode(tokens.join(""))];
  if (rand(3) === 0) bytes[rand(bytes.length)] = rand(256);
  if (!text.endsWith("\r\n") || rand(2)) bytes.push(0x0d, 0x0a);
  return new Uint8Array(bytes);
}

function mailbox() {
  const raws = [
    "From: A <a@x>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: 1 Mar 2024 10:00 +0100\r\n\r\nx\r\n",
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b--\r\n",
    "",
  ].map((text) => enc.encode(text));
  const messages = raws.map((raw, i) => ({
    seq: i + 1,
    uid: 3 * i + 1,
    flags: i === 0 ? ["\\Seen", "$Work"] : [],
    internalDate: Date.UTC(2024, 2, i + 1),
    saveDate: Date.UTC(2024, 2, i + 2),
    size: raw.length,
    modseq: i + 1,
    raw,
    index: new MessageIndex(raw),
  }));
  const byUid = new Map(messages.map((m) => [m.uid, m]));
  const env: SearchEnvironment = {
    messageCount: messages.length,
    maxUid: 7,
    saved: [4],
    now: Date.UTC(2024, 2, 3),
    isRecent: (c) => c.uid === 7,
    headers: (c) => searchHeaders(byUid.get(c.uid)!.index),
    addresses: (c) => searchAddresses(byUid.get(c.uid)!.index),
    text: (c) => searchText(byUid.get(c.uid)!.index, () => byUid.get(c.uid)!.raw),
  };
  return { messages, env };
}

Deno.test("search fuzz: generated and mutated programs give ParseError or a result", () => {
  const rand = randomBelow(20261125);
  const { messages, env } = mailbox();
  let parsed = 0;
  let refused = 0;
  for (let round = 0; round < 6000; round++) {
    const text = generate(rand);
    const input = round % 3 === 0 ? enc.encode(text) : mutate(rand, text);
    const framer = new ImapFramer({ maxLineLength: 2048, maxLiteralSize: 256 });
    framer.push(input);
    for (let event = framer.next(); event; event = framer.next()) {
      if (event.type === "literal-request") {
        if (rand(8) === 0) framer.rejectLiteral();
        else framer.acceptLiteral();
        continue;
      }
      if (event.type !== "command") continue;
      const reader = new Reader(event.command);
      try {
        reader.readTag();
        reader.sp();
        if (readCommandName(reader) === "UID") (reader.sp(), readCommandName(reader));
        reader.sp();
        const program = readSearchProgram(reader);
        const matches = compileSearch(program.key, env);
        for (const message of messages) assert.equal(typeof matches(message), "boolean");
        parsed++;
      } catch (error) {
        if (!(error instanceof ParseError)) {
          throw new Error(`${JSON.stringify(new TextDecoder().decode(input))}: ${error}`);
        }
        refused++;
      }
    }
  }
  // Both outcomes must be common, or the generator is not exercising the parser.
  assert.ok(parsed > 1000, `only ${parsed} programs parsed`);
  assert.ok(refused > 2000, `only ${refused} programs refused`);
});
