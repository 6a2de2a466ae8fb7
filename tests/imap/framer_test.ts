import assert from "node:assert/strict";
import { ImapFramer, literalAnnouncement } from "../../lib/imap/framer.ts";
import { enc, run, type RunOptions, type Seen, splits } from "./framer_helpers.ts";

/** Asserts the events for `input` under every split (STYLE.md 11). */
function check(input: string, expected: Seen[], options: RunOptions = {}) {
  const bytes = enc.encode(input);
  for (const chunks of splits(bytes)) {
    const lengths = chunks.map((c) => c.length).join(",");
    assert.deepEqual(run(chunks, options), expected, `split ${lengths}`);
  }
}

const command = (line: string, ...literals: string[]): Seen => ({
  type: "command",
  line,
  literals,
});

Deno.test("framer: plain commands, CRLF and bare LF", () => {
  check("a1 NOOP\r\na2 CAPABILITY\r\n", [command("a1 NOOP"), command("a2 CAPABILITY")]);
  check("a1 NOOP\n", [command("a1 NOOP")]);
  check("\r\n", [command("")]);
});

Deno.test("framer: incomplete command yields nothing", () => {
  check("a1 NOO", []);
  check("a1 LOGIN {3}\r\nbo", [{
    type: "literal-request",
    tag: "a1",
    size: 3,
    binary: false,
    prefix: "a1 LOGIN {3}",
  }]);
});

Deno.test("framer: synchronizing literals ask the owner, then read the bytes", () => {
  check("a1 LOGIN {3}\r\nbob {123}\r\n" + "x".repeat(123) + "\r\n", [
    { type: "literal-request", tag: "a1", size: 3, binary: false, prefix: "a1 LOGIN {3}" },
    {
      type: "literal-request",
      tag: "a1",
      size: 123,
      binary: false,
      prefix: "a1 LOGIN {3} {123}",
      buffered: 3,
    },
    command("a1 LOGIN {3} {123}", "bob", "x".repeat(123)),
  ]);
});

Deno.test("framer: literal bytes are opaque (CRLF and braces inside)", () => {
  check("a APPEND INBOX {10+}\r\n{1}\r\na\r\n\r\n\r\n", [
    command("a APPEND INBOX {10+}", "{1}\r\na\r\n\r\n"),
  ]);
});

Deno.test("framer: non-synchronizing literals need no decision", () => {
  check("a1 LOGIN {5+}\r\nalice {2+}\r\npw\r\na2 NOOP\r\n", [
    command("a1 LOGIN {5+} {2+}", "alice", "pw"),
    command("a2 NOOP"),
  ]);
});

Deno.test("framer: literal8 and zero-length literals", () => {
  check("a APPEND INBOX ~{3}\r\n\0\x01\x02\r\n", [
    { type: "literal-request", tag: "a", size: 3, binary: true, prefix: "a APPEND INBOX ~{3}" },
    command("a APPEND INBOX ~{3}", "\0\x01\x02"),
  ]);
  check("a LOGIN {0+}\r\n {0}\r\n\r\n", [
    { type: "literal-request", tag: "a", size: 0, binary: false, prefix: "a LOGIN {0+} {0}" },
    command("a LOGIN {0+} {0}", "", ""),
  ]);
});

Deno.test("framer: a rejected literal drops the command; the next line is a new command", () => {
  check("a APPEND INBOX {5000}\r\na2 NOOP\r\n", [
    {
      type: "literal-request",
      tag: "a",
      size: 5000,
      binary: false,
      prefix: "a APPEND INBOX {5000}",
    },
    command("a2 NOOP"),
  ], { accept: (size) => size < 1000 });
});

Deno.test("framer: non-synchronizing literals past the budget ask the owner", () => {
  // Accepted: read like any other.
  check(`a APPEND INBOX {1500+}\r\n${"y".repeat(1500)}\r\n`, [
    {
      type: "literal-request",
      tag: "a",
      size: 1500,
      binary: false,
      prefix: "a APPEND INBOX {1500+}",
      nonSync: true,
    },
    command("a APPEND INBOX {1500+}", "y".repeat(1500)),
  ]);
  // The budget is for the command's literals together.
  check(`a LOGIN {600+}\r\n${"u".repeat(600)} {600+}\r\n${"p".repeat(600)}\r\n`, [
    {
      type: "literal-request",
      tag: "a",
      size: 600,
      binary: false,
      prefix: "a LOGIN {600+} {600+}",
      nonSync: true,
      buffered: 600,
    },
    command("a LOGIN {600+} {600+}", "u".repeat(600), "p".repeat(600)),
  ]);
});

