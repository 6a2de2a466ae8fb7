import assert from "node:assert/strict";
import { concatBytes } from "../../lib/bytes.ts";
import {
  astring,
  atom,
  continuation,
  flagList,
  formatInternalDate,
  literal,
  mailboxName,
  nstring,
  quoted,
  ResponseBuilder,
  responseCode,
  tagged,
  untagged,
} from "../../lib/imap/encoder.ts";
import { ImapFramer } from "../../lib/imap/framer.ts";
import { Reader } from "../../lib/imap/parser.ts";
import { decodeModifiedUtf7, encodeModifiedUtf7 } from "../../lib/imap/utf7.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (value: string | Uint8Array) => typeof value === "string" ? value : dec.decode(value);

Deno.test("encoder: atom validates", () => {
  assert.equal(atom("FLAGS"), "FLAGS");
  for (const bad of ["", "a b", "a(", "a]", "a*", 'a"', "ü"]) {
    assert.throws(() => atom(bad), /Cannot encode atom/);
  }
});

Deno.test("encoder: quoted escapes and refuses CR, LF, NUL", () => {
  assert.equal(quoted('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(quoted(""), '""');
  for (const bad of ["a\rb", "a\nb", "a\0b"]) {
    assert.throws(() => quoted(bad), /Cannot encode quoted/);
  }
});

Deno.test("encoder: astring picks atom, quoted or literal", () => {
  assert.equal(astring("INBOX", false), "INBOX");
  assert.equal(astring("a]b", false), "a]b");
  assert.equal(astring("NIL", false), '"NIL"');
  assert.equal(astring("", false), '""');
  assert.equal(astring("two words", false), '"two words"');
  assert.equal(astring("Entwürfe", true), '"Entwürfe"');
  assert.equal(text(astring("Entwürfe", false)), "{9}\r\nEntwürfe");
  assert.equal(text(astring("a\r\nb", true)), "{4}\r\na\r\nb");
  assert.equal(text(astring("x ".repeat(1000), false)).slice(0, 8), "{2000}\r\n");
});

Deno.test('encoder: nstring keeps NIL, "NIL" and "" apart', () => {
  assert.equal(nstring(null), "NIL");
  assert.equal(nstring("NIL"), '"NIL"');
  assert.equal(nstring(""), '""');
  assert.equal(nstring('say "x"'), '"say \\"x\\""');
  assert.equal(text(nstring("line\r\n")), "{6}\r\nline\r\n");
  assert.equal(text(nstring(enc.encode("abc"))), "{3}\r\nabc");
  assert.equal(text(nstring("Grüße")), "{7}\r\nGrüße", "8-bit is a literal for rev1");
  assert.equal(nstring("Grüße", true), '"Grüße"', "8-bit may be quoted for UTF-8 clients");
  assert.equal(text(nstring("a\x01b", true)), "{3}\r\na\x01b");
});

Deno.test("encoder: literal and literal8", () => {
  assert.equal(text(literal(enc.encode("hi"))), "{2}\r\nhi");
  assert.deepEqual([...literal(new Uint8Array([0, 1]), true)], [...enc.encode("~{2}\r\n"), 0, 1]);
  assert.equal(text(literal(new Uint8Array(0))), "{0}\r\n");
});

Deno.test("encoder: flag lists", () => {
  assert.equal(flagList(["\\Seen", "foo"]), "(\\Seen foo)");
  assert.equal(flagList([]), "()");
  assert.equal(flagList(["\\*"]), "(\\*)");
  assert.throws(() => flagList(["a b"]), /Cannot encode flag/);
  assert.equal(flagList(["\\Seen"], true), "(\\Seen \\Recent)");
  // Interned (frozen) lists are encoded once per list and variant; the answers are the same.
  const stored = Object.freeze(["\\Answered", "foo"]);
  for (let i = 0; i < 2; i++) {
    assert.equal(flagList(stored), "(\\Answered foo)");
    assert.equal(flagList(stored, true), "(\\Answered foo \\Recent)");
  }
  assert.throws(() => flagList(Object.freeze(["a b"])), /Cannot encode flag/);
});

Deno.test("encoder: INTERNALDATE", () => {
  assert.equal(
    formatInternalDate(Date.UTC(2026, 10, 25, 7, 22, 1)),
    '"25-Nov-2026 07:22:01 +0000"',
  );
  assert.equal(formatInternalDate(Date.UTC(2024, 0, 5, 0, 0, 0)), '"05-Jan-2024 00:00:00 +0000"');
});

Deno.test("encoder: mailbox names in modified UTF-7 and UTF-8", () => {
  assert.equal(mailboxName("INBOX", false), "INBOX");
  assert.equal(mailboxName("Entwürfe", false), "Entw&APw-rfe");
  assert.equal(mailboxName("Entwürfe", true), '"Entwürfe"');
  assert.equal(mailboxName("A & B", false), '"A &- B"');
  assert.equal(mailboxName("台北", false), "&U,BTFw-");
});

Deno.test("utf7: round trips and RFC 3501 examples", () => {
  assert.equal(decodeModifiedUtf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), "~peter/mail/台北/日本語");
  for (
    const name of ["", "plain", "&", "a&b&&", "Entwürfe", "😀 emoji", "é", "日本語/x", "\u0001"]
  ) {
    assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(name)), name);
  }
  for (const bad of ["&", "&Jjo", "&AGE-", "&AOk", "&AOkA-", "&2D0-", "&3gA-", "\u00e9", "&A!-"]) {
    assert.throws(() => decodeModifiedUtf7(bad), /modified UTF-7/, bad);
  }
});

