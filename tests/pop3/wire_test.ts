import assert from "node:assert/strict";
import { formatUidl } from "../../lib/pop3/maildrop.ts";
import {
  errLine,
  multiLine,
  okLine,
  stuffedChunks,
  topEnd,
  WIRE_CHUNK,
  wireSize,
} from "../../lib/pop3/wire.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function stuffed(raw: Uint8Array): string {
  return [...stuffedChunks(raw)].map((chunk) => latin1.decode(chunk)).join("");
}

/** Reverses byte-stuffing as a client does (RFC 1939 3). */
function unstuff(text: string): string {
  return text.split("\r\n").map((line) => line.startsWith(".") ? line.slice(1) : line).join("\r\n");
}

Deno.test("pop3 wire: status lines and multi-line lists", () => {
  assert.equal(okLine(""), "+OK\r\n");
  assert.equal(okLine("2 320"), "+OK 2 320\r\n");
  assert.equal(errLine("IN-USE", "Locked."), "-ERR [IN-USE] Locked.\r\n");
  assert.equal(errLine(null, "No."), "-ERR No.\r\n");
  assert.equal(multiLine(["TOP", ".odd"]), "TOP\r\n..odd\r\n.\r\n");
  assert.equal(multiLine([]), ".\r\n");
});

Deno.test("pop3 wire: stuffing, CRLF for bare LF, a line end added; sizes agree", () => {
  const cases: Array<[string, string]> = [
    ["", ""],
    ["a\r\n", "a\r\n"],
    [".\r\n", "..\r\n"],
    ["a\n.b\nc", "a\r\n..b\r\nc\r\n"],
    ["x\r\n.\r\n..\r\n", "x\r\n..\r\n...\r\n"],
    ["mid.dot\r\n", "mid.dot\r\n"],
    ["bare\rcr", "bare\rcr\r\n"],
    ["\n\n", "\r\n\r\n"],
  ];
  for (const [raw, wire] of cases) {
    const bytes = encoder.encode(raw);
    assert.equal(stuffed(bytes), wire, JSON.stringify(raw));
    assert.equal(wireSize(bytes), unstuff(wire).length, `size of ${JSON.stringify(raw)}`);
  }
});

Deno.test("pop3 wire: chunk edges do not lose a line start, a CR before LF, or the end", () => {
  for (const at of [WIRE_CHUNK - 2, WIRE_CHUNK - 1, WIRE_CHUNK, WIRE_CHUNK + 1]) {
    for (const tail of ["\r\n.x\n", "\n.y", ".\r\n"]) {
      const raw = encoder.encode("a".repeat(at) + tail);
      const out = stuffed(raw);
      assert.equal(unstuff(out).length, wireSize(raw), `${at} ${JSON.stringify(tail)}`);
      assert.ok(out.endsWith("\r\n"));
      assert.ok(!/(^|[^\r])\n/.test(out), "no bare LF");
    }
  }
});

Deno.test("pop3 wire: TOP cuts after the header and n body lines", () => {
  const raw = encoder.encode("A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree");
  const cut = (n: number) => latin1.decode(raw.subarray(0, topEnd(raw, n)));
  assert.equal(cut(0), "A: 1\r\nB: 2\r\n\r\n");
  assert.equal(cut(1), "A: 1\r\nB: 2\r\n\r\none\r\n");
  assert.equal(cut(3), "A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree");
  assert.equal(cut(9), latin1.decode(raw));
  const lf = encoder.encode("A: 1\n\nbody\n");
  assert.equal(latin1.decode(lf.subarray(0, topEnd(lf, 0))), "A: 1\n\n");
  const noBody = encoder.encode("A: 1\r\nB: 2");
  assert.equal(topEnd(noBody, 0), noBody.length);
});

Deno.test("pop3 wire: UIDL is the UID and UIDVALIDITY in hex (Dovecot's default)", () => {
  assert.equal(formatUidl(1), "0000000100000001");
  assert.equal(formatUidl(0xabcdef), "00abcdef00000001");
});

/** The wire form by string operations, for texts of ASCII lines. */
function wireForm(text: string): string {
  const crlf = text.replace(/(?<!\r)\n/g, "\r\n");
  const lines = crlf.split("\r\n").map((line) => line.startsWith(".") ? `.${line}` : line);
  const joined = lines.join("\r\n");
  return joined === "" || joined.endsWith("\r\n") ? joined : `${joined}\r\n`;
}

Deno.test("pop3 wire: chunks already in wire form are the message's own bytes; stuffing across chunk ends", () => {
  const clean = encoder.encode(`${"x".repeat(98)}\r\n`.repeat(Math.ceil(2.5 * WIRE_CHUNK / 100)));
  const chunks = [...stuffedChunks(clean)];
  assert.equal(chunks.length, 3);
  assert.ok(chunks.every((chunk) => chunk.buffer === clean.buffer), "views of it, not copies");
  assert.equal(chunks.map((chunk) => latin1.decode(chunk)).join(""), latin1.decode(clean));
  // The first chunk ends a line exactly, or ends on the CR of a CRLF; what starts the next
  // one is then at a line start, or ends a line.
  const full = `${"a".repeat(WIRE_CHUNK - 2)}\r\n`;
  const cut = `${"a".repeat(WIRE_CHUNK - 1)}\r\n`;
  for (
    const text of [
      `${full}.dot\r\nrest\r\n`,
      `${cut}.x\r\n`,
      `${cut}y\r\n`,
      `${full}the last line has no end`,
      `${full}bare\nlf\r\n`,
      `${"b".repeat(WIRE_CHUNK - 1)}\n.after a bare LF\r\n`,
      `${"b".repeat(WIRE_CHUNK)}\na bare LF starts the second chunk\r\n`,
      `.first\r\n${full}`,
    ]
  ) {
    assert.equal(stuffed(encoder.encode(text)), wireForm(text), JSON.stringify(text.slice(-30)));
  }
  // A chunk that needs stuffing is a copy; the one after it, in wire form, a view again.
  const mixed = encoder.encode(`.${"c".repeat(WIRE_CHUNK - 3)}\r\n${full}`);
  const parts = [...stuffedChunks(mixed)];
  assert.deepEqual(parts.map((part) => part.buffer === mixed.buffer), [false, true]);
});
