import assert from "node:assert/strict";
import { scanQuoted } from "../../lib/imap/chars.ts";
import { ImapFramer } from "../../lib/imap/framer.ts";
import {
  readFetchAttributes,
  readFetchModifiers,
  responseKey,
} from "../../lib/imap/parse_fetch.ts";
import { readModSequence } from "../../lib/imap/parse_modseq.ts";
import { readSearchProgram } from "../../lib/imap/parse_search.ts";
import { ParseError, readCommandName, Reader } from "../../lib/imap/parser.ts";
import { enc, splits } from "./framer_helpers.ts";

/** Frames `input` under every split, runs `read` on each framed command; results must agree. */
function parse<T>(input: string | Uint8Array, read: (reader: Reader) => T): T {
  const bytes = typeof input === "string" ? enc.encode(input) : input;
  let first: { value: T } | null = null;
  for (const chunks of splits(bytes)) {
    const framer = new ImapFramer({ maxLineLength: 4096, maxLiteralSize: 4096 });
    let command = null;
    for (const chunk of chunks) {
      framer.push(chunk);
      for (let event = framer.next(); event; event = framer.next()) {
        if (event.type === "literal-request") framer.acceptLiteral();
        else if (event.type === "command") command = event.command;
        else assert.fail(`unexpected ${event.type}`);
      }
    }
    assert.ok(command, "no command framed");
    const value = read(new Reader(command));
    if (first) assert.deepEqual(value, first.value);
    else first = { value };
  }
  return first!.value;
}

/** Reads tag SP verb [SP], then `read`, then end(). */
function args<T>(input: string | Uint8Array, read: (reader: Reader) => T): T {
  return parse(input, (reader) => {
    reader.readTag();
    reader.sp();
    readCommandName(reader);
    reader.sp();
    const value = read(reader);
    reader.end();
    return value;
  });
}

function fails(
  input: string | Uint8Array,
  read: (reader: Reader) => unknown,
  message?: RegExp,
): ParseError {
  try {
    args(input, read);
  } catch (error) {
    assert.ok(error instanceof ParseError, `not a ParseError: ${error}`);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`parsed: ${String(input)}`);
}

Deno.test("parser: tag and command name", () => {
  assert.deepEqual(
    parse("A001 uid fetch 1 UID\r\n", (r) => {
      const tag = r.readTag();
      r.sp();
      const verb = readCommandName(r);
      r.sp();
      return [tag, verb, readCommandName(r)];
    }),
    ["A001", "UID", "FETCH"],
  );
  const error = fails("a+ NOOP\r\n", () => null);
  assert.equal(error.tag, "a");
  assert.throws(() => parse("(x NOOP\r\n", (r) => r.readTag()), ParseError);
});

Deno.test("parser: ParseError carries the tag", () => {
  const error = fails("t9 LOGIN\r\n", (r) => r.readAstring());
  assert.equal(error.tag, "t9");
});

Deno.test("parser: astring as atom, quoted, literal and LITERAL+", () => {
  const two = (r: Reader) => {
    const a = r.readAstring();
    r.sp();
    return [a, r.readAstring()];
  };
  assert.deepEqual(args("a LOGIN bob]x secret\r\n", two), ["bob]x", "secret"]);
  assert.deepEqual(args('a LOGIN "b \\"o\\\\ b" ""\r\n', two), ['b "o\\ b', ""]);
  assert.deepEqual(args('a LOGIN {3}\r\nb"b {4+}\r\np w\r\n', two), ['b"b', "p w\r"]);
  assert.deepEqual(args('a LOGIN "jürgen" {5}\r\nüber\r\n', two), ["jürgen", "über"]);
});

Deno.test("parser: scanQuoted unescapes, finds the end, flags 8-bit", () => {
  const scan = (input: string) => {
    const result = scanQuoted(enc.encode(input), 1);
    return typeof result === "string"
      ? result
      : { value: new TextDecoder().decode(result.value), end: result.end, high: result.highBit };
  };
  assert.deepEqual(scan('"a\\"b" x'), { value: 'a"b', end: 6, high: false });
  assert.deepEqual(scan('"\\\\\\""'), { value: '\\"', end: 6, high: false });
  assert.deepEqual(scan('""'), { value: "", end: 2, high: false });
  assert.deepEqual(scan('"ü\\\\"'), { value: "ü\\", end: 6, high: true });
  assert.match(scan('"abc') as string, /Unterminated/);
  assert.match(scan('"ab\\') as string, /escape/);
  assert.match(scan('"a\\x"') as string, /escape/);
  assert.match(scan('"a\rb"') as string, /Invalid character/);
  assert.match(scan('"a\0b"') as string, /Invalid character/);
});