Deno.test("encoder: ResponseBuilder mixes text and bytes and counts bytes", () => {
  const out = new ResponseBuilder().push("* 1 FETCH (BODY[] ", literal(enc.encode("ü")), ")")
    .line();
  assert.equal(out.length, 28);
  out.line("ü");
  assert.equal(out.length, 32, "8-bit text counts in UTF-8 bytes");
  assert.equal(out.toBytes().length, 32);
  assert.equal(out.length, 32);
  assert.equal(text(out.toBytes()), "* 1 FETCH (BODY[] {2}\r\nü)\r\nü\r\n");
  assert.equal(new ResponseBuilder().length, 0);
  assert.equal(new ResponseBuilder().toBytes().length, 0);
});

Deno.test("encoder: tagged and untagged", () => {
  assert.equal(
    tagged("a1", "NO", "TRYCREATE", "No such mailbox"),
    "a1 NO [TRYCREATE] No such mailbox\r\n",
  );
  assert.equal(tagged("a1", "OK", null, "done"), "a1 OK done\r\n");
  assert.equal(tagged("a1", "BAD", null, "x\r\ny"), "a1 BAD x y\r\n");
  assert.equal(untagged("3 EXISTS"), "* 3 EXISTS\r\n");
});

Deno.test("encoder output parses back to the same value", () => {
  const values = [
    "",
    "NIL",
    "plain",
    "two words",
    'q"uo\\te',
    "a\r\nb",
    "ü",
    "{3}",
    "x".repeat(1500),
  ];
  for (const value of values) {
    for (const utf8 of [false, true]) {
      const encoded = astring(value, utf8);
      const bytes = typeof encoded === "string"
        ? enc.encode(`a X ${encoded}\r\n`)
        : new Uint8Array([
          ...enc.encode("a X "),
          ...encoded,
          ...enc.encode("\r\n"),
        ]);
      const framer = new ImapFramer({ maxLineLength: 4096, maxLiteralSize: 4096 });
      framer.push(bytes);
      let event = framer.next();
      if (event?.type === "literal-request") {
        framer.acceptLiteral();
        event = framer.next();
      }
      assert.equal(event?.type, "command");
      if (event?.type !== "command") continue;
      const reader = new Reader(event.command);
      reader.readTag();
      reader.sp();
      reader.readAtom();
      reader.sp();
      assert.equal(reader.readAstring(), value);
      reader.end();
    }
  }
});

