import assert from "node:assert/strict";
import { responseKey, type Section } from "../../lib/imap/parse_fetch.ts";
import {
  applyPartial,
  binaryBytes,
  binarySection,
  binarySize,
  headerFieldsItem,
  sectionBytes,
  withoutNul,
} from "../../lib/imap/sections.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import { holdsNul, MessageIndex } from "../../lib/mail/message_index.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const text = (data: Uint8Array | null) => data === null ? null : String.fromCharCode(...data);
const fields = (part: number[], names: string[], not = false): Section => ({
  part,
  text: not ? "HEADER.FIELDS.NOT" : "HEADER.FIELDS",
  fields: names,
});

const MESSAGE = "From: a@x\r\nSubject: outer\nTo: b@y\r\nX-Long: one\r\n two\r\n" +
  "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
  "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: c@z\r\n\r\nbody\r\n" +
  "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  "AEFCAA==\r\n" +
  "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
  "a=3Db=\r\nc\r\n" +
  "--b\r\nContent-Transfer-Encoding: x-gzip\r\n\r\n???\r\n--b--\r\n";

Deno.test("sections: HEADER.FIELDS in stored order, any case, CRLF ends, cached per request", () => {
  const view = new MessageView(bytes(MESSAGE));
  // A bare LF line end is sent as CRLF; a folded field stays folded.
  assert.equal(
    text(sectionBytes(view, fields([], ["subject", "X-LONG", "from"]))),
    "From: a@x\r\nSubject: outer\r\nX-Long: one\r\n two\r\n\r\n",
  );
  assert.equal(
    text(sectionBytes(view, fields([], ["From", "Subject", "X-Long"], true))),
    "To: b@y\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
  );
  // The same names for the encapsulated message (part 1) are a different result.
  assert.equal(text(sectionBytes(view, fields([1], ["subject"]))), "Subject: inner\r\n\r\n");
  assert.equal(text(sectionBytes(view, fields([], ["subject"]))), "Subject: outer\r\n\r\n");
  // Many different requests (more than the per-message cache keeps) stay right.
  for (let round = 0; round < 2; round++) {
    for (const name of ["from", "to", "subject", "x-long", "content-type", "nope"]) {
      const got = text(sectionBytes(view, fields([], [name])))!;
      assert.equal(got === "\r\n", name === "nope", name);
      if (name !== "nope") assert.match(got, new RegExp(`^${name}:`, "i"));
    }
  }
  assert.equal(sectionBytes(view, fields([2], ["subject"])), null, "not a message part");
});

Deno.test("sections: BINARY decodes leaves, keeps containers, refuses unknown encodings", () => {
  const view = new MessageView(bytes(MESSAGE));
  const data = (part: number[]) => {
    const section = binarySection(view, part);
    assert.equal(section.kind, "data");
    if (section.kind !== "data") throw new Error("unreachable");
    const out = binaryBytes(view, section.part);
    assert.equal(binarySize(view, section.part), out.length, `size of ${part}`);
    return text(out);
  };
  assert.equal(data([2]), "\x00AB\x00");
  assert.equal(data([3]), "a=bc");
  assert.equal(data([1]), "Subject: inner\r\nFrom: c@z\r\n\r\nbody");
  assert.equal(data([1, 1]), "body");
  assert.equal(data([]), MESSAGE);
  assert.deepEqual(binarySection(view, [4]), { kind: "unknown-cte", encoding: "x-gzip" });
  assert.deepEqual(binarySection(view, [9]), { kind: "missing" });
  assert.deepEqual(binarySection(view, [2, 1]), { kind: "missing" });
});

Deno.test("sections: partials at 0, at the size, past it", () => {
  const data = bytes("0123456789");
  assert.equal(text(applyPartial(data, { offset: 0, length: 10 })), "0123456789");
  assert.equal(text(applyPartial(data, { offset: 0, length: 99 })), "0123456789");
  assert.equal(text(applyPartial(data, { offset: 9, length: 5 })), "9");
  assert.equal(text(applyPartial(data, { offset: 10, length: 1 })), "");
  assert.equal(text(applyPartial(data, { offset: 11, length: 1 })), "");
  assert.equal(text(applyPartial(data, null)), "0123456789");
});

