/**
 * ENVELOPE, BODY and BODYSTRUCTURE encoding (RFC 9051 7.5.2) against known answers, among
 * them Dovecot's own test message (src/lib-imap/test-imap-bodystructure.c), whose expected
 * strings hold here byte for byte once the message uses CRLF (Dovecot counts sizes with CRLF
 * line ends; this server reports stored octets).
 */

import assert from "node:assert/strict";
import { cachedBodyStructure, encodeBodyStructure } from "../../lib/imap/bodystructure.ts";
import { cachedEnvelope, type Encoded, encodeEnvelope } from "../../lib/imap/envelope.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import { parseMime } from "../../lib/mail/mime.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const crlf = (text: string) => text.replace(/\r?\n/g, "\r\n");
const show = (value: Encoded) => typeof value === "string" ? value : String.fromCharCode(...value);

function structure(text: string, extended = true, messageGlobal = false): string {
  const raw = bytes(text);
  return show(encodeBodyStructure(raw, parseMime(raw), { extended, messageGlobal }));
}

function envelope(text: string): string {
  const raw = bytes(text);
  return show(encodeEnvelope(raw, parseMime(raw)));
}

const DOVECOT_MESSAGE = crlf(`From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="foo
 bar"

Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii; foo="quoted\\"string"
Content-ID: <foo@example.com>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: inline; foo=bar
Content-Description: hellodescription
Content-Language: en, fi, se
Content-Location: http://example.com/test.txt

hello

--foo bar
Content-Type: message/rfc822

From: sub@domain.org
To: sub-to1@domain.org, sub-to2@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

Sub MIME prologue
--sub1
Content-Type: text/html
Content-Transfer-Encoding: 8bit

<p>Hello world</p>

--sub1
Content-Type: text/plain
Content-Transfer-Encoding: ?invalid

Hello another world

--sub1--
Sub MIME epilogue

--foo bar--
Root MIME epilogue
`);

const DOVECOT_BODYSTRUCTURE =
  '("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("foo" "bar")) ("en" "fi" "se") "http://example.com/test.txt")("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL) "alternative" ("boundary" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL';

const DOVECOT_BODY =
  '("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 21) "mixed"';

Deno.test("bodystructure: Dovecot's known answer, BODYSTRUCTURE and BODY", () => {
  assert.equal(structure(DOVECOT_MESSAGE), `(${DOVECOT_BODYSTRUCTURE})`);
  assert.equal(structure(DOVECOT_MESSAGE, false), `(${DOVECOT_BODY})`);
});

Deno.test("bodystructure: single parts, defaults, sizes and lines", () => {
  assert.equal(
    structure("Subject: x\r\n\r\nHello\r\nWorld\r\n"),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)',
  );
  assert.equal(
    structure("Subject: x\r\n\r\nno line end"),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL)',
  );
  assert.equal(
    structure(""),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)',
  );
  assert.equal(
    structure(
      "Content-Type: IMAGE/PNG; Name=a.png\r\nContent-Transfer-Encoding: BASE64\r\n\r\niVBO\r\n",
    ),
    '("image" "png" ("name" "a.png") NIL NIL "base64" 6 NIL NIL NIL NIL)',
  );
  assert.equal(
    structure("Content-Type: application/pdf\r\n\r\n%PDF", false),
    '("application" "pdf" NIL NIL NIL "7bit" 4)',
  );
  // A multipart without a boundary is a text part (RFC 2045 5.2); its parameters stay.
  assert.equal(
    structure("Content-Type: multipart/mixed\r\n\r\nx", false),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0)',
  );
});

