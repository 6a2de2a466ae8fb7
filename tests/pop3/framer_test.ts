import assert from "node:assert/strict";
import { type Pop3Frame, Pop3Framer } from "../../lib/pop3/framer.ts";
import { splits } from "../harness/splits.ts";

const encoder = new TextEncoder();

function frames(chunks: Uint8Array[], maxLine = 20): Pop3Frame[] {
  const framer = new Pop3Framer(maxLine);
  const out: Pop3Frame[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let frame = framer.next(); frame; frame = framer.next()) out.push(frame);
  }
  return out;
}

Deno.test("pop3 framer: lines at every split, CRLF or bare LF, partial lines wait", () => {
  const input = encoder.encode("USER alice\r\nPASS a b\r\n\r\nSTAT\nLI");
  const expected: Pop3Frame[] = [
    { type: "line", line: "USER alice" },
    { type: "line", line: "PASS a b" },
    { type: "line", line: "" },
    { type: "line", line: "STAT" },
  ];
  for (const chunks of splits(input)) assert.deepEqual(frames(chunks), expected);
});

Deno.test("pop3 framer: a long line is reported once, drained, and the next line is read", () => {
  const long = "X".repeat(50);
  const input = encoder.encode(`NOOP\r\n${long}\r\nSTAT\r\n`);
  const expected: Pop3Frame[] = [
    { type: "line", line: "NOOP" },
    { type: "line-too-long" },
    { type: "line", line: "STAT" },
  ];
  for (const chunks of splits(input)) assert.deepEqual(frames(chunks), expected);
});

Deno.test("pop3 framer: a line of exactly the limit passes, with its CR split off or not", () => {
  const exact = "Y".repeat(20);
  const input = encoder.encode(`${exact}\r\n${exact}Z\r\n`);
  for (const chunks of splits(input)) {
    assert.deepEqual(frames(chunks), [{ type: "line", line: exact }, { type: "line-too-long" }]);
  }
});

Deno.test("pop3 framer: an endless line is never buffered past the limit", () => {
  const framer = new Pop3Framer(100);
  const chunk = encoder.encode("A".repeat(64 * 1024));
  const seen: Pop3Frame[] = [];
  for (let i = 0; i < 64; i++) {
    framer.push(chunk);
    for (let frame = framer.next(); frame; frame = framer.next()) seen.push(frame);
  }
  assert.deepEqual(seen, [{ type: "line-too-long" }]);
  framer.push(encoder.encode("\r\nQUIT\r\n"));
  assert.deepEqual(framer.next(), { type: "line", line: "QUIT" });
});

Deno.test("pop3 framer: bytes that are not UTF-8 are read as Latin-1", () => {
  assert.deepEqual(frames([Uint8Array.of(0x50, 0x41, 0x53, 0x53, 0x20, 0xe9, 0x0d, 0x0a)]), [
    { type: "line", line: "PASS \u00e9" },
  ]);
});