Deno.test("framer: a rejected non-synchronizing literal is drained, the rest discarded", () => {
  const data = "y".repeat(1500);
  const refused = { type: "literal-request", tag: "a", binary: false, nonSync: true } as const;
  const reject = { accept: (size: number) => size < 1000 };
  check(`a APPEND INBOX {1500+}\r\n${data} {3+}\r\nabc tail\r\nb NOOP\r\n`, [
    { ...refused, size: 1500, prefix: "a APPEND INBOX {1500+}" },
    command("b NOOP"),
  ], reject);
  // Bytes that look like a command inside the drained literal are never parsed.
  check("a APPEND INBOX {1010+}\r\n" + "c LOGOUT\r\n".repeat(101) + "\r\nb NOOP\r\n", [
    { ...refused, size: 1010, prefix: "a APPEND INBOX {1010+}" },
    command("b NOOP"),
  ], reject);
});

Deno.test("framer: a drained literal is not kept", () => {
  const framer = new ImapFramer({ maxLineLength: 100, maxLiteralSize: 100 });
  framer.push(enc.encode("a LOGIN {50000000+}\r\n"));
  const event = framer.next();
  assert.equal(event?.type, "literal-request");
  framer.rejectLiteral();
  const chunk = new Uint8Array(1 << 20).fill(0x78);
  for (let sent = 0; sent < 50_000_000; sent += chunk.length) {
    framer.push(chunk.subarray(0, Math.min(chunk.length, 50_000_000 - sent)));
    assert.equal(framer.next(), null);
    assert.equal(framer.buffered, 0);
  }
  framer.push(enc.encode("\r\nb NOOP\r\n"));
  assert.equal(framer.next()?.type, "command");
});

Deno.test("framer: line too long is reported once and discarded to the end of line", () => {
  const long = "a1 SEARCH " + "X".repeat(300);
  check(`${long}\r\na2 NOOP\r\n`, [{ type: "line-too-long", tag: "a1" }, command("a2 NOOP")]);
  check("Z".repeat(400) + "\r\na2 NOOP\r\n", [
    { type: "line-too-long", tag: null },
    command("a2 NOOP"),
  ]);
});

Deno.test("framer: the line cap counts the text of all lines of a command", () => {
  check(`a LOGIN {3+}\r\nabc ${"p".repeat(250)}\r\nb NOOP\r\n`, [
    { type: "line-too-long", tag: "a" },
    command("b NOOP"),
  ]);
});

Deno.test("framer: a long line that announces a non-synchronizing literal still drains it", () => {
  check(`a ${"X".repeat(300)} {10+}\r\nb LOGOUT\r\n\r\nc NOOP\r\n`, [
    { type: "line-too-long", tag: "a" },
    command("c NOOP"),
  ]);
});

Deno.test("framer: exactly at the line cap is fine, one over is not", () => {
  const at = "a " + "x".repeat(198);
  check(`${at}\r\n`, [command(at)]);
  check(`${at}y\r\nb NOOP\r\n`, [{ type: "line-too-long", tag: "a" }, command("b NOOP")]);
});

Deno.test("framer: braces that are not at the end of a line are text", () => {
  check('a SEARCH TEXT "{3}" ALL\r\n', [command('a SEARCH TEXT "{3}" ALL')]);
  check("a X {3 }\r\n", [command("a X {3 }")]);
  check("a X {}\r\n", [command("a X {}")]);
});

Deno.test("framer: readRawLine returns lines without literal processing", () => {
  const framer = new ImapFramer({ maxLineLength: 10, maxLiteralSize: 10 });
  framer.push(enc.encode("DO"));
  assert.equal(framer.readRawLine(), null);
  framer.push(enc.encode("NE {5}\r\nYWJj\r\n"));
  assert.equal(new TextDecoder().decode(framer.readRawLine()!), "DONE {5}");
  assert.equal(new TextDecoder().decode(framer.readRawLine()!), "YWJj");
  assert.equal(framer.readRawLine(), null);
  framer.push(enc.encode("0123456789ABCDEF\r\na NOOP\r\n"));
  assert.equal(new TextDecoder().decode(framer.readRawLine()!), "0123456789");
  const event = framer.next();
  assert.equal(event?.type, "command");
});