Deno.test("bodystructure: RFC 2231 parameters joined the way Dovecot reports them", () => {
  const raw = crlf(`Content-Type: application/octet-stream;
 name*0="long ";
 name*1="name.txt"
Content-Disposition: attachment;
 filename*0*=utf-8''%E2%82%AC%20;
 filename*1=rep;
 filename*2*=ort.pdf; size=3

abc`);
  assert.equal(
    structure(raw),
    `("application" "octet-stream" ("name" "long name.txt") NIL NIL "7bit" 3 NIL ("attachment" ("filename*" "utf-8''%E2%82%AC%20report.pdf" "size" "3")) NIL NIL)`,
  );
  assert.equal(
    structure(crlf(`Content-Type: text/plain; title*1*=%20b; title*0=a\n\nx`), false),
    `("text" "plain" ("title*" "''a%20b" "charset" "us-ascii") NIL NIL "7bit" 1 0)`,
  );
  // Encoded words and 8-bit bytes stay as stored; 8-bit goes out as a literal.
  assert.equal(
    structure(`Content-Type: text/plain; name="=?UTF-8?Q?=C3=A9?="; x="\xe9"\r\n\r\n`, false),
    `("text" "plain" ("name" "=?UTF-8?Q?=C3=A9?=" "x" {1}\r\n\xe9 "charset" "us-ascii") NIL NIL "7bit" 0 0)`,
  );
});

Deno.test("bodystructure: parameters are the stored bytes where the decoded field differs", () => {
  // The MIME parse reads Content-Type decoded (UTF-8 "\xc3\xa9" is one character there, NUL
  // stays NUL); BODYSTRUCTURE reports the stored bytes (two bytes, NUL as 0x80), so it cannot
  // reuse the parse's tokens for such a field: at the root, in a part, and beside a folded
  // ASCII field (which it does reuse).
  const part = 'Content-Type: text/plain; name="\xc3\xa9"; q="a\x00b"\r\n';
  const params = '("name" {2}\r\n\xc3\xa9 "q" {3}\r\na\x80b "charset" "us-ascii")';
  assert.equal(
    structure(part + "\r\n"),
    `("text" "plain" ${params} NIL NIL "7bit" 0 0 NIL NIL NIL NIL)`,
  );
  const multipart = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + part +
    "\r\nx\r\n--b\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\ny\r\n--b--\r\n";
  assert.equal(
    structure(multipart),
    `(("text" "plain" ${params} NIL NIL "7bit" 1 0 NIL NIL NIL NIL)` +
      `("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 1 0 NIL NIL NIL NIL)` +
      ` "mixed" ("boundary" "b") NIL NIL NIL)`,
  );
});

const NESTED = crlf(`Subject: outer
Content-Type: message/global

Subject: inner
From: a@b

hi
`);

Deno.test("bodystructure: message/global is a message in IMAP4rev2, basic in IMAP4rev1", () => {
  assert.equal(
    structure(NESTED, false, false),
    '("message" "global" NIL NIL NIL "7bit" 33)',
  );
  assert.equal(
    structure(NESTED, false, true),
    '("message" "global" NIL NIL NIL "7bit" 33 (NIL "inner" ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1) 4)',
  );
});

Deno.test("bodystructure: an encoded message/rfc822 part still has a valid structure", () => {
  const raw = crlf(`Content-Type: multipart/mixed; boundary=b

--b
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogeA0KDQp4DQo=
--b--
`);
  assert.equal(
    structure(raw, false),
    '(("message" "rfc822" NIL NIL NIL "base64" 24 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 0) "mixed")',
  );
});