Deno.test("parser: quoted string errors", () => {
  fails('a LOGIN "abc\r\n', (r) => r.readAstring(), /Unterminated/);
  fails('a LOGIN "a\\b"\r\n', (r) => r.readAstring(), /escape/);
  fails(
    new Uint8Array([...enc.encode('a LOGIN "'), 0xff, ...enc.encode('"\r\n')]),
    (r) => r.readAstring(),
    /UTF-8/,
  );
  fails("a LOGIN (x)\r\n", (r) => r.readAstring());
});

Deno.test("parser: a brace in the middle of a line is not a literal", () => {
  fails("a LOGIN {3} {3}\r\nabc\r\n", (r) => {
    r.readAstring();
    r.sp();
    return r.readAstring();
  }, /literal/);
});

Deno.test('parser: nstring keeps NIL apart from "NIL" and ""', () => {
  const three = (
    r: Reader,
  ) => [r.readNstring(), (r.sp(), r.readNstring()), (r.sp(), r.readNstring())];
  assert.deepEqual(args('a ID nil "NIL" ""\r\n', three), [null, "NIL", ""]);
});

Deno.test("parser: readString returns literal bytes, quoted text", () => {
  const value = args("a X {2}\r\nhi\r\n", (r) => r.readString());
  assert.ok(value instanceof Uint8Array);
  assert.equal(args('a X "hi"\r\n', (r) => r.readString()), "hi");
  fails("a X {1}\r\n\0\r\n", (r) => r.readString(), /NUL/);
});

Deno.test("parser: literal8 only through readLiteralBytes", () => {
  const bytes = args("a APPEND ~{3}\r\n\0ab\r\n", (r) => r.readLiteralBytes());
  assert.deepEqual([...bytes], [0, 0x61, 0x62]);
  fails("a APPEND ~{3}\r\n\0ab\r\n", (r) => r.readString());
  fails('a APPEND "abc"\r\n', (r) => r.readLiteralBytes(), /literal/);
});

Deno.test("parser: numbers", () => {
  assert.equal(args("a X 4294967295\r\n", (r) => r.readNumber()), 4294967295);
  fails("a X 4294967296\r\n", (r) => r.readNumber(), /too large/);
  fails("a X 0\r\n", (r) => r.readNzNumber());
  fails("a X x\r\n", (r) => r.readNumber());
  assert.equal(args("a X 10\r\n", (r) => r.readNumber(10)), 10);
});

Deno.test("parser: sequence sets", () => {
  assert.deepEqual(args("a FETCH 1,3:5,*,7:*\r\n", (r) => r.readSequenceSet()), [
    { start: 1, end: 1 },
    { start: 3, end: 5 },
    { start: "*", end: "*" },
    { start: 7, end: "*" },
  ]);
  assert.equal(args("a FETCH $\r\n", (r) => r.readSequenceSet()), "$");
  for (const bad of ["0", "1:0", "1,", ",1", "1::2", "-1", "$,1", "1:"]) {
    fails(`a FETCH ${bad}\r\n`, (r) => r.readSequenceSet());
  }
});

Deno.test("parser: flags", () => {
  assert.deepEqual(args("a STORE (\\seen \\DELETED $Junk foo)\r\n", (r) => r.readFlagList()), [
    "\\Seen",
    "\\Deleted",
    "$Junk",
    "foo",
  ]);
  assert.deepEqual(args("a STORE ()\r\n", (r) => r.readFlagList()), []);
  fails("a STORE (\\Seen\r\n", (r) => r.readFlagList());
  fails("a STORE (\\*)\r\n", (r) => r.readFlagList());
  fails("a STORE ( \\Seen)\r\n", (r) => r.readFlagList());
});

