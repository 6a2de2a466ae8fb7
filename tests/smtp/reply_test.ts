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
