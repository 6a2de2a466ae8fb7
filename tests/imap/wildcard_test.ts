/**
 * The LIST wildcard matcher: known answers, equality with the regular expression it replaced
 * on random patterns and names, and work that stays small on patterns that made the regular
 * expression backtrack for minutes.
 */

import assert from "node:assert/strict";
import { randomBelow } from "../harness/random.ts";
import { compilePattern } from "../../lib/imap/list.ts";
import { compileWildcard } from "../../lib/imap/wildcard.ts";

/** The matcher LIST used before: a backtracking regular expression. The oracle, on short input. */
function regexPattern(pattern: string): (name: string) => boolean {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const normalized = /^inbox/i.test(pattern) ? "INBOX" + pattern.slice(5) : pattern;
  let source = "";
  for (const ch of normalized) {
    if (ch === "*") source += ".*";
    else if (ch === "%") source += `[^${escape("/")}]*`;
    else source += escape(ch);
  }
  const regex = new RegExp(`^${source}$`, "su");
  const literal = /^[^*%]*/.exec(normalized)![0].slice(0, 5);
  return (name) => {
    if (regex.test(name)) return true;
    if (!name.startsWith("INBOX") || literal.toUpperCase() !== name.slice(0, literal.length)) {
      return false;
    }
    return regex.test(literal + name.slice(literal.length));
  };
}

Deno.test("wildcard: known answers", () => {
  const cases: [string, string, boolean][] = [
    ["", "", true],
    ["", "a", false],
    ["*", "", true],
    ["%", "", true],
    ["%", "a/b", false],
    ["*", "a/b", true],
    ["a%", "abc", true],
    ["a%c", "ab/c", false],
    ["a*c", "ab/c", true],
    ["a%/%", "ab/c", true],
    ["a%/%", "ab/c/d", false],
    ["a%*%d", "ab/c/d", true],
    ["*%", "a/b", true],
    ["%*", "a/b", true],
    ["%%", "a/b", false],
    ["*a*a*a*b", "a".repeat(1000), false],
    ["*a*a*a*b", "a".repeat(1000) + "b", true],
    ["%a%a%a%b", "a".repeat(1000) + "/b", false],
    ["a.c", "abc", false],
    ["😀%", "😀x", true],
    ["%\uDE00", "\uD83D\uDE00", false],
    ["*\uDE00", "x\uDE00", true],
  ];
  for (const [pattern, name, expected] of cases) {
    assert.equal(compileWildcard(pattern, "/")(name), expected, `${pattern} vs ${name}`);
  }
});

Deno.test("wildcard: the same answers as the regular expression it replaced (random)", () => {
  const rand = randomBelow(11);
  const patternChars = ["a", "b", "/", "*", "%", "*", "%", "I", "n", "😀", "\uDE00"];
  const nameChars = ["a", "b", "/", "a", "I", "N", "B", "O", "X", "n", "😀", "\uDE00"];
  const prefixes = ["", "", "INBOX", "inbox", "Inb", "INBOX/", "in%", "INB*"];
  const build = (chars: string[], max: number) => {
    let text = "";
    for (let i = rand(max); i > 0; i--) text += chars[rand(chars.length)];
    return text;
  };
  let matched = 0;
  for (let round = 0; round < 4000; round++) {
    const pattern = prefixes[rand(prefixes.length)] + build(patternChars, 9);
    const expected = regexPattern(pattern);
    const actual = compilePattern(pattern);
    for (let k = 0; k < 8; k++) {
      const name = (rand(3) === 0 ? "INBOX" : "") + build(nameChars, 12);
      const want = expected(name);
      if (want) matched++;
      assert.equal(actual(name), want, `pattern ${JSON.stringify(pattern)} name ${name}`);
    }
  }
  assert.ok(matched > 1000, `the random cases should match often enough (${matched})`);
});

Deno.test("wildcard: adversarial patterns on the longest names finish at once (hang guard)", () => {
  const name = "a".repeat(1000);
  // [pattern, matches name, matches name with its last "a" replaced by "/b"]
  const patterns: [string, boolean][] = [
    ["*a*a*a*b", true],
    ["%a%a%a%b", false],
    ["*a%a*a%a*a%a*b", true],
    ["%a".repeat(500) + "b", false],
    ["*a".repeat(499) + "*b", true],
    ["%".repeat(30_000) + "b", false],
    ["*%".repeat(30_000) + "a".repeat(998) + "/b", true],
    ["a%".repeat(30_000), false],
  ];
  const started = performance.now();
  for (const [pattern, slashed] of patterns) {
    const match = compilePattern(pattern);
    assert.equal(match(name), false, pattern.slice(0, 40));
    assert.equal(match(name.slice(0, 999) + "/b"), slashed, pattern.slice(0, 40));
  }
  // A hang guard, not a speed figure: the regular expression took minutes here.
  assert.ok(performance.now() - started < 10_000, "wildcard matching took seconds");
});
