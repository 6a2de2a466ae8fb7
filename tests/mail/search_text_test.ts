import assert from "node:assert/strict";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import {
  dateDay,
  dayNumber,
  searchAddresses,
  searchHeaders,
  searchText,
} from "../../lib/mail/search_text.ts";

const enc = new TextEncoder();
const crlf = (text: string) => enc.encode(text.replace(/\n/g, "\r\n"));

function text(message: string) {
  const raw = crlf(message);
  const { header, body } = searchText(new MessageIndex(raw), () => raw);
  return { header, body };
}

Deno.test("dateDay: the date as written, in its own zone", () => {
  const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;
  const cases: Array<[string, number | null]> = [
    ["Wed, 25 Nov 2026 23:30:00 -0800", day(2026, 11, 25)],
    ["Thu, 26 Nov 2026 00:10:00 +1400", day(2026, 11, 26)],
    ["25 Nov 2026 07:22 +0000", day(2026, 11, 25)],
    ["  wed ,  1 dec 2026 07:22:01 GMT", day(2026, 12, 1)],
    ["Fri, 13 Mar 98 09:00:00 GMT", day(1998, 3, 13)],
    ["Fri, 13 Mar 08 09:00:00 GMT", day(2008, 3, 13)],
    ["Fri, 13 Mar 108 09:00:00 GMT", day(2008, 3, 13)],
    ["29 Feb 2024 12:00:00 +0000", day(2024, 2, 29)],
    ["29 Feb 2026 12:00:00 +0000", null],
    ["32 Jan 2026 12:00:00 +0000", null],
    ["25 Foo 2026 12:00:00 +0000", null],
    ["25 Nov 2026", null],
    ["2026-11-25T07:22:01Z", null],
    ["", null],
    ["yesterday", null],
  ];
  for (const [value, expected] of cases) assert.equal(dateDay(value), expected, value);
});

Deno.test("dayNumber: years below 100 are not 19xx", () => {
  assert.equal(dayNumber(1970, 1, 1), 0);
  assert.equal(dayNumber(2026, 11, 25), Date.UTC(2026, 10, 25) / 86_400_000);
  assert.equal(dayNumber(99, 1, 1), -683_368); // proleptic Gregorian, as Python's date()
  assert.ok(dayNumber(99, 1, 1) < dayNumber(1999, 1, 1));
});

Deno.test("searchHeaders: decoded, lower-cased fields and the sent day", () => {
  const raw = crlf(
    "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>\nSUBJECT: Hello\n World\n" +
      "Date: Tue, 24 Nov 2026 23:30:00 -0800\nX-Empty:\n\nbody\n",
  );
  const headers = searchHeaders(new MessageIndex(raw));
  assert.deepEqual(headers.fields, [
    { name: "from", value: "andré <andre@example.com>" },
    { name: "subject", value: "hello world" },
    { name: "date", value: "tue, 24 nov 2026 23:30:00 -0800" },
    { name: "x-empty", value: "" },
  ]);
  assert.equal(headers.sentDay, Date.UTC(2026, 10, 24) / 86_400_000);
  assert.equal(searchHeaders(new MessageIndex(crlf("Subject: x\n\n"))).sentDay, null);
});

Deno.test("searchText: text parts decoded, attachments left out, nested messages in the body", () => {
  const result = text(`Subject: Outer
Content-Type: multipart/mixed; boundary="o"

preamble is not searched
--o
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 CR=C8ME
--a
Content-Type: text/html; charset=utf-8

<b>Bold</b>
--a--
--o
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64

${btoa("%PDF secret words")}
--o
Content-Type: message/rfc822

Subject: Inner Subject
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

${btoa("Inner BODY")}
--o--
`);
  assert.equal(
    result.header,
    [
      "subject: outer",
      'content-type: multipart/mixed; boundary="o"',
      'content-type: multipart/alternative; boundary="a"',
      "content-type: text/plain; charset=iso-8859-1",
      "content-transfer-encoding: quoted-printable",
      "content-type: text/html; charset=utf-8",
      'content-type: application/pdf; name="report.pdf"',
      "content-transfer-encoding: base64",
      "content-type: message/rfc822",
    ].join("\n"),
  );
  assert.ok(result.body.includes("café crème"), result.body);
  assert.ok(result.body.includes("<b>bold</b>"));
  assert.ok(result.body.includes("subject: inner subject"));
  assert.ok(result.body.includes("inner body"));
  assert.ok(!result.body.includes("secret"));
  assert.ok(!result.body.includes(btoa("%PDF").toLowerCase()));
  assert.ok(!result.body.includes("preamble"));
  assert.ok(!result.header.includes("inner"));
});

