import assert from "node:assert/strict";
import { reply, SmtpError } from "../../lib/smtp/reply.ts";

Deno.test("reply: one line with an enhanced code", () => {
  assert.equal(reply(250, "2.1.0", "Sender OK"), "250 2.1.0 Sender OK\r\n");
});

Deno.test("reply: continuation lines use '-', the last a space, each with the code", () => {
  assert.equal(
    reply(214, "2.0.0", "one", "two", "three"),
    "214-2.0.0 one\r\n214-2.0.0 two\r\n214 2.0.0 three\r\n",
  );
});

Deno.test("reply: without an enhanced code (greeting, EHLO, 334)", () => {
  assert.equal(
    reply(250, null, "host Hello", "SIZE 10", "HELP"),
    "250-host Hello\r\n250-SIZE 10\r\n250 HELP\r\n",
  );
  assert.equal(reply(220, null, "ready"), "220 ready\r\n");
});

Deno.test("reply: empty text leaves no trailing space (334 challenge)", () => {
  assert.equal(reply(334, null, ""), "334\r\n");
  assert.equal(reply(334, null), "334\r\n");
});

Deno.test("reply: CR and LF in text cannot inject reply lines", () => {
  assert.equal(reply(250, "2.0.0", "a\r\n250 fake"), "250 2.0.0 a 250 fake\r\n");
  assert.equal(reply(250, "2.0.0", "a\nb", "c\rd"), "250-2.0.0 a b\r\n250 2.0.0 c d\r\n");
});

Deno.test("SmtpError carries code, enhanced code and text", () => {
  const error = new SmtpError(501, "5.5.4", "Syntax");
  assert.equal(error.code, 501);
  assert.equal(error.enhanced, "5.5.4");
  assert.equal(error.message, "Syntax");
  assert.ok(error instanceof Error);
});

Deno.test("reply: trailing whitespace of the text is trimmed, any kind", () => {
  assert.equal(reply(250, "2.0.0", "a  "), "250 2.0.0 a\r\n");
  assert.equal(reply(250, "2.0.0", "a\t"), "250 2.0.0 a\r\n");
  assert.equal(reply(250, "2.0.0", "a\u00a0", "b\u3000"), "250-2.0.0 a\r\n250 2.0.0 b\r\n");
  assert.equal(reply(250, "2.0.0", "a\n"), "250 2.0.0 a\r\n");
  assert.equal(reply(250, "2.0.0", "ä"), "250 2.0.0 ä\r\n");
});

Deno.test("reply: a single line is what the general path makes of it as a last line", () => {
  // The one-line fast path against the lines path: the reply's last line is built by the
  // general path when a line comes before it.
  const texts = [
    "Sender <a@b.example> OK",
    "OK queued as EM3K9Q2A",
    "x",
    "ends with a space ",
    "ends with a tab\t",
    "ends in non-ASCII é",
    "has a\r\nbreak",
    "bare\nLF",
    "bare\rCR",
    "",
    " ",
    "~",
  ];
  for (const enhanced of ["2.1.0", null]) {
    const first = reply(250, enhanced, "first");
    for (const text of texts) {
      // "250-first" is as long as "250 first": what follows it is the general path's line.
      const general = reply(250, enhanced, "first", text).slice(first.length);
      assert.equal(reply(250, enhanced, text), general, JSON.stringify(text));
    }
  }
});
