import assert from "node:assert/strict";
import { isNonAscii, parsePathArgument } from "../../lib/smtp/address.ts";
import { SmtpError } from "../../lib/smtp/reply.ts";
import { randomBelow } from "../harness/random.ts";

function parse(text: string, prefix: "FROM" | "TO" = "FROM") {
  const { address, params } = parsePathArgument(text, prefix);
  return { address, params: Object.fromEntries(params) };
}

function rejects(text: string, prefix: "FROM" | "TO", enhanced: string): void {
  assert.throws(
    () => parsePathArgument(text, prefix),
    (error) => error instanceof SmtpError && error.code === 501 && error.enhanced === enhanced,
    text,
  );
}

Deno.test("address: plain paths, case-insensitive prefix", () => {
  assert.deepEqual(parse("FROM:<a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("from:<a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("TO:<b@example.com>", "TO"), { address: "b@example.com", params: {} });
});

Deno.test("address: lenient forms real clients send", () => {
  assert.deepEqual(parse("FROM: <a@example.com>"), { address: "a@example.com", params: {} });
  assert.deepEqual(parse("FROM:a@example.com SIZE=5"), {
    address: "a@example.com",
    params: { SIZE: "5" },
  });
});

Deno.test("address: null reverse-path, postmaster, source route", () => {
  assert.deepEqual(parse("FROM:<>"), { address: "", params: {} });
  assert.deepEqual(parse("TO:<postmaster>", "TO"), { address: "postmaster", params: {} });
  assert.deepEqual(parse("TO:<@a.example,@b.example:c@d.example>", "TO"), {
    address: "c@d.example",
    params: {},
  });
});

Deno.test("address: quoted local parts, address literals, UTF-8", () => {
  assert.equal(parse('FROM:<"john doe"@example.com>').address, '"john doe"@example.com');
  assert.equal(parse('FROM:<"a>b"@example.com>').address, '"a>b"@example.com');
  assert.equal(parse("FROM:<a@[127.0.0.1]>").address, "a@[127.0.0.1]");
  assert.equal(parse("FROM:<jörg@exämple.com>").address, "jörg@exämple.com");
});

Deno.test("address: parameters, keywords upper-cased, values kept", () => {
  assert.deepEqual(parse("FROM:<a@b.c> size=100 body=8BITMIME SMTPUTF8"), {
    address: "a@b.c",
    params: { SIZE: "100", BODY: "8BITMIME", SMTPUTF8: null },
  });
});

Deno.test("address: syntax errors are 501 with the right enhanced code", () => {
  rejects("<a@b.c>", "FROM", "5.5.4");
  rejects("TO:<a@b.c>", "FROM", "5.5.4");
  rejects("FROM:<a@b.c", "FROM", "5.1.7");
  rejects("FROM:<a b@c.d>", "FROM", "5.1.7");
  rejects("FROM:<a@>", "FROM", "5.1.7");
  rejects("FROM:<@b.c>", "FROM", "5.1.7");
  rejects("TO:<a..b@c.d>", "TO", "5.1.3");
  rejects("TO:<a@b@c>", "TO", "5.1.3");
  rejects("FROM:<a@b.c>SIZE=1", "FROM", "5.5.4");
  rejects("FROM:<a@b.c> =1", "FROM", "5.5.4");
  rejects("FROM:<" + "a".repeat(600) + "@b.c>", "FROM", "5.1.7");
});

Deno.test("isNonAscii", () => {
  assert.equal(isNonAscii("plain@example.com"), false);
  assert.equal(isNonAscii("jörg@example.com"), true);
});

/**
 * The pattern-based parser the hand-written scans replaced, kept as the reference they
 * must agree with (same address, parameters, or error code and text).
 */
function referenceParse(text: string, prefix: "FROM" | "TO") {
  const fail = (enhanced: string, message: string) => new SmtpError(501, enhanced, message);
  const match = new RegExp(`^${prefix}:\\s*`, "i").exec(text);
  if (!match) {
    throw fail(
      "5.5.4",
      `Syntax: ${prefix === "FROM" ? "MAIL FROM:<address>" : "RCPT TO:<address>"}`,
    );
  }
  let rest = text.slice(match[0].length);
  let path: string;
  if (rest.startsWith("<")) {
    let close = -1;
    let quoted = false;
    for (let i = 1; i < rest.length; i++) {
      const ch = rest[i];
      if (ch === "\\" && quoted) i++;
      else if (ch === '"') quoted = !quoted;
      else if (ch === ">" && !quoted) {
        close = i;
        break;
      }
    }
    if (close < 0) throw fail("5.1.7", "Bad address syntax: missing >");
    path = rest.slice(1, close);
    rest = rest.slice(close + 1);
  } else {
    const space = rest.search(/\s/);
    path = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space);
  }
  if (path.startsWith("@")) {
    const colon = path.indexOf(":");
    if (colon < 0) throw fail("5.1.7", "Bad address syntax: broken source route");
    path = path.slice(colon + 1);
  }
  const isMailbox = (path: string) => {
    const at = path.lastIndexOf("@");
    if (at <= 0 || at === path.length - 1) return path.toLowerCase() === "postmaster";
    const local = path.slice(0, at);
    const domain = path.slice(at + 1);
    const localOk = /^"(?:[^"\\\r\n]|\\.)*"$/.test(local) ||
      /^[^\s()<>\[\]:;@\\,."]+(\.[^\s()<>\[\]:;@\\,."]+)*$/.test(local);
    const domainOk = /^\[[^\]\s]+\]$/.test(domain) || /^[^\s()<>\[\]:;@\\,"]+$/.test(domain);
    return localOk && domainOk && path.length <= 512;
  };
  if (path !== "" && !isMailbox(path)) {
    throw fail(prefix === "FROM" ? "5.1.7" : "5.1.3", `Bad address syntax: <${path}>`);
  }
  if (rest !== "" && !/^\s/.test(rest)) {
    throw fail("5.5.4", "Syntax: a space must separate parameters");
  }
  const params = new Map<string, string | null>();
  for (const word of rest.trim().split(/\s+/)) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const keyword = (eq < 0 ? word : word.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(keyword)) throw fail("5.5.4", `Bad parameter: ${word}`);
    params.set(keyword, eq < 0 ? null : word.slice(eq + 1));
  }
  return { address: path, params };
}