Deno.test("searchText: broken and empty messages give text, never an error", () => {
  assert.deepEqual(text(""), { header: "", body: "" });
  assert.deepEqual(text("no header at all"), { header: "", body: "" });
  assert.equal(text("Subject: x\n\n\xff bytes").body, "ÿ bytes");
  const unterminated = text(
    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nlost end\n",
  );
  assert.ok(unterminated.body.includes("lost end"));
});

Deno.test("searchHeaders: has() matches within one value of the named fields only", () => {
  const raw = crlf(
    "To: Alpha <a@x.org>\nSubject: to: beta\nTo: gamma@y.org\nX-Empty:\nTo-Long: delta\n\nbody\n",
  );
  const headers = searchHeaders(new MessageIndex(raw));
  assert.ok(headers.has("to", "alpha <a@x"));
  assert.ok(headers.has("to", "gamma@y.org")); // the second To field
  assert.ok(!headers.has("to", "beta")); // in the Subject, not a To
  assert.ok(!headers.has("to", "delta")); // a longer name with the same start
  assert.ok(!headers.has("to", "x.org>to")); // never across two fields
  assert.ok(!headers.has("to", "x.org>subject")); // nor into the next name
  assert.ok(headers.has("x-empty", ""));
  assert.ok(!headers.has("x-empty", "a"));
  assert.ok(!headers.has("cc", ""));
  assert.ok(headers.has("subject", "to: beta"));
});

Deno.test("searchHeaders: has() finds the needle where the header's whole text is scanned first", () => {
  // has() first looks for the needle anywhere in the decoded header, then in the named fields:
  // each case needs the second step right (present elsewhere: no) or the first (decoded,
  // non-ASCII, later fields: yes).
  const raw = crlf(
    "Subject: =?utf-8?q?sender42=40example.com?=\n" +
      "From: =?utf-8?q?J=C3=BCrgen?= <jurgen@ex.org>, Ann <sender42@EXAMPLE.com>\n" +
      "To: team: one@a.org, two@b.org;\nCc: x@y.org\nCc: Zoë <zoe@z.org>\n\nbody\n",
  );
  const headers = searchHeaders(new MessageIndex(raw));
  assert.ok(headers.has("from", "jürgen <jurgen@ex.org>")); // an encoded word, decoded
  assert.ok(headers.has("from", "sender42@example.com")); // the second address of the list
  assert.ok(!headers.has("to", "sender42@example.com")); // only in the Subject and From
  assert.ok(headers.has("to", "team: one@a.org")); // a group
  assert.ok(headers.has("cc", "zoë")); // non-ASCII in a later field of the same name
  assert.ok(!headers.has("cc", "x@y.orgzoë")); // never across two values
  assert.ok(!headers.has("cc", "nobody"));
});

Deno.test("searchHeaders: an ASCII header read from its bytes gives the decoded fields' values", () => {
  // The fields as a list of decoded values gives them (the general way, which 8-bit headers
  // and encoded words take), over random headers of folding, bare CR and LF, blank values.
  const names = ["From", "x-A", "TO", " Cc ", "junk line", "Subject"];
  const pieces = ["a", "B", " ", "\t", "\r", ":", "=", "?", "\0", "<X@Y.org>"];
  const folds = ["\r\n ", "\n\t", "\r\n\t ", " \r\n ", "\r\r\n ", "\n "];
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 2000; round++) {
    let text = "";
    for (let f = 0, fields = 1 + random(4); f < fields; f++) {
      const name = names[random(names.length)];
      text += name.includes(" l") ? name : name + ":";
      for (let i = 0, n = random(12); i < n; i++) {
        text += random(4) === 0 ? folds[random(folds.length)] : pieces[random(pieces.length)];
      }
      text += random(3) === 0 ? "\n" : "\r\n";
    }
    const raw = enc.encode(text.replaceAll("=?", "=") + "\r\nbody");
    const index = new MessageIndex(raw);
    const expected = index.root.fields.map((field) => ({
      name: field.name.toLowerCase(),
      value: field.value.toLowerCase(),
    }));
    assert.deepEqual(searchHeaders(index).fields, expected, JSON.stringify(text));
  }
});