Deno.test("encoder: ResponseBuilder.literal and takeChunks keep a large body's bytes uncopied", () => {
  const text8k = "Subject: x\r\n\r\n" + "hi\r\n".repeat(3000);
  const body = enc.encode(text8k);
  const small = enc.encode("Subject: y\r\n\r\n");
  const out = new ResponseBuilder().push("* 1 FETCH (BODY[] ").literal(body).line(")");
  out.push("* 2 FETCH (BINARY[1] ").literal(new Uint8Array([0, 1]), true).line(")");
  out.push("* 3 FETCH (BODY[] ").literal(new Uint8Array(0)).line(")");
  out.push("* 4 FETCH (BODY[] ").literal(small).line(")");
  const expected = `* 1 FETCH (BODY[] {${body.length}}\r\n${text8k})\r\n` +
    "* 2 FETCH (BINARY[1] ~{2}\r\n\0\x01)\r\n* 3 FETCH (BODY[] {0}\r\n)\r\n" +
    "* 4 FETCH (BODY[] {14}\r\nSubject: y\r\n\r\n)\r\n";
  const length = out.length;
  const chunks = out.takeChunks();
  assert.ok(chunks.includes(body), "the large literal's own array is one of the chunks");
  assert.ok(chunks.length <= 3, "text and small parts share chunks");
  assert.equal(chunks.reduce((n, c) => n + c.length, 0), length);
  assert.equal(chunks.map(text).join(""), expected);
  assert.equal(out.length, 0, "takeChunks empties the builder");
  assert.deepEqual(out.takeChunks(), []);
  out.line("a1 OK done");
  assert.equal(text(out.toBytes()), "a1 OK done\r\n");
});

Deno.test("encoder: continuation and response codes", () => {
  assert.equal(continuation("Ready for literal data"), "+ Ready for literal data\r\n");
  assert.equal(continuation(""), "+ \r\n");
  assert.equal(continuation("a\r\nb"), "+ a b\r\n");
  assert.equal(responseCode("APPENDUID", 1, 5), "APPENDUID 1 5");
  assert.equal(responseCode("TOOBIG"), "TOOBIG");
  assert.equal(responseCode("COPYUID", 1, "1:3,5", "7:10"), "COPYUID 1 1:3,5 7:10");
  assert.equal(
    responseCode("BADCHARSET", "(UTF-8 US-ASCII)"),
    "BADCHARSET (UTF-8 US-ASCII)",
  );
  assert.equal(
    tagged("a1", "OK", responseCode("APPENDUID", 1, 5), "APPEND completed"),
    "a1 OK [APPENDUID 1 5] APPEND completed\r\n",
  );
  assert.throws(() => responseCode("APPEND UID"), /Cannot encode atom/);
  assert.throws(() => responseCode("X", -1), /bad number/);
  assert.throws(() => responseCode("X", 1.5), /bad number/);
  assert.throws(() => responseCode("X", "a]b"), /bad argument/);
  assert.throws(() => responseCode("X", "a\r\nb"), /bad argument/);
  assert.throws(() => responseCode("X", ""), /bad argument/);
  assert.equal(responseCode("X", '"a]b"'), 'X "a]b"');
});

Deno.test("encoder: ResponseBuilder output equals the plain concatenation (random parts)", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const texts = [
    "* 1 FETCH (",
    "FLAGS (\\Seen)",
    ")\r\n",
    "ü",
    "日本",
    "a\u{1F600}b",
    "",
    "x".repeat(3000),
  ];
  // Sizes around the first buffer (1 KiB) and the copy limit (8 KiB).
  const sizes = [0, 1, 100, 1023, 1024, 1025, 8191, 8192, 8193, 20_000];
  for (let round = 0; round < 200; round++) {
    const builder = new ResponseBuilder();
    const expected: Uint8Array[] = [];
    const chunks: Uint8Array[] = [];
    const large: Uint8Array[] = [];
    let length = 0;
    for (let i = random(40); i >= 0; i--) {
      if (random(2) === 0) {
        const text = texts[random(texts.length)];
        builder.push(text);
        expected.push(enc.encode(text));
      } else {
        const bytes = new Uint8Array(sizes[random(sizes.length)]).map(() => random(256));
        if (random(2) === 0) {
          builder.literal(bytes);
          expected.push(enc.encode(`{${bytes.length}}\r\n`));
        } else {
          builder.push(bytes);
        }
        expected.push(bytes);
        if (bytes.length > 8192) large.push(bytes);
      }
      length = expected.reduce((n, part) => n + part.length, 0);
      assert.equal(builder.length + chunks.reduce((n, c) => n + c.length, 0), length);
      if (random(8) === 0) chunks.push(...builder.takeChunks());
    }
    chunks.push(...builder.takeChunks());
    assert.equal(builder.length, 0);
    assert.deepEqual(concatBytes(chunks), concatBytes(expected), `round ${round}`);
    for (const bytes of large) assert.ok(chunks.includes(bytes), "large parts are not copied");
  }
});
