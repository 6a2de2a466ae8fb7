/** The `q=` query parser (lib/http/query.ts), shared by the API and the web inbox's box. */

import assert from "node:assert/strict";
import { MAX_QUERY_LENGTH, parseQuery } from "../../lib/http/query.ts";
import { HttpError } from "../../lib/http/json.ts";

Deno.test("query: fields, words, quoted phrases and values, negation", () => {
  assert.deepEqual(parseQuery(`From:Shop subject:"Your Order" -is:read "two  words" plain`), [
    { kind: "from", value: "shop", negate: false },
    { kind: "subject", value: "your order", negate: false },
    { kind: "read", value: true, negate: true },
    { kind: "text", value: "two  words", negate: false },
    { kind: "text", value: "plain", negate: false },
  ]);
  assert.deepEqual(parseQuery("to:alice+t1@example.com is:unread has:attachment"), [
    { kind: "to", value: "alice+t1@example.com", negate: false },
    { kind: "read", value: false, negate: false },
    { kind: "has-attachment", negate: false },
  ]);
  // A colon that names no field is text; a lone "-" is a word; blanks are nothing.
  assert.deepEqual(parseQuery("  https://x.example/a -  \t"), [
    { kind: "text", value: "https://x.example/a", negate: false },
    { kind: "text", value: "-", negate: false },
  ]);
  assert.deepEqual(parseQuery(""), []);
});

Deno.test("query: dates are a day at midnight UTC or an ISO 8601 time", () => {
  assert.deepEqual(parseQuery("after:2026-12-03 before:2026-12-03T10:30:00+01:00"), [
    { kind: "after", ms: Date.parse("2026-12-03T00:00:00Z"), negate: false },
    { kind: "before", ms: Date.parse("2026-12-03T09:30:00Z"), negate: false },
  ]);
});

Deno.test("query: bad terms are 400s that name them", () => {
  const cases: Array<[string, RegExp]> = [
    ["is:flagged", /Unknown query term "is:flagged"/],
    ["has:pdf", /Unknown query term "has:pdf"/],
    ["before:yesterday", /Cannot read the date in "before:yesterday"/],
    ["after:2026-02-30x", /Cannot read the date/],
    ["x".repeat(MAX_QUERY_LENGTH + 1), /longer than 1000/],
  ];
  for (const [query, message] of cases) {
    assert.throws(() => parseQuery(query), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 400);
      assert.match(error.message, message);
      return true;
    }, query);
  }
});

Deno.test("query: hostile input is read in linear time", () => {
  // Unbalanced quotes and colons over the whole allowed length: one pass, no backtracking.
  const hostile = ('"a:' + "-:".repeat(200)).slice(0, MAX_QUERY_LENGTH);
  assert.equal(parseQuery(hostile).length, 1);
});
