import assert from "node:assert/strict";
import { concatBytes } from "../../lib/bytes.ts";
import { InFlightBudget } from "../../lib/net/in_flight.ts";
import { type SmtpFrame, SmtpFramer } from "../../lib/smtp/framer.ts";
import { splits } from "../harness/splits.ts";

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A frame in a comparable shape. */
type Seen = string;

function show(frame: SmtpFrame): Seen {
  switch (frame.type) {
    case "line":
      return `line ${JSON.stringify(frame.line)}`;
    case "line-too-long":
      return "line-too-long";
    case "data":
      assert.equal(frame.size, frame.parts.reduce((sum, part) => sum + part.length, 0));
      return `data ${JSON.stringify(latin1.decode(concatBytes(frame.parts, frame.size)))}`;
    case "data-too-big":
      return `data-too-big ${frame.size}${frame.endless ? " endless" : ""}`;
    case "data-no-room":
      return `data-no-room ${frame.size}`;
  }
}

/**
 * Feeds `chunks` like the session does: after a line "DATA", switches to data mode.
 */
function run(chunks: Uint8Array[], maxLine = 64, maxData = 1000): Seen[] {
  const framer = new SmtpFramer(maxLine, maxData);
  const seen: Seen[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let frame = framer.next(); frame; frame = framer.next()) {
      seen.push(show(frame));
      if (frame.type === "line" && frame.line === "DATA") framer.startData();
    }
  }
  return seen;
}

/** Asserts that every chunking of `text` gives `expected`. */
function check(text: string, expected: Seen[], maxLine = 64, maxData = 1000): void {
  const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  for (const chunks of splits(bytes)) {
    assert.deepEqual(
      run(chunks, maxLine, maxData),
      expected,
      `chunks ${JSON.stringify(chunks.map((c) => latin1.decode(c)))}`,
    );
  }
}

Deno.test("framer: command lines, CRLF and bare LF, at every split", () => {
  check("EHLO a\r\nNOOP\r\n\r\nQUIT\n", [
    'line "EHLO a"',
    'line "NOOP"',
    'line ""',
    'line "QUIT"',
  ]);
});

Deno.test("framer: an incomplete line yields nothing until its LF", () => {
  const framer = new SmtpFramer(64, 1000);
  framer.push(enc.encode("NOOP\r"));
  assert.equal(framer.next(), null);
  framer.push(enc.encode("\n"));
  assert.deepEqual(framer.next(), { type: "line", line: "NOOP" });
  assert.equal(framer.next(), null);
});

Deno.test("framer: UTF-8 lines decode as UTF-8, other bytes as Latin-1", () => {
  assert.deepEqual(run([enc.encode("MAIL FROM:<jörg@x>\r\n")]), ['line "MAIL FROM:<jörg@x>"']);
  assert.deepEqual(run([Uint8Array.of(0x41, 0xe9, 0x0d, 0x0a)]), ['line "Aé"']);
});

Deno.test("framer: DATA with dot-unstuffing and the end marker, at every split", () => {
  check("DATA\r\nA\r\n..B\r\n.\r\nNOOP\r\n", [
    'line "DATA"',
    'data "A\\r\\n.B\\r\\n"',
    'line "NOOP"',
  ]);
  check("DATA\r\n...\r\n..\r\n.x\r\n.\r\n", [
    'line "DATA"',
    'data "..\\r\\n.\\r\\nx\\r\\n"',
  ]);
});

Deno.test("framer: empty message and a message that is only the end marker", () => {
  check("DATA\r\n.\r\n", ['line "DATA"', 'data ""']);
  check("DATA\r\n\r\n.\r\n", ['line "DATA"', 'data "\\r\\n"']);
});