function outcome(parse: () => { address: string; params: ReadonlyMap<string, string | null> }) {
  try {
    const { address, params } = parse();
    return { address, params: [...params] };
  } catch (error) {
    assert.ok(error instanceof SmtpError, String(error));
    return { code: error.code, enhanced: error.enhanced, text: error.message };
  }
}

Deno.test("address: the scans agree with the pattern-based reference on generated input", () => {
  // Pieces that matter to the grammar, Unicode spaces and line breaks among them.
  const pieces = [
    "FROM:",
    "from:",
    "TO:",
    "to:",
    "fRoM:",
    "ſrom:",
    "<",
    ">",
    "@",
    ".",
    "..",
    '"',
    "\\",
    " ",
    "\t",
    "\r",
    "\n",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\ufeff",
    "\u200b",
    ",",
    ":",
    ";",
    "[",
    "]",
    "(",
    ")",
    "a",
    "b.c",
    "x@y.z",
    "postmaster",
    "PostMaster",
    "=",
    "SIZE=10",
    "body",
    "-",
    "ß",
    "jörg",
    "ex\u00e4mple",
    "1",
    "@a,@b:",
  ];
  const rand = randomBelow(5321);
  for (let n = 0; n < 30_000; n++) {
    let text = rand(3) === 0 ? "" : ["FROM:", "TO:"][rand(2)];
    const length = 1 + rand(9);
    for (let i = 0; i < length; i++) text += pieces[rand(pieces.length)];
    for (const prefix of ["FROM", "TO"] as const) {
      assert.deepEqual(
        outcome(() => parsePathArgument(text, prefix)),
        outcome(() => referenceParse(text, prefix)),
        JSON.stringify({ text, prefix }),
      );
    }
  }
  const long = `FROM:<${"a".repeat(500)}@${"b".repeat(11)}>`;
  for (const text of [long, long.replace("@", "@b"), `TO:<"a\\"@b>`, `TO:<"a\\\\"@b>`]) {
    for (const prefix of ["FROM", "TO"] as const) {
      assert.deepEqual(
        outcome(() => parsePathArgument(text, prefix)),
        outcome(() => referenceParse(text, prefix)),
        text,
      );
    }
  }
});
