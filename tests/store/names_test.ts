/**
 * Mailbox names (`lib/store/names.ts`): INBOX case-insensitive, `/` hierarchy, invalid names.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ancestorNames,
  canonicalMailboxName,
  isSameOrBelow,
  validateMailboxName,
} from "../../lib/store/names.ts";
import { StoreError } from "../../lib/store/types.ts";

Deno.test("names: INBOX and its children are spelled INBOX, other names are untouched", () => {
  const cases: Array<[string, string]> = [
    ["inbox", "INBOX"],
    ["InBoX", "INBOX"],
    ["INBOX", "INBOX"],
    ["inbox/Sub", "INBOX/Sub"],
    ["Inbox/a/b", "INBOX/a/b"],
    ["inboxes", "inboxes"],
    ["inbox.x", "inbox.x"],
    ["Sent", "Sent"],
    ["sent", "sent"],
    ["x/inbox", "x/inbox"],
  ];
  for (const [name, canonical] of cases) {
    assert.equal(canonicalMailboxName(name), canonical, name);
  }
});

Deno.test("names: validateMailboxName accepts UTF-8 and hierarchy, returns the canonical form", () => {
  assert.equal(validateMailboxName("inbox/Work"), "INBOX/Work");
  assert.equal(validateMailboxName("Ärger/日本語"), "Ärger/日本語");
  assert.equal(validateMailboxName("a b/c&d"), "a b/c&d");
  assert.equal(validateMailboxName("x".repeat(1000)).length, 1000);
});

Deno.test("names: validateMailboxName rejects empty levels, wildcards, controls, overlong", () => {
  const bad = [
    "",
    "/",
    "a/",
    "/a",
    "a//b",
    "*",
    "a*b",
    "%",
    "a/%",
    "a\x00",
    "a\r\nb",
    "\t",
    "a\x1fb",
    "a\x7f",
    "x".repeat(1001),
  ];
  for (const name of bad) {
    assert.throws(
      () => validateMailboxName(name),
      (error: unknown) => error instanceof StoreError && error.kind === "invalid-name",
      JSON.stringify(name),
    );
  }
});

Deno.test("names: ancestors and hierarchy membership", () => {
  assert.deepEqual(ancestorNames("a"), []);
  assert.deepEqual(ancestorNames("a/b/c"), ["a", "a/b"]);
  assert.equal(isSameOrBelow("a", "a"), true);
  assert.equal(isSameOrBelow("a/b", "a"), true);
  assert.equal(isSameOrBelow("a/b/c", "a"), true);
  assert.equal(isSameOrBelow("ab", "a"), false, "a sibling with a common prefix");
  assert.equal(isSameOrBelow("a", "a/b"), false);
});
