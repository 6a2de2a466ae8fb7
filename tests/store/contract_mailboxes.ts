/**
 * The store contract, users and mailboxes: default mailboxes, user and mailbox names,
 * create, delete, rename, subscriptions (see `contract.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertCounts,
  assertStoreError,
  type ContractTest,
  names,
  record,
  sampleMessage,
} from "./contract_helpers.ts";

/** Registers the users and mailboxes part of the contract. */
export function mailboxContract(test: ContractTest): void {
  // ---- users ----

  test("ensureUser creates the default mailboxes with special-use and subscriptions", (store) => {
    assert.equal(store.ensureUser("alice"), true);
    assert.equal(store.ensureUser("alice"), false);
    const infos = store.listMailboxes("alice");
    assert.deepEqual(names(infos), ["INBOX", "Drafts", "Junk", "Sent", "Trash"]);
    const byName = Object.fromEntries(infos.map((info) => [info.name, info]));
    assert.equal(byName.INBOX.specialUse, null);
    assert.equal(byName.Drafts.specialUse, "\\Drafts");
    assert.equal(byName.Sent.specialUse, "\\Sent");
    assert.equal(byName.Junk.specialUse, "\\Junk");
    assert.equal(byName.Trash.specialUse, "\\Trash");
    for (const info of infos) {
      assert.equal(info.subscribed, true);
      assert.equal(info.uidValidity, 1);
      assert.equal(info.uidNext, 1);
      assert.equal(info.messages, 0);
      assert.equal(info.user, "alice");
    }
    assert.deepEqual(store.listSubscriptions("alice"), [
      "INBOX",
      "Drafts",
      "Junk",
      "Sent",
      "Trash",
    ]);
  });

  test("user names are canonical lower case; invalid names are rejected", (store) => {
    assert.equal(store.ensureUser("Alice"), true);
    assert.equal(store.ensureUser("ALICE"), false);
    assert.deepEqual(store.listUsers(), ["alice"]);
    assert.equal(store.hasUser("aLiCe"), true);
    assert.equal(store.hasUser("bob"), false);
    assert.equal(store.getMailbox("ALICE", "inbox")?.user, "alice");
    for (const bad of ["", "a b", "a:b", "tab\there", "nul\0", "del\x7f", "x".repeat(257)]) {
      assertStoreError(() => store.ensureUser(bad), "invalid-user");
    }
    assert.deepEqual(store.listUsers(), ["alice"]);
    store.ensureUser("bob");
    assert.deepEqual(store.listUsers(), ["alice", "bob"], "users in creation order");
  });

  test("unknown users: reads are empty, writes fail with no-such-user", (store) => {
    assert.deepEqual(store.listMailboxes("nobody"), []);
    assert.equal(store.getMailbox("nobody", "INBOX"), undefined);
    assert.deepEqual(store.listSubscriptions("nobody"), []);
    assertStoreError(() => store.listMessages("nobody", "INBOX"), "no-such-user");
    assertStoreError(() => store.deleteMailbox("nobody", "x"), "no-such-user");
    assertStoreError(() => store.setFlags("nobody", "INBOX", [1], "add", ["x"]), "no-such-user");
    assert.equal(store.hasUser("nobody"), false);
  });

  // ---- mailboxes ----

  test("selectView gives UIDs, keywords in use and the first unseen UID in one pass", (store) => {
    store.ensureUser("u");
    store.append("u", "INBOX", sampleMessage("a"), { flags: ["\\Seen", "$Work"] });
    store.append("u", "INBOX", sampleMessage("b"), { flags: ["$Later"] });
    store.append("u", "INBOX", sampleMessage("c"), { flags: ["\\Seen", "$work"] });
    store.expunge("u", "INBOX", [1], true);
    store.append("u", "INBOX", sampleMessage("d"));
    const view = store.selectView("u", "inbox");
    assert.deepEqual(view.uids, [2, 3, 4]);
    assert.deepEqual(view.keywords.sort(), ["$Later", "$work"]);
    assert.equal(view.firstUnseenUid, 2);
    assert.equal(view.info.messages, 3);
    store.setFlags("u", "INBOX", [2, 4], "add", ["\\Seen"]);
    assert.equal(store.selectView("u", "INBOX").firstUnseenUid, 0);
    assertStoreError(() => store.selectView("u", "Nope"), "no-such-mailbox");
  });

  test("getIndex parses a message once and keeps the index; none for a missing message", (store) => {
    store.ensureUser("u");
    store.append("u", "INBOX", sampleMessage("Indexed"));
    const index = store.getIndex("u", "INBOX", 1);
    assert.ok(index);
    assert.equal(index.size, store.getMessage("u", "INBOX", 1)!.size);
    assert.equal(index.root.contentType.type, "text");
    assert.equal(store.getIndex("u", "inbox", 1), index);
    const key = Symbol("test");
    let computed = 0;
    assert.equal(index.memo(key, () => ++computed), 1);
    assert.equal(store.getIndex("u", "INBOX", 1)!.memo(key, () => ++computed), 1);
    assert.equal(store.getIndex("u", "INBOX", 2), undefined);
    assert.equal(store.getIndex("u", "Nope", 1), undefined);
    store.expunge("u", "INBOX", [1], true);
    assert.equal(store.getIndex("u", "INBOX", 1), undefined);
  });

  test("getIndex with cachedOnly builds none: undefined until one is built, then that one", (store) => {
    store.ensureUser("u");
    // Two in one call: neither store indexes them as it appends them.
    store.appendMessages("u", "INBOX", [
      { raw: sampleMessage("One"), options: {} },
      { raw: sampleMessage("Two", "a\x00b"), options: {} },
    ]);
    assert.equal(store.getIndex("u", "INBOX", 1, true), undefined);
    assert.equal(store.getIndex("u", "INBOX", 1, true), undefined, "still none");
    const index = store.getIndex("u", "INBOX", 1)!;
    assert.equal(store.getIndex("u", "INBOX", 1, true), index);
    assert.equal(index.nul, false);
    assert.equal(store.getIndex("u", "INBOX", 2)!.nul, true);
    assert.equal(store.getIndex("u", "INBOX", 3, true), undefined);
  });

  test("a copy or a moved message has its original's index, if it had one: the same bytes", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "Copies");
    store.createMailbox("u", "Moved");
    store.appendMessages("u", "INBOX", [
      { raw: sampleMessage("Indexed"), options: {} },
      { raw: sampleMessage("Not yet"), options: {} },
      { raw: sampleMessage("Moving"), options: {} },
    ]);
    const first = store.getIndex("u", "INBOX", 1)!;
    const third = store.getIndex("u", "INBOX", 3)!;
    store.copyMessages("u", "INBOX", [1, 2], "Copies");
    assert.equal(store.getIndex("u", "Copies", 1, true), first);
    assert.equal(store.getIndex("u", "Copies", 2, true), undefined, "none to share");
    store.moveMessages("u", "INBOX", [3], "Moved");
    assert.equal(store.getIndex("u", "Moved", 1, true), third);
    assert.equal(store.getIndex("u", "Copies", 2)!.root.fields[2].value, "Not yet");
  });

  test("createMailbox creates missing parents and reports exists", (store) => {
    store.ensureUser("u");
    const events = record(store);
    const info = store.createMailbox("u", "a/b/c");
    assert.equal(info.name, "a/b/c");
    assert.equal(info.uidNext, 1);
    assert.equal(info.subscribed, false);
    assert.deepEqual(events, [
      { type: "mailbox.created", user: "u", mailbox: "a" },
      { type: "mailbox.created", user: "u", mailbox: "a/b" },
      { type: "mailbox.created", user: "u", mailbox: "a/b/c" },
    ]);
    assert.ok(store.getMailbox("u", "a"));
    assert.ok(store.getMailbox("u", "a/b"));
    assertStoreError(() => store.createMailbox("u", "a/b"), "mailbox-exists");
    assertStoreError(() => store.createMailbox("u", "Drafts"), "mailbox-exists");
    assertStoreError(() => store.createMailbox("u", "inbox"), "mailbox-exists");
    const archive = store.createMailbox("u", "Archive", { specialUse: "\\Archive" });
    assert.equal(archive.specialUse, "\\Archive");
    // A mailbox of another user is independent.
    store.createMailbox("v", "a/b");
    assert.ok(store.getMailbox("v", "a/b"));
    assert.equal(store.getMailbox("v", "a/b/c"), undefined);
    // Names are case-sensitive except INBOX.
    store.createMailbox("u", "A");
    assert.deepEqual(
      names(store.listMailboxes("u")),
      ["INBOX", "A", "Archive", "Drafts", "Junk", "Sent", "Trash", "a", "a/b", "a/b/c"],
    );
  });

  test("createMailbox rejects invalid names", (store) => {
    store.ensureUser("u");
    const before = names(store.listMailboxes("u"));
    for (
      const bad of ["", "/", "a/", "/a", "a//b", "a*", "%", "a/%/b", "x\x00", "x\ty", "x\x7f", "\r"]
    ) {
      assertStoreError(() => store.createMailbox("u", bad), "invalid-name");
    }
    assertStoreError(() => store.createMailbox("u", "x".repeat(1001)), "invalid-name");
    assert.deepEqual(names(store.listMailboxes("u")), before);
    // Non-ASCII is fine (IMAP4rev2 names are UTF-8).
    assert.equal(store.createMailbox("u", "Ünïcode/日本").name, "Ünïcode/日本");
  });

  test("INBOX is case-insensitive everywhere, other names are not", (store) => {
    store.ensureUser("u");
    assert.equal(store.getMailbox("u", "inbox")?.name, "INBOX");
    assert.equal(store.getMailbox("u", "InBoX")?.name, "INBOX");
    assert.equal(store.getMailbox("u", "drafts"), undefined);
    const info = store.createMailbox("u", "inbox/Child");
    assert.equal(info.name, "INBOX/Child");
    assert.equal(store.getMailbox("u", "Inbox/Child")?.name, "INBOX/Child");
    assert.equal(store.getMailbox("u", "INBOX/child"), undefined);
    const meta = store.append("u", "iNbOx", sampleMessage());
    assert.equal(meta.mailbox, "INBOX");
    assert.equal(meta.id, "u:INBOX:1");
    assert.equal(store.listMessages("u", "inbox").length, 1);
    assert.ok(store.getRaw("u", "Inbox", 1));
    assert.ok(store.getMessage("u", "inbox", 1));
  });

  test("deleteMailbox removes the mailbox and its messages; INBOX cannot be deleted", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "work/old");
    store.append("u", "work", sampleMessage());
    const events = record(store, (event) => {
      if (event.type === "mailbox.deleted") assert.equal(store.getMailbox("u", "work"), undefined);
    });
    store.deleteMailbox("u", "work");
    assert.deepEqual(events, [{ type: "mailbox.deleted", user: "u", mailbox: "work" }]);
    assert.equal(store.getMailbox("u", "work"), undefined);
    assert.ok(store.getMailbox("u", "work/old"), "children stay");
    assertStoreError(() => store.deleteMailbox("u", "INBOX"), "cannot-delete-inbox");
    assertStoreError(() => store.deleteMailbox("u", "inbox"), "cannot-delete-inbox");
    assertStoreError(() => store.deleteMailbox("u", "work"), "no-such-mailbox");
    assertStoreError(() => store.listMessages("u", "work"), "no-such-mailbox");
    assert.equal(events.length, 1, "failed calls emit nothing");
  });

  test("renameMailbox renames children and keeps messages and UIDs", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "a/b/c");
    store.createMailbox("u", "ab");
    store.append("u", "a", sampleMessage("one"));
    store.append("u", "a/b", sampleMessage("two"));
    store.append("u", "a/b", sampleMessage("three"), { flags: ["\\Seen"] });
    const events = record(store, (event) => {
      if (event.type === "mailbox.renamed") assert.ok(store.getMailbox("u", event.newName));
    });
    store.renameMailbox("u", "a", "x/y");
    assert.deepEqual(
      names(store.listMailboxes("u")).filter((n) => !/^(INBOX|Drafts|Sent|Junk|Trash)$/.test(n)),
      ["ab", "x", "x/y", "x/y/b", "x/y/b/c"],
    );
    assert.deepEqual(events, [
      { type: "mailbox.created", user: "u", mailbox: "x" },
      { type: "mailbox.renamed", user: "u", mailbox: "a", newName: "x/y" },
      { type: "mailbox.renamed", user: "u", mailbox: "a/b", newName: "x/y/b" },
      { type: "mailbox.renamed", user: "u", mailbox: "a/b/c", newName: "x/y/b/c" },
    ]);
    const moved = store.listMessages("u", "x/y/b");
    assert.deepEqual(moved.map((m) => [m.uid, m.summary.subject, m.id]), [
      [1, "two", "u:x/y/b:1"],
      [2, "three", "u:x/y/b:2"],
    ]);
    assert.equal(store.getMailbox("u", "x/y/b")?.uidNext, 3);
    assert.equal(store.getMailbox("u", "x/y/b")?.unseen, 1);
    assertCounts(store, "u");
    assertStoreError(() => store.renameMailbox("u", "ab", "x"), "mailbox-exists");
    assertStoreError(() => store.renameMailbox("u", "nope", "z"), "no-such-mailbox");
    assertStoreError(() => store.renameMailbox("u", "ab", "ab/inner"), "invalid-name");
    assertStoreError(() => store.renameMailbox("u", "ab", "bad*"), "invalid-name");
    assertStoreError(() => store.renameMailbox("u", "ab", "inbox"), "mailbox-exists");
  });

  test("renameMailbox refuses when a child's new name is taken, and changes nothing", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "a/b");
    store.createMailbox("u", "x/b");
    store.append("u", "x/b", sampleMessage("keep me"));
    store.append("u", "a/b", sampleMessage("mine"));
    // The target itself is free (deleted), but its surviving child x/b is in the way.
    store.deleteMailbox("u", "x");
    const before = store.listMailboxes("u");
    const events = record(store);
    assertStoreError(() => store.renameMailbox("u", "a", "x"), "mailbox-exists");
    assert.deepEqual(store.listMailboxes("u"), before);
    assert.deepEqual(events, []);
    assert.deepEqual(store.listMessages("u", "x/b").map((m) => m.summary.subject), ["keep me"]);
    assert.deepEqual(store.listMessages("u", "a/b").map((m) => m.summary.subject), ["mine"]);
  });

  test("renameMailbox to an ancestor's free name: children shift up one level", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "x/a/a");
    store.append("u", "x/a", sampleMessage("outer"));
    store.append("u", "x/a/a", sampleMessage("inner"));
    store.deleteMailbox("u", "x");
    store.renameMailbox("u", "x/a", "x");
    assert.deepEqual(
      names(store.listMailboxes("u")).filter((n) => n.startsWith("x")),
      ["x", "x/a"],
    );
    assert.deepEqual(store.listMessages("u", "x").map((m) => m.summary.subject), ["outer"]);
    assert.deepEqual(store.listMessages("u", "x/a").map((m) => m.summary.subject), ["inner"]);
    // x/a's UID 1 was "outer": "inner" comes in above it (the UID rule).
    assert.deepEqual(store.listMessages("u", "x/a").map((m) => m.uid), [2]);
    assertCounts(store, "u");
  });

  test("renameMailbox onto a name used before renumbers above its UIDs (the UID rule)", (store) => {
    store.ensureUser("u");
    store.append("u", "INBOX", sampleMessage("unrelated"));
    for (const [mailbox, subjects] of [["A", ["a1"]], ["B", ["b1", "b2"]], ["A/sub", ["as"]]]) {
      if (!store.getMailbox("u", mailbox as string)) store.createMailbox("u", mailbox as string);
      for (const subject of subjects) store.append("u", mailbox as string, sampleMessage(subject));
    }
    store.createMailbox("u", "B/sub");
    store.append("u", "B/sub", sampleMessage("bs"), { flags: ["\\Seen"], internalDate: 7000 });
    store.renameMailbox("u", "A", "C");
    const events = record(store, (event) => {
      // The listeners see the whole rename done: it is one transaction.
      if (event.type === "message.added") {
        assert.equal(
          store.getMessage("u", event.message.mailbox, event.message.uid)?.id,
          event.message.id,
        );
      }
    });
    store.renameMailbox("u", "B", "A");
    const a = store.listMessages("u", "A");
    assert.deepEqual(a.map((m) => [m.uid, m.summary.subject, m.id]), [
      [3, "b1", "u:A:3"],
      [4, "b2", "u:A:4"],
    ]);
    assert.equal(store.getMessage("u", "A", 1), undefined, "UID 1 in A was a1: never again");
    assert.equal(store.getMailbox("u", "A")?.uidNext, 5);
    const sub = store.listMessages("u", "A/sub");
    assert.deepEqual(sub.map((m) => [m.uid, m.summary.subject, m.flags, m.internalDate]), [
      [2, "bs", ["\\Seen"], 7000],
    ]);
    assert.deepEqual(store.getRaw("u", "A/sub", 2), sampleMessage("bs"));
    assert.deepEqual(events, [
      { type: "mailbox.renamed", user: "u", mailbox: "B", newName: "A" },
      { type: "message.expunged", user: "u", mailbox: "A", uids: [1, 2], modseq: 4 },
      { type: "message.added", message: a[0] },
      { type: "message.added", message: a[1] },
      { type: "mailbox.renamed", user: "u", mailbox: "B/sub", newName: "A/sub" },
      { type: "message.expunged", user: "u", mailbox: "A/sub", uids: [1], modseq: 3 },
      { type: "message.added", message: sub[0] },
    ]);
    // C is a new name: its message keeps UID 1.
    assert.deepEqual(store.listMessages("u", "C").map((m) => [m.uid, m.summary.subject]), [
      [1, "a1"],
    ]);
    assertCounts(store, "u");
    assert.equal(store.append("u", "A", sampleMessage("next")).uid, 5);
    // Back onto B, whose UIDs went up to 2: A's UIDs (3 to 5) are all above, so they stay.
    events.length = 0;
    store.renameMailbox("u", "A", "B");
    assert.deepEqual(store.listMessages("u", "B").map((m) => m.uid), [3, 4, 5]);
    assert.deepEqual(events.map((event) => event.type), ["mailbox.renamed", "mailbox.renamed"]);
    assert.equal(store.getMailbox("u", "B")?.uidNext, 6);
    assertCounts(store, "u");
  });

  test("renaming INBOX moves its messages to a new mailbox and leaves INBOX empty", (store) => {
    store.ensureUser("u");
    store.createMailbox("u", "INBOX/kid");
    store.append("u", "INBOX", sampleMessage("one"), { flags: ["\\Flagged"], internalDate: 1000 });
    store.append("u", "INBOX", sampleMessage("two"), { flags: ["\\Seen"] });
    const raw = store.getRaw("u", "INBOX", 1)!;
    const events = record(store);
    store.renameMailbox("u", "inbox", "Old");
    const inbox = store.getMailbox("u", "INBOX")!;
    assert.equal(inbox.messages, 0);
    assert.equal(inbox.size, 0);
    assert.equal(inbox.unseen, 0);
    assert.equal(inbox.uidNext, 3, "INBOX never reuses its UIDs");
    assert.ok(store.getMailbox("u", "INBOX/kid"), "inferiors are not renamed");
    const old = store.listMessages("u", "Old");
    assert.deepEqual(old.map((m) => [m.uid, m.summary.subject, m.flags, m.mailbox]), [
      [1, "one", ["\\Flagged"], "Old"],
      [2, "two", ["\\Seen"], "Old"],
    ]);
    assert.equal(old[0].internalDate, 1000);
    assert.deepEqual(store.getRaw("u", "Old", 1), raw);
    assert.deepEqual(events, [
      { type: "mailbox.created", user: "u", mailbox: "Old" },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [1, 2], modseq: 4 },
      { type: "message.added", message: old[0] },
      { type: "message.added", message: old[1] },
    ]);
    assertCounts(store, "u");
    const next = store.append("u", "INBOX", sampleMessage("three"));
    assert.equal(next.uid, 3);
    // Onto a name used before: above its UIDs (Old had 1 and 2).
    store.deleteMailbox("u", "Old");
    store.renameMailbox("u", "INBOX", "Old");
    assert.deepEqual(store.listMessages("u", "Old").map((m) => [m.uid, m.summary.subject]), [
      [3, "three"],
    ]);
    assert.equal(store.append("u", "INBOX", sampleMessage("four")).uid, 4);
  });

  test("subscriptions, including names that do not exist", (store) => {
    store.ensureUser("u");
    const events = record(store);
    store.setSubscribed("u", "Ghost/Town", true);
    store.setSubscribed("u", "Ghost/Town", true);
    assert.deepEqual(events, [
      { type: "mailbox.subscribed", user: "u", mailbox: "Ghost/Town", subscribed: true },
    ]);
    assert.ok(store.listSubscriptions("u").includes("Ghost/Town"));
    assert.equal(store.getMailbox("u", "Ghost/Town"), undefined);
    store.setSubscribed("u", "Trash", false);
    assert.equal(store.getMailbox("u", "Trash")?.subscribed, false);
    assert.deepEqual(store.listSubscriptions("u"), [
      "INBOX",
      "Drafts",
      "Ghost/Town",
      "Junk",
      "Sent",
    ]);
    store.setSubscribed("u", "inbox", false);
    assert.equal(store.getMailbox("u", "INBOX")?.subscribed, false);
    store.createMailbox("u", "Ghost/Town");
    assert.equal(store.getMailbox("u", "Ghost/Town")?.subscribed, true);
    // Deleting a mailbox does not remove its subscription (RFC 9051 6.3.9).
    store.deleteMailbox("u", "Ghost/Town");
    assert.ok(store.listSubscriptions("u").includes("Ghost/Town"));
    assertStoreError(() => store.setSubscribed("u", "bad%", true), "invalid-name");
    // Subscribing creates the user, as a login would.
    store.setSubscribed("New", "x", true);
    assert.ok(store.hasUser("new"));
  });
}
