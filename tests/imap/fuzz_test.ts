/**
 * Deterministic fuzzing of the framer and parser (issue 3 section 5): random and mutated
 * commands from a corpus of valid ones, random chunking, random literal decisions. The only
 * error allowed out is ParseError, and every run must finish.
 */

import assert from "node:assert/strict";
import { randomBelow } from "../harness/random.ts";
import { type FramedCommand, ImapFramer } from "../../lib/imap/framer.ts";
import { readFetchAttributes } from "../../lib/imap/parse_fetch.ts";
import { readSearchProgram } from "../../lib/imap/parse_search.ts";
import { ParseError, readCommandName, Reader } from "../../lib/imap/parser.ts";
import { expandSequenceSet } from "../../lib/imap/sequence.ts";

const enc = new TextEncoder();

const CORPUS = [
  "a1 LOGIN bob secret\r\n",
  'a2 LOGIN "bob" {6}\r\nsecret\r\n',
  "a3 SELECT INBOX\r\n",
  "a4 EXAMINE Entw&APw-rfe\r\n",
  'a5 UID FETCH 1:*,3 (UID FLAGS BODY.PEEK[HEADER.FIELDS (From "To")]<0.100> BINARY[1.2]<0.5>)\r\n',
  "a6 FETCH 2 FAST\r\n",
  "a7 FETCH $ (BODY[1.MIME] BODY[TEXT] RFC822.SIZE BINARY.SIZE[1] INTERNALDATE)\r\n",
  'a8 SEARCH RETURN (MIN MAX) CHARSET UTF-8 OR FROM "x" NOT (SEEN SINCE 1-Feb-2024) UID 1:5\r\n',
  'a9 SEARCH HEADER X-Test {3+}\r\nabc LARGER 10 SMALLER 99999 SENTON "05-Mar-2024" $ 1,2:*\r\n',
  'b1 APPEND INBOX (\\Seen $Junk) "17-Jul-1996 02:44:25 -0700" {12}\r\nHello\r\nWorld\r\n',
  "b2 APPEND Drafts ~{4+}\r\n\0\x01\x02\x03\r\n",
  "b3 STORE 1:3 +FLAGS.SILENT (\\Deleted \\Seen)\r\n",
  'b4 LIST "" %\r\n',
  "b4 LIST Entw&APw-rfe/ (% Sent* {3+}\r\na]b)\r\n",
  'b5 ID ("name" "x" "version" NIL)\r\n',
  "b6 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n",
  "b7 STATUS {5+}\r\nINBOX (MESSAGES UIDNEXT)\r\n",
  "b8 COPY 1:* Trash\r\n",
  "b9 NOOP\r\n",
];

const ALPHABET = enc.encode(' ()[]{}<>"\\*%$:,.+-~0123456789aAzZ\r\n\0\xff');

function mutate(rand: (n: number) => number, input: Uint8Array): Uint8Array {
  const bytes = [...input];
  for (let k = 1 + rand(4); k > 0; k--) {
    const at = rand(bytes.length + 1);
    switch (rand(6)) {
      case 0:
        bytes[at] = rand(256);
        break;
      case 1:
        bytes.splice(at, 0, ALPHABET[rand(ALPHABET.length)]);
        break;
      case 2:
        bytes.splice(at, 1 + rand(4));
        break;
      case 3:
        bytes.splice(at, 0, ...bytes.slice(rand(bytes.length), rand(bytes.length)));
        break;
      case 4:
        bytes.splice(
          at,
          0,
          ...enc.encode(`{${rand(3) === 0 ? rand(100000) : rand(20)}${rand(2) ? "+" : ""}}\r\n`),
        );
        break;
      default:
        bytes[at] = ALPHABET[rand(ALPHABET.length)];
    }
  }
  return new Uint8Array(bytes.slice(0, 4000));
}