Deno.test("framer: bare LF, bare CR and lone dots never end or split a message", () => {
  // [sent between "A" and "MAIL", stored]: a dot is unstuffed only when it starts a line
  // that began after CRLF and is not followed by a bare LF (".\n" is kept as sent).
  const cases: Array<[string, string]> = [
    ["\n.\n", "\n.\n"],
    ["\n.\r\n", "\n.\r\n"],
    ["\r\n.\n", "\r\n.\n"],
    ["\r.\r", "\r.\r"],
    ["\r.\r\n", "\r.\r\n"],
    [".\r\r\n", ".\r\r\n"],
    ["\r\n.\r\r\n", "\r\n\r\r\n"],
  ];
  for (const [sneaky, kept] of cases) {
    check(`DATA\r\nA${sneaky}MAIL FROM:<x@y>\r\n.\r\nNOOP\r\n`, [
      'line "DATA"',
      `data ${JSON.stringify(`A${kept}MAIL FROM:<x@y>\r\n`)}`,
      'line "NOOP"',
    ]);
  }
});

Deno.test("framer: a dot followed by CR and something else is unstuffed, CR kept", () => {
  check("DATA\r\n.\rX\r\n.\r\n", ['line "DATA"', 'data "\\rX\\r\\n"']);
});

Deno.test("framer: bytes after the DATA line in the same chunk are message data", () => {
  assert.deepEqual(run([enc.encode("DATA\r\nNOOP\r\n.\r\nNOOP\r\n")]), [
    'line "DATA"',
    'data "NOOP\\r\\n"',
    'line "NOOP"',
  ]);
});

Deno.test("framer: oversize data is drained to the end marker, then lines resume", () => {
  const big = "x".repeat(30) + "\r\n";
  check(
    `DATA\r\n${big}${big}.\r\nNOOP\r\n`,
    [
      'line "DATA"',
      "data-too-big 64",
      'line "NOOP"',
    ],
    64,
    40,
  );
  // Exactly at the cap is fine.
  check(`DATA\r\n${big}.\r\n`, ['line "DATA"', `data ${JSON.stringify(big)}`], 64, 32);
  check(`DATA\r\n${big}.\r\n`, ['line "DATA"', "data-too-big 32"], 64, 31);
});

Deno.test("framer: data past twice the limit with no end is cut off, not drained for ever", () => {
  const line = "x".repeat(30) + "\r\n";
  // 40 octets allowed: drained up to 80, then the frame says the data has no end in sight.
  const seen = run(
    [enc.encode("DATA\r\n"), ...Array.from({ length: 5 }, () => enc.encode(line))],
    64,
    40,
  );
  assert.deepEqual(seen, ['line "DATA"', "data-too-big 96 endless"]);
  // Under twice the limit it is drained to its end, as before.
  assert.deepEqual(run([enc.encode(`DATA\r\n${line}${line}.\r\n`)], 64, 40), [
    'line "DATA"',
    "data-too-big 64",
  ]);
});

Deno.test("framer: a line over the limit is reported once and discarded", () => {
  const long = "NOOP " + "a".repeat(20);
  check(`${long}\r\nQUIT\r\n`, ["line-too-long", 'line "QUIT"'], 16);
  // The limit counts the CR: 16 octets with CR is fine, 17 is not.
  check(`${"b".repeat(15)}\r\n`, [`line "${"b".repeat(15)}"`], 16);
  check(`${"b".repeat(16)}\r\n`, ["line-too-long"], 16);
});

Deno.test("framer: message data has no line length limit", () => {
  const line = "y".repeat(200);
  assert.deepEqual(run([enc.encode(`DATA\r\n${line}\r\n.\r\n`)], 16), [
    'line "DATA"',
    `data "${line}\\r\\n"`,
  ]);
});

/**
 * The data scanner before it was made to skip to line ends: one byte at a time through the
 * states, the reference the fast scanner must match byte for byte. Returns the message and
 * where it ended (after the end marker), or null without one.
 */
