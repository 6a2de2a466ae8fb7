/**
 * The header-list FETCH path (lib/imap/fetch_header_fields.ts: record items and one whole
 * `BODY.PEEK[HEADER.FIELDS (..)]`, written as bytes from the MIME index's root header copy)
 * answers as the general path does, and both answer what RFC 9051 6.4.5 says: the matching
 * fields in stored order, names matched without case, each field's exact bytes with its
 * folded lines, then the empty line. The general path answers the same item without `.PEEK`
 * in an EXAMINEd mailbox (no `\Seen` is set there), under the same response key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { fieldMatcher, FieldSlices } from "../../lib/imap/header_fields.ts";
import type { Section } from "../../lib/imap/parse_fetch.ts";
import { parseHeaderFields } from "../../lib/mail/headers.ts";
import { startElektromail } from "../../lib/server.ts";
import { RawImap } from "./raw_client.ts";

/** Headers that test the cutting into fields, each with what `HEADER.FIELDS (From Subject)` keeps. */
const HEADERS: ReadonlyArray<[string, string]> = [
  // Folded fields keep their continuation lines; repeated fields all come, in stored order.
  [
    "From: a@example.com\r\nSubject: one\r\n two\r\n\tthree\r\nTo: b\r\nsubject: again\r\n\r\nbody\r\n",
    "From: a@example.com\r\nSubject: one\r\n two\r\n\tthree\r\nsubject: again\r\n\r\n",
  ],
  // A line without a colon is no field; white space before the colon is not part of the name.
  [
    "junk line\r\nFROM : x\r\nSub ject: no\r\nX: y\r\n\r\n",
    "FROM : x\r\n\r\n",
  ],
  // Bare LF line ends become CRLF; a header without its empty line ends with the message.
  ["Subject: lf\nFrom: y\nTo: z", "Subject: lf\r\nFrom: y\r\n\r\n"],
  // A stray continuation line before the first field belongs to none.
  [" stray\r\nSubject: s\r\n\r\nb", "Subject: s\r\n\r\n"],
  // An 8-bit field name (matched as text: no ASCII name equals it) and none wanted.
  ["Gr\u00fc\u00dfe: hi\r\nX-Other: 1\r\n\r\n", "\r\n"],
  // Multipart: the index keeps the parts' headers before the root's; only the root's count.
  [
    "From: m@x\r\nContent-Type: multipart/mixed; boundary=b\r\nSubject: multi\r\n\r\n" +
    "--b\r\nContent-Type: text/plain\r\nSubject: inner\r\n\r\nhi\r\n--b--\r\n",
    "From: m@x\r\nSubject: multi\r\n\r\n",
  ],
  // The same with an 8-bit name, whose header is then matched from its parsed fields.
  [
    "Gr\u00fc\u00dfe: x\r\nSubject: s8\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n" +
    "--c\r\nSubject: inner\r\n\r\nbody\r\n--c--\r\n",
    "Subject: s8\r\n\r\n",
  ],
];

const FROM_SUBJECT: Section = { part: [], text: "HEADER.FIELDS", fields: ["from", "SUBJECT"] };

