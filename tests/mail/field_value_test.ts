import assert from "node:assert/strict";
import { parseHeaderFields, rawFieldValue, rawFieldValueIs } from "../../lib/mail/headers.ts";

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

Deno.test("rawFieldValueIs: true exactly for rawFieldValue's text", () => {
  const raw = Uint8Array.from(
    "Content-Type: text/plain;\r\n\tcharset=utf-8 \r\n" +
      "X-Nul: a\x00b\r\n" +
      "X-Eight: \xc3\xa9\r\n" +
      "X-Cr: a\rb\r\n" +
      "X-Empty:  \r\n" +
      "X-Vt: \x0bv\r\n\r\n",
    (c) => c.charCodeAt(0),
  );
  for (const field of parseHeaderFields(raw)) {
    const stored = rawFieldValue(raw, field);
    assert.ok(rawFieldValueIs(raw, field, stored), field.name);
    // The decoded value differs from the stored one in all of these but the first and X-Empty.
    const same = field.name === "Content-Type" || field.name === "X-Empty";
    assert.equal(rawFieldValueIs(raw, field, field.value), same, field.name);
    assert.ok(!rawFieldValueIs(raw, field, stored + "x"), field.name);
    if (stored.length > 0) assert.ok(!rawFieldValueIs(raw, field, stored.slice(0, -1)), field.name);
  }
});