Deno.test("sections: NUL becomes 0x80 for literals, only in messages that hold one", () => {
  const clean = new MessageView(bytes("Subject: x\r\n\r\nab"));
  const plain = bytes("ab");
  assert.equal(withoutNul(clean, plain), plain, "no copy for a message without NUL");
  const dirty = new MessageView(bytes("Subject: x\r\n\r\na\x00b"));
  const body = sectionBytes(dirty, { part: [1], text: null, fields: [] })!;
  assert.deepEqual([...withoutNul(dirty, body)], [0x61, 0x80, 0x62]);
  assert.deepEqual([...body], [0x61, 0x00, 0x62], "the stored bytes are untouched");
});

Deno.test("sections: a message's index at hand says whether it holds NUL; its bytes are not read for it", () => {
  const unread = () => assert.fail("the message's bytes were read");
  const plain = bytes("ab");
  const cleanIndex = new MessageIndex(bytes("Subject: x\r\n\r\nab"));
  const clean = new MessageView(unread, unread, () => cleanIndex);
  assert.equal(withoutNul(clean, plain), plain);
  // The index's verdict stands for every section of the message.
  const dirtyIndex = new MessageIndex(bytes("Subject: x\r\n\r\na\x00b"));
  const dirty = new MessageView(unread, unread, () => dirtyIndex);
  assert.deepEqual([...withoutNul(dirty, bytes("a\x00b"))], [0x61, 0x80, 0x62]);
  // No index at hand: the bytes are looked through, once per stored array.
  let reads = 0;
  const stored = bytes("Subject: x\r\n\r\nab");
  const uncached = new MessageView(() => (reads++, stored), unread, () => undefined);
  assert.equal(withoutNul(uncached, plain), plain);
  assert.equal(reads, 1);
});

Deno.test("sections: HEADER.FIELDS data items are built once per message and request", () => {
  const view = new MessageView(bytes(MESSAGE));
  const prefix = (section: Section) =>
    responseKey({ kind: "BODY", peek: true, section, partial: null }) + " ";
  const item = (part: number[], names: string[], not = false) => {
    const section = fields(part, names, not);
    return headerFieldsItem(view, section, prefix(section));
  };
  const first = item([], ["From", "subject"]);
  assert.equal(
    text(first),
    "BODY[HEADER.FIELDS (From subject)] {29}\r\nFrom: a@x\r\nSubject: outer\r\n\r\n",
  );
  assert.equal(item([], ["From", "subject"]), first, "kept");
  assert.equal(
    text(item([1], ["From", "subject"])),
    "BODY[1.HEADER.FIELDS (From subject)] {29}\r\nSubject: inner\r\nFrom: c@z\r\n\r\n",
  );
  assert.equal(
    text(item([], ["to"], true)),
    "BODY[HEADER.FIELDS.NOT (to)] {91}\r\nFrom: a@x\r\nSubject: outer\r\nX-Long: one\r\n two\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
  );
  // More distinct requests than are kept: older ones are rebuilt, still right.
  for (const name of ["a", "b", "c", "d", "e"]) item([], [name]);
  const again = item([], ["From", "subject"]);
  assert.notEqual(again, first);
  assert.deepEqual(again, first);
  assert.equal(item([2], ["From"]), null, "part 2 is not a message");
  const nul = new MessageView(bytes("Subject: a\x00b\r\n\r\n"));
  assert.deepEqual(
    [...headerFieldsItem(nul, fields([], ["subject"]), "x ")!].slice(-7),
    [0x61, 0x80, 0x62, 0x0d, 0x0a, 0x0d, 0x0a],
  );
  // Bare LF and a last line without any end are sent with CRLF, as in BODY[HEADER.FIELDS].
  const broken = new MessageView(bytes("Subject: a\nX: 1\r\nFrom: b"));
  for (const names of [["subject", "from"], ["x", "from"], ["subject"]]) {
    const section = fields([], names);
    const data = text(sectionBytes(broken, section))!;
    const key = `K[${names.join(" ")}] `;
    assert.equal(
      text(headerFieldsItem(broken, section, key)!),
      `${key}{${data.length}}\r\n${data}`,
    );
  }
  assert.equal(
    text(sectionBytes(broken, fields([], ["subject", "from"]))),
    "Subject: a\r\nFrom: b\r\n\r\n",
  );
  // A field name in 8-bit (a literal astring) keeps its UTF-8 in the response key.
  const key = new TextDecoder().decode(headerFieldsItem(view, fields([], ["Grüße"]), "K[Grüße] ")!);
  assert.equal(key, "K[Grüße] {2}\r\n\r\n");
});