Deno.test("FieldSlices: folded, repeated, malformed fields and a header without its end", () => {
  const slices = new FieldSlices();
  const matcher = fieldMatcher(FROM_SUBJECT);
  for (const [header, expected] of HEADERS) {
    const bytes = new TextEncoder().encode(header);
    const blank = bytes.findIndex((_, i) => bytes[i] === 0x0d && bytes[i + 2] === 0x0d);
    const end = blank >= 0 && bytes[blank + 1] === 0x0a && bytes[blank + 3] === 0x0a
      ? blank + 2
      : bytes.length;
    if (!slices.find(bytes, 0, end, matcher)) {
      // Only the header with an 8-bit name is matched from its parsed fields.
      assert.match(header, /^Gr/);
      slices.findParsed(bytes, parseHeaderFields(bytes, 0, end), matcher);
    }
    const out = new Uint8Array(slices.length);
    assert.equal(slices.write(bytes, out, 0), out.length);
    assert.equal(new TextDecoder().decode(out), expected, JSON.stringify(header));
  }
  // A literal cannot carry NUL: writeLiteral sends it as 0x80; write keeps the bytes.
  const nul = Uint8Array.from("Subject: a\0b\r\n", (ch) => ch.charCodeAt(0));
  assert.ok(slices.find(nul, 0, nul.length, matcher));
  const exact = new Uint8Array(slices.length);
  slices.write(nul, exact, 0);
  assert.deepEqual([...exact.subarray(9, 12)], [0x61, 0, 0x62]);
  const literal = new Uint8Array(slices.length + 2).fill(0);
  assert.equal(slices.writeLiteral(nul, literal, 1), slices.length + 1);
  assert.deepEqual([...literal.subarray(10, 13)], [0x61, 0x80, 0x62]);
  assert.equal(literal[0], 0);
  assert.equal(literal[literal.length - 1], 0);
});

Deno.test("header-list FETCH answers as the general path and as RFC 9051 says, past a mid-command write", async () => {
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
  );
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("a0 LOGIN user pw");
    // The odd headers, then enough messages that the answer passes 256 KiB of output.
    const count = 1500;
    const parts: string[] = [];
    for (let n = 0; n < count; n++) {
      const message = n < HEADERS.length
        ? HEADERS[n][0]
        : `From: s${n}@example.com\r\nDate: 1 Jan 2026\r\nSubject: ${
          "y".repeat(n % 300)
        }\r\n\r\nb\r\n`;
      const bytes = new TextEncoder().encode(message);
      parts.push(`p${n} APPEND INBOX {${bytes.length}+}\r\n${message}\r\n`);
    }
    await client.write(parts.join(""));
    const appended = await client.readUntilTagged(`p${count - 1}`);
    assert.match(appended[appended.length - 1], /OK/);
    await client.command("s1 SELECT INBOX");
    const lists = [
      "UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]",
      "BODY.PEEK[HEADER.FIELDS (from Subject)] UID RFC822.SIZE",
      "UID INTERNALDATE BODY.PEEK[HEADER.FIELDS.NOT (Date x)]",
      "MODSEQ BODY.PEEK[HEADER.FIELDS (Subject)] UID",
    ];
    const fast: string[][] = [];
    // CONDSTORE's first HIGHESTMODSEQ (MODSEQ enables it) left out.
    const fetch = async (command: string) =>
      (await client.command(command)).filter((line) => !line.startsWith("* OK [HIGHESTMODSEQ"));
    for (const items of lists) fast.push(await fetch(`f1 UID FETCH 1:* (${items})`));
    // RFC 9051 6.4.5, exactly: the first messages' literals.
    const stream = fast[1].slice(0, 40).join("\r\n");
    for (const [n, [, expected]] of HEADERS.entries()) {
      const head = `* ${n + 1} FETCH (BODY[HEADER.FIELDS (from Subject)] `;
      const length = new TextEncoder().encode(expected).length;
      assert.ok(
        stream.includes(`${head}{${length}}\r\n${expected} UID ${n + 1} RFC822.SIZE `),
        `${n + 1}`,
      );
    }
    await client.command("s2 EXAMINE INBOX");
    for (const [i, items] of lists.entries()) {
      const general = await fetch(`f2 UID FETCH 1:* (${items.replace(".PEEK", "")})`);
      assert.equal(fast[i][fast[i].length - 1].slice(3), general[general.length - 1].slice(3));
      assert.deepEqual(fast[i].slice(0, -1), general.slice(0, -1), items);
      assert.ok(fast[i].length > count, items);
    }
    // A FETCH by sequence numbers of two runs.
    const runs = await client.command("f3 FETCH 2,4:5 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    assert.deepEqual(runs.filter((line) => line.startsWith("*")), [
      "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {2}",
      "* 4 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {14}",
      "* 5 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {2}",
    ]);
    await client.command("z LOGOUT");
  } finally {
    client.close();
    await server.stop();
  }
});
