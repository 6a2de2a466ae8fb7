/**
 * Flag normalisation (`lib/store/flags.ts`): canonical system flags, case-insensitive
 * keywords, `\Recent` never stored, stable order.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  applyFlags,
  canonicalFlag,
  hasFlag,
  internFlags,
  sameFlags,
  sortFlags,
  SYSTEM_FLAGS,
} from "../../lib/store/flags.ts";

Deno.test("flags: system flags get their canonical spelling, keywords are kept as given", () => {
  for (const flag of SYSTEM_FLAGS) {
    assert.equal(canonicalFlag(flag.toUpperCase()), flag);
    assert.equal(canonicalFlag(flag.toLowerCase()), flag);
  }
  assert.equal(canonicalFlag("$Forwarded"), "$Forwarded");
  assert.equal(canonicalFlag("work"), "work");
  assert.equal(canonicalFlag("\\Recent"), "\\Recent", "not a stored flag, but not rewritten");
});

Deno.test("flags: hasFlag compares case-insensitively", () => {
  assert.equal(hasFlag(["\\Seen", "Work"], "\\SEEN"), true);
  assert.equal(hasFlag(["\\Seen", "Work"], "work"), true);
  assert.equal(hasFlag(["\\Seen"], "\\Deleted"), false);
  assert.equal(hasFlag([], "\\Seen"), false);
});

Deno.test("flags: applyFlags replace, add, remove", () => {
  const current = ["\\Seen", "Work"];
  assert.deepEqual(applyFlags(current, "replace", ["\\flagged", "$Label"]), [
    "\\Flagged",
    "$Label",
  ]);
  assert.deepEqual(applyFlags(current, "replace", []), []);
  assert.deepEqual(applyFlags(current, "add", ["\\draft", "WORK", "home"]), [
    "\\Draft",
    "\\Seen",
    "Work",
    "home",
  ]);
  assert.deepEqual(applyFlags(current, "remove", ["work", "\\SEEN", "absent"]), []);
  assert.deepEqual(current, ["\\Seen", "Work"], "the input is not modified");
});

Deno.test("flags: \\Recent and unknown backslash flags are never stored", () => {
  assert.deepEqual(applyFlags([], "add", ["\\Recent", "\\recent", "\\Bogus", "\\Seen"]), [
    "\\Seen",
  ]);
  assert.deepEqual(applyFlags(["\\Seen"], "replace", ["\\Recent"]), []);
  assert.deepEqual(applyFlags(["\\Seen"], "remove", ["\\Recent"]), ["\\Seen"]);
});

Deno.test("flags: duplicates collapse to the first spelling; the result is sorted", () => {
  assert.deepEqual(applyFlags([], "add", ["b", "A", "a", "\\seen", "\\Seen", "\\Answered"]), [
    "\\Answered",
    "\\Seen",
    "A",
    "b",
  ]);
  assert.deepEqual(sortFlags(["zeta", "\\Seen", "Alpha", "\\Deleted", "$x"]), [
    "\\Deleted",
    "\\Seen",
    "$x",
    "Alpha",
    "zeta",
  ]);
  assert.equal(sameFlags(["\\Seen", "a"], ["\\Seen", "a"]), true);
  assert.equal(sameFlags(["\\Seen", "a"], ["\\Seen", "A"]), false);
  assert.equal(sameFlags(["\\Seen"], ["\\Seen", "a"]), false);
  assert.equal(sameFlags([], []), true);
});

Deno.test("flags: internFlags shares one frozen array per distinct list", () => {
  const seen = internFlags(["\\Seen", "$work"]);
  assert.equal(internFlags(["\\Seen", "$work"]), seen);
  assert.equal(internFlags(seen), seen);
  assert.notEqual(internFlags(["\\Seen"]), seen);
  assert.deepEqual(seen, ["\\Seen", "$work"]);
  assert.ok(Object.isFrozen(seen));
  assert.throws(() => (seen as string[]).push("x"), TypeError);
  const source = ["\\Flagged"];
  const interned = internFlags(source);
  source.push("changed");
  assert.deepEqual(interned, ["\\Flagged"], "the interned list is a copy of the argument");
  // Lists that would share a key are kept apart.
  assert.deepEqual(internFlags(["a b"]), ["a b"]);
  assert.deepEqual(internFlags(["a", "b"]), ["a", "b"]);
  assert.deepEqual(internFlags(["x", "y"]), ["x", "y"]);
  assert.deepEqual(internFlags(["x\0y"]), ["x\0y"]);
});