function referenceData(bytes: Uint8Array): { body: string; end: number } | null {
  const [MID, CR_SEEN, START, DOT_SEEN, DOT_CR] = [0, 1, 2, 3, 4];
  let out = "";
  let state = START;
  for (let i = 0; i < bytes.length; i++) {
    const ch = String.fromCharCode(bytes[i]);
    if (state === MID) {
      out += ch;
      if (ch === "\r") state = CR_SEEN;
    } else if (state === CR_SEEN) {
      out += ch;
      state = ch === "\n" ? START : ch === "\r" ? CR_SEEN : MID;
    } else if (state === START) {
      if (ch === ".") state = DOT_SEEN;
      else {
        out += ch;
        state = ch === "\r" ? CR_SEEN : MID;
      }
    } else if (state === DOT_SEEN) {
      if (ch === "\r") state = DOT_CR;
      else {
        out += ch === "\n" ? ".\n" : ch;
        state = MID;
      }
    } else {
      if (ch === "\n") return { body: out, end: i + 1 };
      out += "\r" + ch;
      state = ch === "\r" ? CR_SEEN : MID;
    }
  }
  return null;
}

Deno.test("framer: message data matches the byte-at-a-time reference on random input and splits", () => {
  let seed = 12345;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = ["\r", "\n", ".", "a", "\r\n", "\r\n.", ".\r", "\n."];
  for (let round = 0; round < 3000; round++) {
    let text = "";
    const pieces = 1 + random(14);
    for (let i = 0; i < pieces; i++) text += alphabet[random(alphabet.length)];
    text += "\r\n.\r\nNOOP\r\n";
    const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    const reference = referenceData(bytes)!;
    const expected = [
      'line "DATA"',
      `data ${JSON.stringify(reference.body)}`,
      // What follows the end marker is command lines (the line framer cuts at LF).
      ...latin1.decode(bytes.subarray(reference.end)).split("\n").slice(0, -1)
        .map((line) => `line ${JSON.stringify(line.replace(/\r$/, ""))}`),
    ];
    // Three random cuts, and the data on its own.
    const cuts = [random(bytes.length + 1), random(bytes.length + 1), random(bytes.length + 1)]
      .sort((a, b) => a - b);
    const chunks = [
      enc.encode("DATA\r\n"),
      bytes.subarray(0, cuts[0]),
      bytes.subarray(cuts[0], cuts[1]),
      bytes.subarray(cuts[1], cuts[2]),
      bytes.subarray(cuts[2]),
    ];
    assert.deepEqual(run(chunks, 64, 1000), expected, JSON.stringify(text));
  }
});

Deno.test("framer: data the listener's budget has no room for is dropped and refused at its end", () => {
  const budget = new InFlightBudget(100);
  const start = (framer: SmtpFramer) => {
    framer.push(enc.encode("DATA\r\n"));
    assert.equal(show(framer.next()!), 'line "DATA"');
    framer.startData();
  };
  const line = (n: number) => "y".repeat(n - 2) + "\r\n";
  const a = new SmtpFramer(64, 1000, budget);
  const b = new SmtpFramer(64, 1000, budget);
  start(a);
  start(b);
  a.push(enc.encode(line(40) + line(40)));
  assert.equal(a.next(), null);
  assert.equal(budget.used, 80);
  // B's message does not fit beside A's unfinished one: dropped, refused at its end.
  b.push(enc.encode(line(40) + ".\r\n"));
  assert.equal(show(b.next()!), "data-no-room 40");
  assert.equal(budget.used, 80);
  // A's ends: handed out, its room given back; B's next message fits.
  a.push(enc.encode(".\r\n"));
  assert.equal(show(a.next()!).slice(0, 5), "data ");
  assert.equal(budget.used, 0);
  start(b);
  b.push(enc.encode(line(40) + ".\r\n"));
  assert.equal(show(b.next()!).slice(0, 5), "data ");
  // A connection that goes away mid-message gives its room back.
  start(a);
  a.push(enc.encode(line(60)));
  assert.equal(a.next(), null);
  assert.equal(budget.used, 60);
  a.dispose();
  assert.equal(budget.used, 0);
});