Deno.test("framer: IDLE and AUTHENTICATE raw lines between commands, at every split", () => {
  // The owner switches to readRawLine() after a command that wants raw lines (IDLE until
  // DONE, AUTHENTICATE until one response line) and back to next() afterwards.
  const input = enc.encode(
    "a IDLE\r\nDONE\r\nb AUTHENTICATE PLAIN\r\nAGJvYgB4\r\nc APPEND INBOX {3+}\r\nx{}\r\n" +
      "d IDLE\r\n{5}\r\nDONE\r\ne NOOP\r\n",
  );
  for (const chunks of splits(input)) {
    const framer = new ImapFramer({ maxLineLength: 200, maxLiteralSize: 100 });
    const seen: string[] = [];
    let raw: "until DONE" | "one line" | null = null;
    for (const chunk of chunks) {
      framer.push(chunk);
      for (;;) {
        if (raw) {
          const line = framer.readRawLine();
          if (!line) break;
          const text = new TextDecoder().decode(line);
          seen.push(`raw ${text}`);
          if (raw === "one line" || text === "DONE") raw = null;
          continue;
        }
        const event = framer.next();
        if (!event) break;
        assert.equal(event.type, "command");
        const line = new TextDecoder().decode(event.command.line);
        seen.push(line);
        raw = line.endsWith(" IDLE")
          ? "until DONE"
          : line.endsWith(" AUTHENTICATE PLAIN")
          ? "one line"
          : null;
      }
    }
    assert.deepEqual(seen, [
      "a IDLE",
      "raw DONE",
      "b AUTHENTICATE PLAIN",
      "raw AGJvYgB4",
      "c APPEND INBOX {3+}",
      "d IDLE",
      "raw {5}",
      "raw DONE",
      "e NOOP",
    ], `split ${chunks.map((c) => c.length).join(",")}`);
  }
});

Deno.test("framer: oversize literal8 (~{n+}) is drained like any non-synchronizing literal", () => {
  const data = "\0".repeat(1200);
  check(`a APPEND INBOX ~{1200+}\r\n${data}\r\nb NOOP\r\n`, [
    {
      type: "literal-request",
      tag: "a",
      size: 1200,
      binary: true,
      prefix: "a APPEND INBOX ~{1200+}",
      nonSync: true,
    },
    command("b NOOP"),
  ], { accept: () => false });
  check("a APPEND INBOX ~{3+}\r\n\0\r\n\r\n", [command("a APPEND INBOX ~{3+}", "\0\r\n")]);
});

Deno.test("framer: accept/reject without a pending literal is a programming error", () => {
  const framer = new ImapFramer({ maxLineLength: 10, maxLiteralSize: 10 });
  assert.throws(() => framer.acceptLiteral(), /Cannot accept/);
  assert.throws(() => framer.rejectLiteral(), /Cannot reject/);
});

Deno.test("framer: next() returns null while a literal decision is pending", () => {
  const framer = new ImapFramer({ maxLineLength: 100, maxLiteralSize: 100 });
  framer.push(enc.encode("a LOGIN {1}\r\nx\r\n"));
  assert.equal(framer.next()?.type, "literal-request");
  assert.equal(framer.next(), null);
  framer.acceptLiteral();
  assert.equal(framer.next()?.type, "command");
});

Deno.test("framer: literalAnnouncement recognises the four forms", () => {
  const a = (s: string) => literalAnnouncement(enc.encode(s));
  assert.deepEqual(a("x {5}"), { size: 5, nonSync: false, binary: false, length: 3 });
  assert.deepEqual(a("x {5+}"), { size: 5, nonSync: true, binary: false, length: 4 });
  assert.deepEqual(a("x ~{12}"), { size: 12, nonSync: false, binary: true, length: 5 });
  assert.deepEqual(a("x ~{0+}"), { size: 0, nonSync: true, binary: true, length: 5 });
  assert.equal(a("x {+}"), null);
  assert.equal(a("x 5}"), null);
  assert.equal(a("x {5"), null);
});

Deno.test("framer: a 5 MB literal in 64 KiB chunks is read in linear time", () => {
  const size = 5 * 1024 * 1024;
  const framer = new ImapFramer({ maxLineLength: 8192, maxLiteralSize: size });
  framer.push(enc.encode(`a APPEND INBOX {${size}+}\r\n`));
  const chunk = new Uint8Array(65536).fill(0x61);
  const started = performance.now();
  for (let sent = 0; sent < size; sent += chunk.length) {
    framer.push(chunk.slice());
    assert.equal(framer.next(), null);
  }
  framer.push(enc.encode("\r\n"));
  const event = framer.next();
  assert.equal(event?.type, "command");
  if (event?.type === "command") assert.equal(event.command.literals[0].length, size);
  assert.ok(performance.now() - started < 2000);
});
