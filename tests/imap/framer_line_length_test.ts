/**
 * The framer at the default IMAP command line limit (64 KiB, as Dovecot): long lines that real
 * clients send are commands; one octet more is `line-too-long`, discarded to the end of the
 * command (literals included) without buffering past the limit. The inputs are too long for
 * every split (`splits()`), so each is cut at every offset near its start, its end and the
 * limit, in TCP-sized chunks, and byte by byte.
 */

import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../lib/config.ts";
import { ImapFramer } from "../../lib/imap/framer.ts";
import { enc, run, type Seen } from "./framer_helpers.ts";

const LIMIT = DEFAULT_LIMITS.imapMaxLineLength;

/** Cuts of `input`: whole, in two at offsets near the edges and `marks`, in fixed-size chunks. */
function* cuts(input: Uint8Array, marks: number[] = []): Generator<Uint8Array[]> {
  yield [input];
  const offsets = new Set<number>();
  for (const mark of [0, input.length, ...marks]) {
    for (let i = mark - 40; i <= mark + 40; i++) {
      if (i >= 0 && i <= input.length) offsets.add(i);
    }
  }
  for (const i of offsets) yield [input.subarray(0, i), input.subarray(i)];
  for (const size of [1, 7, 1460, 4096, 65536]) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
    yield chunks;
  }
}

function check(input: string, expected: Seen[], marks: number[] = []) {
  const bytes = enc.encode(input);
  for (const chunks of cuts(bytes, marks)) {
    const seen = run(chunks, { maxLineLength: LIMIT, maxLiteralSize: 64 * 1024 });
    assert.deepEqual(seen, expected, `cut ${chunks.map((c) => c.length).slice(0, 6).join(",")}`);
  }
}

const command = (line: string, ...literals: string[]): Seen => ({
  type: "command",
  line,
  literals,
});

Deno.test("framer: the default command line limit is 64 KiB", () => {
  assert.equal(LIMIT, 65536);
});

Deno.test("framer: a UID STORE with 2,500 scattered UIDs is one command", () => {
  const uids = Array.from({ length: 2500 }, (_, i) => 1 + 2 * i).join(",");
  const line = `a UID STORE ${uids} +FLAGS (\\Deleted)`;
  assert.ok(line.length > 8192);
  check(`${line}\r\nb NOOP\r\n`, [command(line), command("b NOOP")], [line.length]);
});

Deno.test("framer: exactly at the default limit is a command, one octet more is not", () => {
  const at = "a UID SEARCH UID " + "1,".repeat(LIMIT).slice(0, LIMIT - 17);
  assert.equal(at.length, LIMIT);
  check(`${at}\r\nb NOOP\r\n`, [command(at), command("b NOOP")], [LIMIT]);
  const over = "a UID SEARCH UID 1" + at.slice(17);
  assert.equal(over.length, LIMIT + 1);
  check(`${over}\r\nb NOOP\r\n`, [{ type: "line-too-long", tag: "a" }, command("b NOOP")], [
    LIMIT,
  ]);
});

Deno.test("framer: the limit counts a command's lines, not its literals", () => {
  const value = "v".repeat(40_000);
  const first = `a ID ("a" {${value.length}+}`;
  const second = ` "b" "${"w".repeat(LIMIT - first.length - 8)}")`;
  assert.equal(first.length + second.length, LIMIT);
  check(`${first}\r\n${value}${second}\r\n`, [command(first + second, value)], [
    first.length + 2,
  ]);
});

Deno.test("framer: an over-long command is discarded to its end, literals included", () => {
  // The first line is fine and its literal read; the second takes the command past the
  // limit and announces another literal, whose bytes look like a command.
  const input = `a ID ("a" {5+}\r\nhello "b" "${"x".repeat(LIMIT)}" "c" {10+}\r\n` +
    `c LOGOUT\r\n)\r\nb NOOP\r\n`;
  check(input, [{ type: "line-too-long", tag: "a" }, command("b NOOP")], [LIMIT]);
  // A synchronizing literal at the end of the discarded line: the client waits for "+",
  // gets the BAD instead and sends nothing more of that command.
  check(`a ID ("b" "${"x".repeat(LIMIT)}" "c" {10}\r\nb NOOP\r\n`, [
    { type: "line-too-long", tag: "a" },
    command("b NOOP"),
  ], [LIMIT]);
});

Deno.test("framer: an endless line is never buffered past the limit", () => {
  const framer = new ImapFramer({ maxLineLength: LIMIT, maxLiteralSize: 64 * 1024 });
  framer.push(enc.encode("a NOOP "));
  const chunk = new Uint8Array(16 * 1024).fill(0x78);
  const events = [];
  for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) {
    framer.push(chunk.slice());
    for (let event = framer.next(); event; event = framer.next()) events.push(event);
    assert.ok(framer.buffered <= LIMIT + 2 + chunk.length, `${framer.buffered} buffered`);
  }
  assert.deepEqual(events, [{ type: "line-too-long", tag: "a" }]);
  // Once reported, only a short tail is kept to spot a literal announcement.
  assert.ok(framer.buffered <= 64, `${framer.buffered} buffered after the report`);
  framer.push(enc.encode("\r\nb NOOP\r\n"));
  const next = framer.next();
  assert.equal(next?.type, "command");
  if (next?.type === "command") assert.equal(new TextDecoder().decode(next.command.line), "b NOOP");
});