Deno.test("parser: date-time and date", () => {
  assert.equal(
    args('a APPEND "17-Jul-1996 02:44:25 -0700"\r\n', (r) => r.readDateTime()),
    Date.UTC(1996, 6, 17, 9, 44, 25),
  );
  assert.equal(
    args('a APPEND " 1-jan-2024 00:00:00 +0100"\r\n', (r) => r.readDateTime()),
    Date.UTC(2023, 11, 31, 23),
  );
  for (
    const bad of [
      "1-Jan-2024 00:00:00 +0000",
      "31-Feb-2024 00:00:00 +0000",
      "01-Foo-2024 00:00:00 +0000",
      "01-Jan-2024 24:00:00 +0000",
    ]
  ) {
    fails(`a APPEND "${bad}"\r\n`, (r) => r.readDateTime());
  }
  fails("a APPEND 01-Jan-2024\r\n", (r) => r.readDateTime());
  assert.deepEqual(args("a S 1-Feb-2024\r\n", (r) => r.readDate()), {
    year: 2024,
    month: 2,
    day: 1,
  });
  assert.deepEqual(args('a S "29-feb-2024"\r\n', (r) => r.readDate()), {
    year: 2024,
    month: 2,
    day: 29,
  });
  fails("a S 29-Feb-2023\r\n", (r) => r.readDate());
});

Deno.test("parser: mailbox names", () => {
  assert.equal(args("a SELECT inbox\r\n", (r) => r.readMailbox(false)), "INBOX");
  assert.equal(args('a SELECT "InBoX"\r\n', (r) => r.readMailbox(true)), "INBOX");
  assert.equal(args("a SELECT Entw&APw-rfe\r\n", (r) => r.readMailbox(false)), "Entwürfe");
  assert.equal(args("a SELECT Entw&APw-rfe\r\n", (r) => r.readMailbox(true)), "Entw&APw-rfe");
  assert.equal(args('a SELECT "Entwürfe"\r\n', (r) => r.readMailbox(true)), "Entwürfe");
  fails('a SELECT "Entwürfe"\r\n', (r) => r.readMailbox(false), /UTF-7/);
  fails("a SELECT &Jjo\r\n", (r) => r.readMailbox(false), /UTF-7/);
  // readMailboxName: a name that is not modified UTF-7 is a value, not an error.
  assert.deepEqual(args("a SELECT &Jjo\r\n", (r) => r.readMailboxName(false)), {
    name: "&Jjo",
    invalid: "Mailbox name is not valid modified UTF-7: unterminated &",
  });
  assert.deepEqual(args('a SELECT "Café"\r\n', (r) => r.readMailboxName(false)), {
    name: "Café",
    invalid: "Mailbox name is not valid modified UTF-7: 8-bit or control character",
  });
  const latin1 = Uint8Array.from('a SELECT "Caf\xe9"\r\n', (ch) => ch.charCodeAt(0));
  assert.deepEqual(args(latin1, (r) => r.readMailboxName(false)), {
    name: "",
    invalid: "Mailbox name is not valid modified UTF-7: 8-bit text",
  });
  fails(latin1, (r) => r.readMailboxName(true), /UTF-8/);
  assert.deepEqual(args("a SELECT Entw&APw-rfe\r\n", (r) => r.readMailboxName(false)), {
    name: "Entwürfe",
    invalid: null,
  });
});

Deno.test("parser: list-mailbox patterns", () => {
  const both = (r: Reader) => {
    const reference = r.readListMailbox(false);
    r.sp();
    return [reference, r.readListMailbox(false)];
  };
  assert.deepEqual(args('a LIST "" %\r\n', both), ["", "%"]);
  assert.deepEqual(args("a LIST Work/* Entw&APw-rfe/%\r\n", both), ["Work/*", "Entwürfe/%"]);
  assert.deepEqual(args("a LIST x] {3+}\r\na*b\r\n", both), ["x]", "a*b"]);
  assert.deepEqual(args("a LIST inbox *\r\n", both), ["inbox", "*"]);
  assert.equal(args('a LIST "Entwürfe/*"\r\n', (r) => r.readListMailbox(true)), "Entwürfe/*");
  // Not modified UTF-7: null, a pattern that matches nothing.
  assert.deepEqual(args('a LIST & "Entwürfe/*"\r\n', both), [null, null]);
  assert.deepEqual(
    args("a LIST (% Sent*)\r\n", (r) => {
      r.expect("(");
      const patterns = [r.readListMailbox(true)];
      while (r.maybeSp()) patterns.push(r.readListMailbox(true));
      r.expect(")");
      return patterns;
    }),
    ["%", "Sent*"],
  );
  fails("a LIST (\r\n", (r) => r.readListMailbox(true), /mailbox pattern/);
  fails("a LIST \\x\r\n", (r) => r.readListMailbox(true), /mailbox pattern/);
  assert.equal(args('a LIST "Entwürfe"\r\n', (r) => r.readListMailbox(false)), null);
  assert.equal(args("a LIST &Jjo*\r\n", (r) => r.readListMailbox(false)), null);
});