Deno.test("searchHeaders: a header starting with a BYTE ORDER MARK keeps its offsets", () => {
  const raw = enc.encode("\ufeffX-A: 1\r\nSubject: Two\r\n\r\nbody");
  const index = new MessageIndex(raw);
  assert.deepEqual(searchHeaders(index).fields.at(-1), { name: "subject", value: "two" });
});

Deno.test("searchHeaders: offsets past 65,535 in a long header", () => {
  const raw = enc.encode(`X-Long: ${"y".repeat(70_000)}\r\nTo: Alpha <a@x.org>\r\n\r\nbody`);
  const headers = searchHeaders(new MessageIndex(raw));
  assert.ok(headers.has("to", "alpha <a@x.org>"));
  assert.ok(!headers.has("to", "y"));
  assert.deepEqual(headers.fields.at(-1), { name: "to", value: "alpha <a@x.org>" });
  assert.equal(headers.fields[0].value.length, 70_000);
});

Deno.test("searchAddresses: a plain ASCII header gives what the general way gives", () => {
  // The same address fields after an 8-bit field (which sends the header the general way:
  // every address parsed and its forms compared) and without it (where a value that is one
  // plain mailbox is taken as holding its forms): the same forms either way.
  const words = ["a", "Bob", "x-y", "o'n", "MISSING_MAILBOX", "MISSING_DOMAIN", "q.r", "Z"];
  const marks = ["@", "<", ">", " ", ".", ",", '"', "(c)", "=?", "\t", ""];
  let seed = 11;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const word = () => words[random(words.length)];
  const value = () => {
    const spec = `${word()}@${word()}${random(2) ? ".org" : ""}`;
    const shaped = [spec, `<${spec}>`, `${word()} <${spec}>`, `${word()} ${word()} <${spec}>`][
      random(4)
    ];
    if (random(3) > 0) return shaped;
    const at = random(shaped.length + 1);
    return shaped.slice(0, at) + marks[random(marks.length)] + shaped.slice(at);
  };
  let plain = 0;
  for (let round = 0; round < 3000; round++) {
    const header = `From: ${value()}\r\nTo: ${value()}\r\nCc: ${value()}\r\n`;
    const ascii = enc.encode(`${header}\r\nbody`);
    const general = enc.encode(`X-Eight: \u00e9\r\n${header}\r\nbody`);
    const fast = searchAddresses(new MessageIndex(ascii));
    if (fast.length === 0) plain++;
    assert.deepEqual(fast, searchAddresses(new MessageIndex(general)), JSON.stringify(header));
  }
  assert.ok(plain > 300, `${plain} headers with nothing missing`);
});

Deno.test("searchHeaders: a folded ASCII header is searched unfolded, each field in its bounds", () => {
  // The text of a plain ASCII header is the header itself, unfolded: the fields after a
  // folded one must keep their bounds, and a needle across a fold is found as unfolded.
  const raw = crlf(
    "Received: from a\n\tby b;\n\tWed, 25 Nov 2026\nSubject: Hello\n World\nTo: x@y.org\n" +
      "Cc: one\n  two\n\nbody\n",
  );
  const headers = searchHeaders(new MessageIndex(raw));
  assert.ok(headers.has("subject", "hello world"));
  assert.ok(!headers.has("subject", "hello\r\n world"));
  assert.ok(headers.has("received", "from a\tby b;\twed"));
  assert.ok(headers.has("to", "x@y.org"));
  assert.ok(!headers.has("to", "world"));
  assert.ok(headers.has("cc", "one  two"));
  assert.deepEqual(headers.fields, [
    { name: "received", value: "from a\tby b;\twed, 25 nov 2026" },
    { name: "subject", value: "hello world" },
    { name: "to", value: "x@y.org" },
    { name: "cc", value: "one  two" },
  ]);
});