/** Runs the parsers a command could reach; only ParseError may escape. */
function parseEverything(command: FramedCommand) {
  const attempts: Array<(r: Reader) => void> = [
    (r) => {
      r.readTag();
      r.sp();
      let verb = readCommandName(r);
      if (verb === "UID") {
        r.sp();
        verb = readCommandName(r);
      }
      r.sp();
      switch (verb) {
        case "FETCH":
          expandSequenceSet(r.readSequenceSet(), [1, 2, 3, 50], 50);
          r.sp();
          readFetchAttributes(r);
          break;
        case "SEARCH":
          readSearchProgram(r);
          break;
        case "APPEND":
          r.readMailbox(false);
          r.sp();
          if (r.peek() === "(") (r.readFlagList(), r.sp());
          if (r.peek() === '"') (r.readDateTime(), r.sp());
          r.readLiteralBytes();
          break;
        case "STORE":
          r.readSequenceSet();
          r.sp();
          r.readAtom();
          r.sp();
          r.readFlagList();
          break;
        case "ID":
          if (!r.tryKeyword("NIL")) {
            r.expect("(");
            do (r.readString(), r.sp(), r.readNstring()); while (r.maybeSp());
            r.expect(")");
          }
          break;
        case "LIST":
          r.readListMailbox(false);
          r.sp();
          if (r.peek() === "(") {
            r.expect("(");
            do r.readListMailbox(true); while (r.maybeSp());
            r.expect(")");
          } else r.readListMailbox(true);
          break;
        default:
          r.readMailbox(true);
          while (r.maybeSp()) r.readAstring();
      }
      r.end();
    },
    (r) => {
      r.readTag();
      r.sp();
      r.readAtom();
      while (!r.atEnd()) {
        r.sp();
        r.readDate();
      }
    },
    (r) => {
      r.readTag();
      r.sp();
      r.readAtom();
      r.sp();
      r.readMailbox(false);
      r.sp();
      r.readNstring();
      r.readNzNumber();
    },
  ];
  for (const attempt of attempts) {
    try {
      attempt(new Reader(command));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      assert.equal(typeof error.message, "string");
    }
  }
}

function frameAndParse(rand: (n: number) => number, input: Uint8Array, chaos = true): number {
  const framer = new ImapFramer({ maxLineLength: 300, maxLiteralSize: 200 });
  let commands = 0;
  let at = 0;
  let steps = 0;
  while (at < input.length) {
    const size = 1 + rand(rand(4) === 0 ? 8 : 200);
    framer.push(input.slice(at, at + size));
    at += size;
    for (let event = framer.next(); event; event = framer.next()) {
      assert.ok(++steps < 10_000, "framer does not make progress");
      if (event.type === "literal-request") {
        if (event.size <= 200 && (!chaos || rand(5) > 0)) framer.acceptLiteral();
        else framer.rejectLiteral();
      } else if (event.type === "command") {
        commands++;
        parseEverything(event.command);
      }
      if (chaos && rand(50) === 0) framer.readRawLine();
    }
  }
  return commands;
}

Deno.test("fuzz: framer and parser throw only ParseError and always finish", () => {
  const rand = randomBelow(20260525);
  const started = performance.now();
  let commands = 0;
  // The corpus itself must parse cleanly where it is valid.
  for (const text of CORPUS) commands += frameAndParse(rand, enc.encode(text), false);
  assert.equal(commands, CORPUS.length);
  for (let round = 0; round < 8000; round++) {
    let input: Uint8Array;
    if (round % 4 === 0) {
      input = Uint8Array.from(
        { length: rand(300) },
        () => rand(3) ? ALPHABET[rand(ALPHABET.length)] : rand(256),
      );
    } else {
      const base = CORPUS[rand(CORPUS.length)] + (rand(2) ? CORPUS[rand(CORPUS.length)] : "");
      input = mutate(rand, enc.encode(base));
    }
    commands += frameAndParse(rand, input);
  }
  assert.ok(commands > 4000, `only ${commands} commands framed`);
  assert.ok(performance.now() - started < 20_000, "fuzzing took too long");
});
