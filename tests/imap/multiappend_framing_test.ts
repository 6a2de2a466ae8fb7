/**
 * MULTIAPPEND and CATENATE through the two input layers (STYLE.md practices 2 and 11): one
 * command with several literals of every kind (`{n}`, `{n+}`, `~{n+}`, CATENATE `TEXT`,
 * literals holding CRLF and braces) framed from input split at every offset and at every
 * pair of offsets gives the same command, and the APPEND parser reads the same messages
 * from it (RFC 3502 6.3.11, RFC 4469 5, RFC 7888 3, RFC 3516 4.4).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type AppendMessage,
  MAX_CATENATE_URLS,
  readAppendArguments,
} from "../../lib/imap/commands/append.ts";
import { ImapError } from "../../lib/imap/context.ts";
import { type FramedCommand, ImapFramer } from "../../lib/imap/framer.ts";
import { ParseError, Reader } from "../../lib/imap/parser.ts";
import { enc } from "./framer_helpers.ts";

const dec = new TextDecoder();

const COMMAND = "a1 APPEND INBOX (\\Seen) {7}\r\nm1\r\n{x} ~{3+}\r\nm\u00002" +
  ' "25-Nov-2026 08:00:00 +0100" CATENATE (TEXT {4+}\r\nhd\r\n URL "/INBOX/;UID=1")' +
  " () {2+}\r\nm3\r\n";

/** Every command the framer makes of `chunks` (each literal request accepted). */
function frame(chunks: Uint8Array[]): FramedCommand[] {
  const framer = new ImapFramer({ maxLineLength: 8192, maxLiteralSize: 1000 });
  const commands: FramedCommand[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let event = framer.next(); event; event = framer.next()) {
      if (event.type === "command") commands.push(event.command);
      else if (event.type === "literal-request") framer.acceptLiteral();
      else assert.fail(`unexpected ${event.type}`);
    }
  }
  return commands;
}

/** The messages as plain values, for deepEqual. */
function describe(messages: AppendMessage[]) {
  return messages.map(({ flags, internalDate, data }) => ({
    flags,
    internalDate,
    data: data instanceof Uint8Array
      ? dec.decode(data)
      : data.map((part) => part.kind === "text" ? `TEXT ${dec.decode(part.bytes)}` : part.url),
  }));
}

function parse(command: FramedCommand) {
  const reader = new Reader(command);
  reader.readTag();
  reader.sp();
  assert.equal(reader.readAtom(), "APPEND");
  const { mailbox, messages } = readAppendArguments(reader, false);
  return { mailbox: mailbox.name, messages: describe(messages) };
}

const EXPECTED = {
  mailbox: "INBOX",
  messages: [
    { flags: ["\\Seen"], internalDate: undefined, data: "m1\r\n{x}" },
    { flags: [], internalDate: undefined, data: "m\u00002" },
    {
      flags: [],
      internalDate: Date.UTC(2026, 10, 25, 7),
      data: ["TEXT hd\r\n", "/INBOX/;UID=1"],
    },
    { flags: [], internalDate: undefined, data: "m3" },
  ],
};

Deno.test("MULTIAPPEND framing: one command, four messages, parsed whole", () => {
  const [command] = frame([enc.encode(COMMAND)]);
  assert.equal(command.literals.length, 4);
  assert.deepEqual(parse(command), EXPECTED);
});

Deno.test("MULTIAPPEND framing: the same at every split and every pair of splits", () => {
  const bytes = enc.encode(COMMAND);
  const whole = frame([bytes]);
  for (let i = 1; i < bytes.length; i++) {
    for (let j = i; j < bytes.length; j++) {
      const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
      const commands = frame(chunks);
      assert.equal(commands.length, 1, `split at ${i}, ${j}`);
      assert.deepEqual(commands[0].line, whole[0].line, `split at ${i}, ${j}`);
      assert.deepEqual(commands[0].literals, whole[0].literals, `split at ${i}, ${j}`);
      if (j === i) assert.deepEqual(parse(commands[0]), EXPECTED, `split at ${i}`);
    }
  }
});

Deno.test("MULTIAPPEND parsing: malformed message lists are BAD", () => {
  const bad = [
    "a APPEND INBOX {1+}\r\nx junk\r\n",
    "a APPEND INBOX {1+}\r\nx \r\n",
    "a APPEND INBOX {1+}\r\nx  {1+}\r\ny\r\n",
    "a APPEND INBOX CATENATE ()\r\n",
    'a APPEND INBOX CATENATE (TEXT "quoted")\r\n',
    "a APPEND INBOX CATENATE (URL)\r\n",
    'a APPEND INBOX CATENATE URL "/INBOX/;UID=1"\r\n',
    "a APPEND INBOX (\\Seen) (\\Draft) {1+}\r\nx\r\n",
    "a APPEND INBOX\r\n",
  ];
  for (const text of bad) {
    const [command] = frame([enc.encode(text)]);
    assert.throws(() => parse(command), ParseError, JSON.stringify(text));
  }
});

Deno.test("MULTIAPPEND parsing: more CATENATE URLs than MAX_CATENATE_URLS is NO [LIMIT]", () => {
  const url = ' URL "/INBOX/;UID=1"';
  const half = url.repeat(MAX_CATENATE_URLS / 2).slice(1);
  const fits = `a APPEND INBOX CATENATE (${half}) CATENATE (${half})\r\n`;
  assert.equal(parse(frame([enc.encode(fits)])[0]).messages.length, 2);
  const over = `a APPEND INBOX CATENATE (${half}) CATENATE (${half}${url})\r\n`;
  assert.throws(() => parse(frame([enc.encode(over)])[0]), (error: unknown) => {
    assert.ok(error instanceof ImapError);
    assert.equal(error.code, "LIMIT");
    return true;
  });
});
