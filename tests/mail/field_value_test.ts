import assert from "node:assert/strict";
import { parseHeaderFields } from "../../lib/mail/headers.ts";

const values = (text: string) =>
  parseHeaderFields(new TextEncoder().encode(text)).map((field) => [field.name, field.value]);

Deno.test("header values: trimmed, unfolded, CR kept inside, no colon space needed", () => {
  assert.deepEqual(
    values(
      "Subject:  Hello world \t\r\n" +
        "To:x@example.com\r\n" +
        "Cc: a,\r\n b\r\n" +
        "X-Empty:\r\n" +
        "X-Cr: a\rb\r\n" +
        "X-Colons: a: b: c\n" +
        "X-Last: end",
    ),
    [
      ["Subject", "Hello world"],
      ["To", "x@example.com"],
      ["Cc", "a, b"],
      ["X-Empty", ""],
      ["X-Cr", "a\rb"],
      ["X-Colons", "a: b: c"],
      ["X-Last", "end"],
    ],
  );
});