Deno.test("sections: HEADER.FIELDS data and kept items against a reference (random headers)", () => {
  let seed = 11;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const names = ["From", "subject", "TO", "X-Long", "Date", "x-nul"];
  const ends = ["\r\n", "\n", ""];
  for (let round = 0; round < 300; round++) {
    const generated: Array<{ name: string; value: string }> = [];
    let header = "";
    for (let i = random(6); i >= 0; i--) {
      const name = names[random(names.length)];
      const value = random(4) === 0 ? "a\x00b" : random(3) === 0 ? "one\r\n two" : `v${i}`;
      generated.push({ name, value });
      header += `${name}: ${value}${i === 0 ? ends[random(3)] : "\r\n"}`;
    }
    const raw = header + (header.endsWith("\n") && random(2) === 0 ? "\r\nbody" : "");
    const view = new MessageView(bytes(raw));
    const wanted = names.filter(() => random(2) === 0).map((name) => name.toUpperCase());
    const not = random(3) === 0;
    const section = fields([], wanted.length > 0 ? wanted : ["FROM"], not);
    // The reference: the chosen fields in stored order, each ending in CRLF, then CRLF.
    const chosen = generated.filter(({ name }) =>
      section.fields.includes(name.toUpperCase()) !== not
    );
    const expected = chosen.map(({ name, value }) => `${name}: ${value}\r\n`).join("") + "\r\n";
    const data = text(sectionBytes(view, section))!;
    assert.equal(data, expected, JSON.stringify(raw));
    const key = `K${round}[${section.text} (${section.fields.join(" ")})] `;
    const literal = expected.replaceAll("\x00", "\x80");
    assert.equal(
      text(headerFieldsItem(view, section, key)),
      `${key}{${literal.length}}\r\n${literal}`,
      JSON.stringify(raw),
    );
  }
});

Deno.test("sections: holdsNul finds a NUL at every offset, alignment and length, in shared memory too", () => {
  // The memory store's bytes are in a SharedArrayBuffer, where holdsNul reads words.
  for (const memory of [new ArrayBuffer(200), new SharedArrayBuffer(200)]) {
    const backing = new Uint8Array(memory).fill(0x41);
    const kind = memory.constructor.name;
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 150; length += length < 80 ? 1 : 7) {
        const view = backing.subarray(start, start + length);
        assert.equal(holdsNul(view), false, `none in ${start}+${length} (${kind})`);
        for (let at = 0; at < length; at++) {
          view[at] = 0;
          assert.equal(holdsNul(view), true, `at ${at} of ${start}+${length} (${kind})`);
          view[at] = 0x41;
        }
        // A NUL just outside the view is not in it.
        if (start > 0) backing[start - 1] = 0;
        backing[start + length] = 0;
        assert.equal(holdsNul(view), false, `outside ${start}+${length} (${kind})`);
        backing.fill(0x41);
      }
    }
    // Bytes that only look like a zero to a careless word test (0x80, 0x01, 0xff).
    const filled = (fill: (i: number) => number) => {
      const bytes = new Uint8Array(new (memory.constructor as typeof ArrayBuffer)(256));
      bytes.forEach((_, i) => bytes[i] = fill(i));
      return bytes;
    };
    assert.equal(holdsNul(filled((i) => i || 1)), false);
    assert.equal(holdsNul(filled(() => 0x80)), false);
    assert.equal(holdsNul(filled(() => 0x01)), false);
  }
});
