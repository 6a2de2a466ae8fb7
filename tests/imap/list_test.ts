import assert from "node:assert/strict";
import { compilePattern, listMailboxes, listSubscribed } from "../../lib/imap/list.ts";
import type { ListSource } from "../../lib/imap/list.ts";

const boxes: ListSource[] = [
  { name: "INBOX", specialUse: null },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Work", specialUse: null },
  { name: "Work/Projects", specialUse: null },
  { name: "Work/Projects/Alpha", specialUse: null },
  { name: "Archive/2024", specialUse: "\\Archive" }, // parent "Archive" does not exist
];
const show = (entries: ReturnType<typeof listMailboxes>) =>
  entries.map((e) =>
    `${e.name} (${e.attributes.join(" ")})${e.childInfo.length ? " CHILDINFO" : ""}`
  );

Deno.test("list: * and % (RFC 9051 6.3.9)", () => {
  const match = compilePattern("Work/%");
  assert.equal(match("Work/Projects"), true);
  assert.equal(match("Work/Projects/Alpha"), false);
  assert.equal(compilePattern("*")("Work/Projects/Alpha"), true);
  assert.equal(compilePattern("inbox")("INBOX"), true, "INBOX is case-insensitive");
  assert.equal(compilePattern("Inb*")("INBOX"), true);
  assert.equal(compilePattern("work")("Work"), false, "other names are case-sensitive");
  assert.equal(compilePattern("a.c")("abc"), false, "regex characters are literal");
});

Deno.test("list: % at top level shows a missing parent as \\NonExistent", () => {
  assert.deepEqual(show(listMailboxes(boxes, new Set(), { reference: "", patterns: ["%"] })), [
    "INBOX (\\HasNoChildren)",
    "Archive (\\NonExistent \\Noselect \\HasChildren)",
    "Sent (\\HasNoChildren \\Sent)",
    "Work (\\HasChildren)",
  ]);
});

Deno.test("list: reference is prepended; * descends", () => {
  assert.deepEqual(show(listMailboxes(boxes, new Set(), { reference: "Work/", patterns: ["*"] })), [
    "Work/Projects (\\HasChildren)",
    "Work/Projects/Alpha (\\HasNoChildren)",
  ]);
  // Joined as they are, as Dovecot does: "Work" and "*" are "Work*", Work itself included.
  assert.deepEqual(show(listMailboxes(boxes, new Set(), { reference: "Work", patterns: ["*"] })), [
    "Work (\\HasChildren)",
    "Work/Projects (\\HasChildren)",
    "Work/Projects/Alpha (\\HasNoChildren)",
  ]);
  // A pattern that starts with the delimiter stands alone.
  const absolute = { reference: "Work", patterns: ["/Projects"] };
  assert.deepEqual(show(listMailboxes(boxes, new Set(), absolute)), []);
});

Deno.test("list: SUBSCRIBED selection lists subscriptions, even of missing mailboxes", () => {
  const subs = new Set(["INBOX", "Gone", "Work/Projects/Alpha"]);
  assert.deepEqual(
    show(listMailboxes(boxes, subs, { reference: "", patterns: ["*"], selectSubscribed: true })),
    [
      "INBOX (\\HasNoChildren \\Subscribed)",
      "Gone (\\NonExistent \\Subscribed)",
      "Work/Projects/Alpha (\\HasNoChildren \\Subscribed)",
    ],
  );
});

Deno.test("list: RECURSIVEMATCH reports CHILDINFO for parents of subscribed children (RFC 5258 3.5)", () => {
  const subs = new Set(["Work/Projects/Alpha"]);
  assert.deepEqual(
    show(
      listMailboxes(boxes, subs, {
        reference: "",
        patterns: ["%"],
        selectSubscribed: true,
        recursiveMatch: true,
      }),
    ),
    ["Work (\\HasChildren) CHILDINFO"],
  );
});

Deno.test("list: RECURSIVEMATCH lists no parent for a child that is returned itself (RFC 5258 3.5)", () => {
  const subs = new Set(["Work/Projects/Alpha", "Work"]);
  const list = (patterns: string[]) =>
    show(listMailboxes(boxes, subs, {
      reference: "",
      patterns,
      selectSubscribed: true,
      recursiveMatch: true,
    }));
  assert.deepEqual(list(["Work/Projects", "Work/Projects/Alpha"]), [
    "Work/Projects/Alpha (\\HasNoChildren \\Subscribed)",
  ]);
  assert.deepEqual(list(["Work/%"]), ["Work/Projects (\\HasChildren) CHILDINFO"]);
  // A parent that meets the criteria itself keeps CHILDINFO either way (as Dovecot).
  assert.deepEqual(list(["Work", "Work/Projects/Alpha"]), [
    "Work (\\HasChildren \\Subscribed) CHILDINFO",
    "Work/Projects/Alpha (\\HasNoChildren \\Subscribed)",
  ]);
});

Deno.test("list: SPECIAL-USE selection (RFC 6154)", () => {
  assert.deepEqual(
    show(
      listMailboxes(boxes, new Set(), { reference: "", patterns: ["*"], selectSpecialUse: true }),
    ),
    ["Archive/2024 (\\HasNoChildren \\Archive)", "Sent (\\HasNoChildren \\Sent)"],
  );
});

Deno.test("lsub: unsubscribed parent that % stops at is \\Noselect (RFC 3501 6.3.9)", () => {
  const subs = new Set(["Work/Projects", "INBOX"]);
  assert.deepEqual(show(listSubscribed(subs, "", "%")), ["INBOX ()", "Work (\\Noselect)"]);
  assert.deepEqual(show(listSubscribed(subs, "", "*")), ["INBOX ()", "Work/Projects ()"]);
});