Deno.test("parser: tryKeyword stops at word boundaries", () => {
  parse("a X NILS\r\n", (r) => {
    r.readTag();
    r.sp();
    r.readAtom();
    r.sp();
    assert.equal(r.tryKeyword("NIL"), false);
    assert.equal(r.tryKeyword("nils"), true);
    assert.equal(r.atEnd(), true);
  });
});

Deno.test("parser: end() rejects trailing input", () => {
  fails("a NOOP x\r\n", () => null, /after the arguments/);
});

Deno.test("parse_fetch: macros, single items and lists", () => {
  const kinds = (input: string) => args(input, (r) => readFetchAttributes(r).map((a) => a.kind));
  assert.deepEqual(kinds("a FETCH fast\r\n"), ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]);
  assert.deepEqual(kinds("a FETCH ALL\r\n"), ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]);
  assert.deepEqual(kinds("a FETCH FULL\r\n"), [
    "FLAGS",
    "INTERNALDATE",
    "RFC822.SIZE",
    "ENVELOPE",
    "BODY",
  ]);
  assert.deepEqual(kinds("a FETCH uid\r\n"), ["UID"]);
  assert.deepEqual(
    kinds(
      "a FETCH (FLAGS UID INTERNALDATE RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT ENVELOPE BODYSTRUCTURE BODY)\r\n",
    ),
    [
      "FLAGS",
      "UID",
      "INTERNALDATE",
      "RFC822.SIZE",
      "RFC822",
      "RFC822.HEADER",
      "RFC822.TEXT",
      "ENVELOPE",
      "BODYSTRUCTURE",
      "BODY",
    ],
  );
  fails("a FETCH (FAST)\r\n", (r) => readFetchAttributes(r));
  fails("a FETCH (UID\r\n", (r) => readFetchAttributes(r));
  fails("a FETCH BODY.PEEK\r\n", (r) => readFetchAttributes(r));
  fails("a FETCH FOO\r\n", (r) => readFetchAttributes(r), /Unknown FETCH item/);
});

Deno.test("parse_fetch: sections and partials", () => {
  const items = args(
    'a FETCH (BODY[] BODY.PEEK[1.2.MIME] body[header.fields (From "To")]<0.10> BODY[TEXT] BODY[2] BODY[3.HEADER.FIELDS.NOT (X)])\r\n',
    (r) => readFetchAttributes(r),
  );
  assert.deepEqual(items, [
    {
      kind: "BODY",
      peek: false,
      section: { part: [], text: null, fields: [] },
      partial: null,
      raw: "BODY[]",
    },
    {
      kind: "BODY",
      peek: true,
      section: { part: [1, 2], text: "MIME", fields: [] },
      partial: null,
      raw: "BODY.PEEK[1.2.MIME]",
    },
    {
      kind: "BODY",
      peek: false,
      section: { part: [], text: "HEADER.FIELDS", fields: ["From", "To"] },
      partial: { offset: 0, length: 10 },
      raw: 'body[header.fields (From "To")]<0.10>',
    },
    {
      kind: "BODY",
      peek: false,
      section: { part: [], text: "TEXT", fields: [] },
      partial: null,
      raw: "BODY[TEXT]",
    },
    {
      kind: "BODY",
      peek: false,
      section: { part: [2], text: null, fields: [] },
      partial: null,
      raw: "BODY[2]",
    },
    {
      kind: "BODY",
      peek: false,
      section: { part: [3], text: "HEADER.FIELDS.NOT", fields: ["X"] },
      partial: null,
      raw: "BODY[3.HEADER.FIELDS.NOT (X)]",
    },
  ]);
  assert.deepEqual(items.map(responseKey), [
    "BODY[]",
    "BODY[1.2.MIME]",
    "BODY[HEADER.FIELDS (From To)]<0>",
    "BODY[TEXT]",
    "BODY[2]",
    "BODY[3.HEADER.FIELDS.NOT (X)]",
  ]);
  for (
    const bad of [
      "BODY[MIME]",
      "BODY[0]",
      "BODY[1.]",
      "BODY[HEADER.FIELDS]",
      "BODY[HEADER.FIELDS ()]",
      "BODY[]<0.0>",
      "BODY[]<1>",
      "BODY[X]",
    ]
  ) {
    fails(`a FETCH ${bad}\r\n`, (r) => readFetchAttributes(r));
  }
});

