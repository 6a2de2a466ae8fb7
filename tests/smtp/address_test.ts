import assert from "node:assert/strict";
import { isNonAscii, parsePathArgument } from "../../lib/smtp/address.ts";
import { SmtpError } from "../../lib/smtp/reply.ts";

function parse(text: string, prefix: "FROM" | "TO" = "FROM") {
  const { address, params } = parsePathArgument(text, prefix);
  return { address, params: Object.fromEntries(params) };
}

function rejects(text: string, prefix: "FROM" | "TO", enhanced: string): void {
  assert.throws(
    () => parsePathArgument(text, prefix),
    (error) => error instanceof SmtpError && error.code === 501 && error.enhanced === enhanced,
    text,
  );
}

Deno.test("address: plain paths, case-insensitive prefix", () => {
  assert.deepEqual(parse("FROM:<a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("from:<a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("TO:<b@example.com>", "TO"), { address: "b@example.com", params: {} });
});

Deno.test("address: lenient forms real clients send", () => {
  assert.deepEqual(parse("FROM: <a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("FROM:a@example.com SIZE=5"), {
    address: "a@example.com",
    params: { SIZE: "5" },
  });
});

Deno.test("address: null reverse-path, postmaster, source route", () => {
  assert.deepEqual(parse("FROM:<>"), { address: "", params: {} });
  assert.deepEqual(parse("TO:<postmaster>", "TO"), { address: "postmaster", params: {} });
  assert.deepEqual(parse("TO:<@a.example,@b.example:c@d.example>", "TO"), {
    address: "c@d.example",
    params: {},
  });
});

Deno.test("address: quoted local parts, address literals, UTF-8", () => {
  assert.equal(parse('FROM:<"john doe"@example.com>').address, '"john doe"@example.com');
  assert.equal(parse('FROM:<"a>b"@example.com>').address, '"a>b"@example.com');
  assert.equal(parse("FROM:<a@[127.0.0.1]>").address, "a@[127.0.0.1]");
  assert.equal(parse("FROM:<jörg@exämple.com>").address, "jörg@exämple.com");
});

Deno.test("address: parameters, keywords upper-cased, values kept", () => {
  assert.deepEqual(parse("FROM:<a@b.c> size=100 body=8BITMIME SMTPUTF8"), {
    address: "a@b.c",
    params: { SIZE: "100", BODY: "8BITMIME", SMTPUTF8: null },
  });
});

Deno.test("address: syntax errors are 501 with the right enhanced code", () => {
  rejects("<a@b.c>", "FROM", "5.5.4");
  rejects("TO:<a@b.c>", "FROM", "5.5.4");
  rejects("FROM:<a@b.c", "FROM", "5.1.7");
  rejects("FROM:<a b@c.d>", "FROM", "5.1.7");
  rejects("FROM:<a@>", "FROM", "5.1.7");
  rejects("FROM:<@b.c>", "FROM", "5.1.7");
  rejects("TO:<a..b@c.d>", "TO", "5.1.3");
  rejects("TO:<a@b@c>", "TO", "5.1.3");
  rejects("FROM:<a@b.c>SIZE=1", "FROM", "5.5.4");
  rejects("FROM:<a@b.c> =1", "FROM", "5.5.4");
  rejects("FROM:<" + "a".repeat(600) + "@b.c>", "FROM", "5.1.7");
});

Deno.test("isNonAscii", () => {
  assert.equal(isNonAscii("plain@example.com"), false);
  assert.equal(isNonAscii("jörg@example.com"), true);
});