Deno.test("envelope: fields, defaults and NIL rules (RFC 9051 7.5.2)", () => {
  assert.equal(
    envelope(crlf(`Date: Wed, 25 Nov 2026 07:22:01 +0000
Subject: Hello
From: "Bob B." <bob@example.com>
To: alice@example.com, team: c@example.com, d@example.com;
Cc: undisclosed-recipients:;
Message-ID: <m1@example.com>
In-Reply-To: <m0@example.com>

body`)),
    '("Wed, 25 Nov 2026 07:22:01 +0000" "Hello" (("Bob B." NIL "bob" "example.com")) (("Bob B." NIL "bob" "example.com")) (("Bob B." NIL "bob" "example.com")) ((NIL NIL "alice" "example.com")(NIL NIL "team" NIL)(NIL NIL "c" "example.com")(NIL NIL "d" "example.com")(NIL NIL NIL NIL)) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL "<m0@example.com>" "<m1@example.com>")',
  );
  // Absent: NIL; present but empty: "" (strings) or NIL (address lists).
  assert.equal(
    envelope("Subject:\r\nFrom:\r\nSender: s@x\r\nReply-To: r@x\r\n\r\n"),
    '(NIL "" NIL ((NIL NIL "s" "x")) ((NIL NIL "r" "x")) NIL NIL NIL NIL NIL)',
  );
  assert.equal(envelope(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  assert.equal(envelope("Subject: NIL\r\n\r\n"), '(NIL "NIL" NIL NIL NIL NIL NIL NIL NIL NIL)');
});

Deno.test("envelope: raw values, unfolded; quoted when possible, literal for odd bytes", () => {
  assert.equal(
    envelope('Subject: =?UTF-8?B?SGFsbG8=?=\r\n  folded "q" \\\r\n\r\n'),
    '(NIL "=?UTF-8?B?SGFsbG8=?=  folded \\"q\\" \\\\" NIL NIL NIL NIL NIL NIL NIL NIL)',
  );
  assert.equal(
    envelope("Subject: caf\xe9\r\nFrom: J\xf6rg <j@x>\r\n\r\n"),
    '(NIL {4}\r\ncaf\xe9 (({4}\r\nJ\xf6rg NIL "j" "x")) (({4}\r\nJ\xf6rg NIL "j" "x")) (({4}\r\nJ\xf6rg NIL "j" "x")) NIL NIL NIL NIL NIL)',
  );
  assert.equal(
    envelope("Subject: a\x01b\x00c\r\n\r\n"),
    "(NIL {5}\r\na\x01b\x80c NIL NIL NIL NIL NIL NIL NIL NIL)",
  );
  assert.equal(
    envelope("Subject: tab\there\r\n\r\n"),
    '(NIL "tab\there" NIL NIL NIL NIL NIL NIL NIL NIL)',
  );
  const long = "x".repeat(2000);
  assert.equal(
    envelope(`Subject: ${long}\r\n\r\n`),
    `(NIL {2000}\r\n${long} NIL NIL NIL NIL NIL NIL NIL NIL)`,
  );
  // A field given twice: the last value counts, and every one's addresses (Dovecot 2.3).
  assert.equal(
    envelope("Subject: one\r\nSubject: two\r\n\r\n"),
    '(NIL "two" NIL NIL NIL NIL NIL NIL NIL NIL)',
  );
  assert.equal(
    envelope("From: a@example.com\r\nTo: c@example.com\r\nFrom: b@example.com\r\n\r\n"),
    '(NIL NIL ((NIL NIL "a" "example.com")(NIL NIL "b" "example.com")) ' +
      '((NIL NIL "a" "example.com")(NIL NIL "b" "example.com")) ' +
      '((NIL NIL "a" "example.com")(NIL NIL "b" "example.com")) ' +
      '((NIL NIL "c" "example.com")) NIL NIL NIL NIL)',
  );
});

Deno.test("structure cache: each message is encoded once per form", () => {
  const raw = bytes(DOVECOT_MESSAGE);
  let loads = 0;
  const view = new MessageView(() => {
    loads++;
    return raw;
  });
  const first = cachedEnvelope(view);
  assert.equal(cachedEnvelope(view), first);
  const structure = cachedBodyStructure(view, true, false);
  assert.equal(cachedBodyStructure(view, true, false), structure);
  // Without message/global, the rev2 form is the very same value.
  assert.equal(cachedBodyStructure(view, true, true), structure);
  assert.equal(show(cachedBodyStructure(view, false, false)), `(${DOVECOT_BODY})`);
  assert.equal(loads, 1);
  // A second view of the same index reads nothing: every form comes from the memo.
  const again = new MessageView(() => {
    loads++;
    return raw;
  }, () => view.index);
  assert.equal(cachedEnvelope(again), first);
  assert.equal(cachedBodyStructure(again, true, true), structure);
  assert.equal(loads, 1);
});