Deno.test("parse_fetch: BINARY items", () => {
  const items = args(
    "a FETCH (BINARY[1.2]<5.6> BINARY.PEEK[] BINARY.SIZE[3])\r\n",
    (r) => readFetchAttributes(r),
  );
  assert.deepEqual(items, [
    {
      kind: "BINARY",
      peek: false,
      part: [1, 2],
      partial: { offset: 5, length: 6 },
      raw: "BINARY[1.2]<5.6>",
    },
    { kind: "BINARY", peek: true, part: [], partial: null, raw: "BINARY.PEEK[]" },
    { kind: "BINARY.SIZE", part: [3], raw: "BINARY.SIZE[3]" },
  ]);
  assert.deepEqual(items.map(responseKey), ["BINARY[1.2]<5>", "BINARY[]", "BINARY.SIZE[3]"]);
  fails("a FETCH BINARY[TEXT]\r\n", (r) => readFetchAttributes(r));
  fails("a FETCH BINARY.SIZE[1]<0.1>\r\n", (r) => readFetchAttributes(r));
});

Deno.test("parse_search: program with RETURN and CHARSET", () => {
  const program = args(
    'a SEARCH RETURN (min COUNT) CHARSET utf-8 UNSEEN FROM "bob"\r\n',
    readSearchProgram,
  );
  assert.deepEqual(program, {
    charset: "UTF-8",
    returnOptions: ["MIN", "COUNT"],
    partial: null,
    key: {
      type: "and",
      keys: [{ type: "flag", flag: "\\Seen", present: false }, {
        type: "address",
        field: "FROM",
        value: "bob",
      }],
    },
  });
  assert.deepEqual(args("a SEARCH RETURN () ALL\r\n", readSearchProgram).returnOptions, []);
  assert.equal(args("a SEARCH ALL\r\n", readSearchProgram).returnOptions, null);
});

