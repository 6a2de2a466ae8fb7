/** SEARCH program parser: RETURN options, the prefix hook, and error texts. */

import assert from "node:assert/strict";
import {
  MAX_SEARCH_KEYS,
  readSearchProgram,
  type SearchProgram,
} from "../../lib/imap/parse_search.ts";
import { ParseError, Reader } from "../../lib/imap/parser.ts";

const enc = new TextEncoder();

function read(program: string, hook?: (prefix: Omit<SearchProgram, "key">) => void) {
  return readSearchProgram(new Reader({ line: enc.encode(program), literals: [] }), hook);
}

function fails(program: string, message: RegExp) {
  assert.throws(() => read(program), (error: unknown) => {
    assert.ok(error instanceof ParseError, `${program}: ${error}`);
    assert.match(error.message, message, program);
    return true;
  });
}

Deno.test("parse_search: RETURN options are MIN MAX ALL COUNT SAVE UPDATE PARTIAL, in any case and order", () => {
  assert.deepEqual(read("RETURN (save Min all) ALL").returnOptions, ["SAVE", "MIN", "ALL"]);
  assert.deepEqual(read("RETURN (COUNT MAX) ALL").returnOptions, ["COUNT", "MAX"]);
  // RFC 9394: the range in either order, answered normalized; RFC 5267 4: UPDATE.
  const partial = read("RETURN (partial 100:1 update) ALL");
  assert.deepEqual([partial.returnOptions, partial.partial], [["PARTIAL", "UPDATE"], {
    first: 1,
    last: 100,
  }]);
  assert.deepEqual(read("RETURN (PARTIAL -50:-1) ALL").partial, { first: -1, last: -50 });
  assert.deepEqual(read("RETURN (PARTIAL 4294967295:1) ALL").partial, {
    first: 1,
    last: 4294967295,
  });
  for (
    const range of ["0:5", "1:-5", "-1:5", "1:", ":1", "1", "-0:-1", "1:4294967296", "a:b", "01:2"]
  ) {
    fails(`RETURN (PARTIAL ${range}) ALL`, /^PARTIAL range broken/);
  }
  fails("RETURN (PARTIAL) ALL", /^Expected a space/);
  fails("RETURN (PARTIAL 1:2 ALL) ALL", /^PARTIAL conflicts with ALL/);
  fails("RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL", /^PARTIAL can be used only once/);
  fails("RETURN (UPDATE COUNT UPDATE) ALL", /^SEARCH return options have duplicate UPDATE/);
  fails("RETURN (RELEVANCY) ALL", /^Unknown SEARCH RETURN option: RELEVANCY \(supported: /);
  fails("RETURN (CONTEXT) ALL", /Unknown SEARCH RETURN option: CONTEXT/);
  fails("RETURN (MIN ) ALL", /^Expected a RETURN option but found/);
  fails("RETURN MIN ALL", /^Expected "\(" but found/);
  fails("RETURN (MIN)", /^Expected a space but found end of command/);
  fails("CHARSET UTF-8 RETURN (MIN) ALL", /^Unknown search key: RETURN/);
});

Deno.test("parse_search: the prefix hook sees RETURN and CHARSET before any key is read", () => {
  const seen: Array<Omit<SearchProgram, "key">> = [];
  assert.throws(() => read("RETURN (SAVE) CHARSET koi8-r BODY {bad", (p) => seen.push(p)));
  assert.deepEqual(seen, [{ charset: "KOI8-R", returnOptions: ["SAVE"], partial: null }]);
  // A hook that throws stops the parse there: strings in an unknown charset are not read.
  const refused = new Error("refused");
  assert.throws(
    () =>
      read("CHARSET X-UNKNOWN BODY \xff", () => {
        throw refused;
      }),
    (error) => error === refused,
  );
  const plain: Array<Omit<SearchProgram, "key">> = [];
  read("ALL", (p) => plain.push(p));
  assert.deepEqual(plain, [{ charset: null, returnOptions: null, partial: null }]);
});

Deno.test("parse_search: error texts name what was expected", () => {
  fails("()", /^Expected a search key but found "\)"/);
  fails('"SEEN"', /^Expected a search key but found "\\"SEEN\\""/);
  fails("SEEN  ALL", /^Expected a search key but found " ALL"/);
  fails("KEYWORD \\Seen", /^KEYWORD takes a keyword; search system flags with their own keys/);
  fails("UNKEYWORD \\Flagged", /^UNKEYWORD takes a keyword/);
  fails("FROBNICATE", /^Unknown search key: FROBNICATE/);
  fails("SINCE 30-Feb-2024", /^Invalid day of month: 30/);
  fails("UID 0", /^Invalid sequence set/);
  fails("LARGER 99999999999999999999", /^Number too large/);
  fails("(".repeat(70) + "ALL" + ")".repeat(70), /nested too deeply/);
});

Deno.test("parse_search: a program has at most MAX_SEARCH_KEYS keys", () => {
  assert.equal(read(Array(MAX_SEARCH_KEYS).fill("SEEN").join(" ")).key.type, "and");
  fails(
    Array(MAX_SEARCH_KEYS + 1).fill("SEEN").join(" "),
    new RegExp(`^Search program has too many keys \\(limit ${MAX_SEARCH_KEYS}\\)`),
  );
  // Parentheses, NOT and OR count too.
  fails(`(${Array(MAX_SEARCH_KEYS).fill("SEEN").join(" ")})`, /too many keys/);
  fails(`${"NOT ".repeat(60)}(${Array(MAX_SEARCH_KEYS - 60).fill("ALL").join(" ")})`, /too many/);
});
