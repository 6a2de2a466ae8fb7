import assert from "node:assert/strict";
import {
  binaryString,
  fieldNames,
  firstFields,
  type HeaderField,
  headerField,
  parseHeaderFields,
} from "../../lib/mail/headers.ts";

/** What headerField finds, by its definition: the first field whose lower-cased name is. */
function reference(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const wanted = name.toLowerCase();
  return fields.find((field) =>
    field.name.length === wanted.length &&
    (field.name === name || field.name.toLowerCase() === wanted)
  );
}

Deno.test("headerField: the first field named so, case-insensitive, as by lower-cased copies", () => {
  // ASCII letters of both cases, neighbours of the letter ranges, and chars whose lower case
  // is ASCII (Kelvin sign) or longer (dotted capital I).
  const chars = [
    "a",
    "A",
    "z",
    "Z",
    "k",
    "K",
    "i",
    "I",
    "@",
    "[",
    "`",
    "{",
    "-",
    "\u212a",
    "\u0130",
  ];
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const word = () => {
    let text = "";
    for (let i = 0, n = 1 + random(3); i < n; i++) text += chars[random(chars.length)];
    return text;
  };
  let found = 0;
  for (let round = 0; round < 5000; round++) {
    const fields = Array.from({ length: 1 + random(4) }, (_, i) => ({
      name: word(),
      value: `${i}`,
      start: i,
      end: i + 1,
    }));
    const name = random(4) === 0 ? fields[random(fields.length)].name.toUpperCase() : word();
    const expected = reference(fields, name);
    assert.equal(headerField(fields, name), expected, JSON.stringify({ fields, name }));
    if (expected) found++;
  }
  assert.ok(found > 1000, `${found} names found`);
  const fields = [{ name: "Content-TYPE", value: "text/plain", start: 0, end: 1 }];
  assert.equal(headerField(fields, "content-type")?.value, "text/plain");
  assert.equal(headerField(fields, "Content-Typ"), undefined);
  assert.equal(headerField([{ name: "\u212a", value: "", start: 0, end: 1 }], "K")?.name, "\u212a");
});

Deno.test("firstFields: the field headerField finds for each name, in one pass", () => {
  const names = ["Date", "From", "To", "Cc", "Bcc", "Reply-To", "Message-ID", "Content-ID"];
  const wanted = fieldNames(names);
  const spellings = [
    ...names,
    "date",
    "FROM",
    "tO",
    "cc",
    "Message-Id",
    "X-To",
    "Bc",
    "Content-Type",
    "\u212Aey",
    "Dat\u00e9",
    "reply-to",
    " To",
  ];
  let seed = 5;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 2000; round++) {
    let text = "";
    for (let i = 0, n = random(12); i < n; i++) {
      text += `${spellings[random(spellings.length)]}: v${i}\r\n`;
    }
    const fields = parseHeaderFields(new TextEncoder().encode(text));
    assert.deepEqual(
      firstFields(fields, wanted),
      names.map((name) => headerField(fields, name)),
      JSON.stringify(text),
    );
  }
});

Deno.test("binaryString: one char a byte at every length, the short ones' kept arrays reused", () => {
  const bytes = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7 + 3) % 256);
  for (const [start, end] of [[0, 0], [5, 5], [9, 4], [0, 1], [3, 131], [0, 128], [7, 136]]) {
    const expected = end > start
      ? Array.from(bytes.subarray(start, end), (b) => String.fromCharCode(b)).join("")
      : "";
    assert.equal(binaryString(bytes, start, end), expected, `[${start}, ${end})`);
  }
  // A kept array filled again for another text of the same length.
  assert.equal(binaryString(new Uint8Array([0x61, 0x62]), 0, 2), "ab");
  assert.equal(binaryString(new Uint8Array([0x79, 0x7a]), 0, 2), "yz");
  // Longer than a chunk of fromCharCode.apply.
  assert.equal(binaryString(bytes).length, bytes.length);
  assert.equal(binaryString(bytes).charCodeAt(19_999), bytes[19_999]);
});