Deno.test("parse_search: every key", () => {
  const key = (text: string) => args(`a SEARCH ${text}\r\n`, readSearchProgram).key;
  const d = { year: 2024, month: 3, day: 5 };
  const cases: Array<[string, unknown]> = [
    ["ALL", { type: "all" }],
    ["ANSWERED", { type: "flag", flag: "\\Answered", present: true }],
    ["UNDRAFT", { type: "flag", flag: "\\Draft", present: false }],
    ["DELETED", { type: "flag", flag: "\\Deleted", present: true }],
    ["FLAGGED", { type: "flag", flag: "\\Flagged", present: true }],
    ["SEEN", { type: "flag", flag: "\\Seen", present: true }],
    ["UNANSWERED", { type: "flag", flag: "\\Answered", present: false }],
    ["UNDELETED", { type: "flag", flag: "\\Deleted", present: false }],
    ["UNFLAGGED", { type: "flag", flag: "\\Flagged", present: false }],
    ["DRAFT", { type: "flag", flag: "\\Draft", present: true }],
    ["KEYWORD $Junk", { type: "flag", flag: "$Junk", present: true }],
    ["UNKEYWORD foo", { type: "flag", flag: "foo", present: false }],
    ["BCC x", { type: "address", field: "BCC", value: "x" }],
    ["CC x", { type: "address", field: "CC", value: "x" }],
    ["SUBJECT {3}\r\nabc", { type: "header", field: "SUBJECT", value: "abc" }],
    ["TO x", { type: "address", field: "TO", value: "x" }],
    ['HEADER X-Id ""', { type: "header", field: "X-Id", value: "" }],
    ["BODY hello", { type: "body", value: "hello" }],
    ['TEXT "two words"', { type: "text", value: "two words" }],
    ["BEFORE 5-Mar-2024", { type: "date", which: "internal", op: "before", date: d }],
    ["ON 5-Mar-2024", { type: "date", which: "internal", op: "on", date: d }],
    ['SINCE "5-Mar-2024"', { type: "date", which: "internal", op: "since", date: d }],
    ["SENTBEFORE 5-Mar-2024", { type: "date", which: "sent", op: "before", date: d }],
    ["SENTON 5-Mar-2024", { type: "date", which: "sent", op: "on", date: d }],
    ["SENTSINCE 5-Mar-2024", { type: "date", which: "sent", op: "since", date: d }],
    ["LARGER 100", { type: "size", op: "larger", size: 100 }],
    ["SMALLER 5", { type: "size", op: "smaller", size: 5 }],
    ["UID 1:*", { type: "uid", set: [{ start: 1, end: "*" }] }],
    ["UID $", { type: "uid", set: "$" }],
    ["2,4:5", { type: "seq", set: [{ start: 2, end: 2 }, { start: 4, end: 5 }] }],
    ["$", { type: "seq", set: "$" }],
    ["*", { type: "seq", set: [{ start: "*", end: "*" }] }],
    ["NEW", { type: "new" }],
    ["OLD", { type: "old" }],
    ["RECENT", { type: "recent" }],
    ["NOT SEEN", { type: "not", key: { type: "flag", flag: "\\Seen", present: true } }],
    ["OR SEEN (DELETED)", {
      type: "or",
      a: { type: "flag", flag: "\\Seen", present: true },
      b: { type: "flag", flag: "\\Deleted", present: true },
    }],
    ["(SEEN ALL)", {
      type: "and",
      keys: [{ type: "flag", flag: "\\Seen", present: true }, { type: "all" }],
    }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(key(text), expected, text);
});

Deno.test("parse_search: errors", () => {
  for (
    const bad of [
      "",
      "FOO",
      "OR SEEN",
      "NOT",
      "()",
      "(SEEN",
      "BEFORE 32-Jan-2024",
      "LARGER x",
      "SEEN  ALL",
      "HEADER",
      "UID",
    ]
  ) {
    fails(`a SEARCH ${bad}\r\n`, readSearchProgram);
  }
  fails(`a SEARCH ${"NOT ".repeat(100)}ALL\r\n`, readSearchProgram, /deeply/);
});

Deno.test("parser: mod-sequences and FETCH modifiers (RFC 7162 7), split at every offset", () => {
  assert.equal(
    args("a FETCH 9223372036854775807\r\n", (r) => readModSequence(r, false)),
    2 ** 53 - 1,
  );
  assert.equal(args("a STORE 0\r\n", (r) => readModSequence(r, true)), 0);
  assert.throws(() => args("a FETCH 0\r\n", (r) => readModSequence(r, false)), ParseError);
  assert.throws(
    () => args("a FETCH 9223372036854775808\r\n", (r) => readModSequence(r, false)),
    ParseError,
  );
  const modifiers = args("a FETCH (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n", (r) => {
    readFetchAttributes(r);
    return readFetchModifiers(r);
  });
  assert.deepEqual(modifiers, { changedSince: 12345, vanished: true, partial: null });
  // RFC 9394: PARTIAL pages the messages a FETCH names.
  const paged = args("a FETCH (FLAGS) (PARTIAL -1:-30 CHANGEDSINCE 7)\r\n", (r) => {
    readFetchAttributes(r);
    return readFetchModifiers(r);
  });
  assert.deepEqual(paged, { changedSince: 7, vanished: false, partial: { first: -1, last: -30 } });
  const items = args("a FETCH (MODSEQ UID)\r\n", (r) => readFetchAttributes(r).map((i) => i.kind));
  assert.deepEqual(items, ["MODSEQ", "UID"]);
  assert.throws(
    () =>
      args(
        "a FETCH FLAGS (CHANGEDSINCE)\r\n",
        (r) => (readFetchAttributes(r), readFetchModifiers(r)),
      ),
    ParseError,
  );
});
