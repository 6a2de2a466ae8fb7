/**
 * The store contract (STYLE.md practice 12): one suite that every backend passes. Each test
 * opens a fresh store from the factory and closes it at the end.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type MailboxInfo,
  type Store,
  StoreError,
  type StoreErrorKind,
  type StoreEvent,
} from "../../lib/store/mod.ts";

/** A fresh, empty store, and what to clean up after the suite has closed it. */
export interface OpenedStore {
  store: Store;
  dispose?: () => void | Promise<void>;
}

/** Opens a fresh, empty store; the suite closes it, then calls `dispose`. */
export type StoreFactory = () => OpenedStore | Promise<OpenedStore>;

const encoder = new TextEncoder();

/** A small RFC 5322 message whose bytes include CRLF, a bare LF and 8-bit octets. */
export function sampleMessage(subject = "Hello", body = "Body text"): Uint8Array {
  return encoder.encode(
    `From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${
        subject.replace(/\W/g, "")
      }@example.com>\r\n\r\n${body}\r\nbare\nlf \u00e9\r\n`,
  );
}

function assertStoreError(fn: () => unknown, kind: StoreErrorKind): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected StoreError, got ${error}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

/** The counters a mailbox should report, computed the slow way from its messages. */
function countedInfo(store: Store, user: string, mailbox: string) {
  const messages = store.listMessages(user, mailbox);
  return {
    messages: messages.length,
    unseen: messages.filter((m) => !m.flags.includes("\\Seen")).length,
    deleted: messages.filter((m) => m.flags.includes("\\Deleted")).length,
    size: messages.reduce((sum, m) => sum + m.size, 0),
  };
}

/** Asserts that every mailbox of `user` reports the counters its messages imply. */
function assertCounts(store: Store, user: string): void {
  for (const info of store.listMailboxes(user)) {
    const { messages, unseen, deleted, size } = info;
    assert.deepEqual(
      { messages, unseen, deleted, size },
      countedInfo(store, user, info.name),
      `counters of ${info.name}`,
    );
    assert.deepEqual(store.getMailbox(user, info.name), info);
  }
}

function names(infos: MailboxInfo[]): string[] {
  return infos.map((info) => info.name);
}

/** Failures inside listeners (the store logs and swallows them), checked after each test. */
const listenerFailures = new WeakMap<Store, unknown[]>();

/** Records every event, and runs `check` inside the listener (to see what is visible then). */
function record(store: Store, check?: (event: StoreEvent) => void): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.subscribe((event) => {
    try {
      check?.(event);
    } catch (error) {
      listenerFailures.get(store)?.push(error);
    }
    events.push(event);
  });
  return events;
}

/** Registers the store contract suite for `label` (e.g. "memory"). */
export function storeContract(label: string, factory: StoreFactory): void {
  const test = (name: string, fn: (store: Store) => void | Promise<void>) =>
    Deno.test(`store contract (${label}): ${name}`, async () => {
      const { store, dispose } = await factory();
      const failures: unknown[] = [];
      listenerFailures.set(store, failures);
      try {
        await fn(store);
        if (failures.length > 0) throw failures[0];
      } finally {
        store.close();
        await dispose?.();
      }
    });

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
    assert.deepEqual(events[0], { type: "mailbox.created", user: "u", mailbox: "Old" });
    assertCounts(store, "u");
    const next = store.append("u", "INBOX", sampleMessage("three"));
    assert.equal(next.uid, 3);
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

  // ---- messages ----

  test("append stores flags, internal date, summary; getRaw is byte-identical", (store) => {
    const raw = sampleMessage("Greetings");
    const events = record(store, (event) => {
      if (event.type === "message.added") {
        assert.ok(store.getMessage("u", "INBOX", event.message.uid), "visible in the listener");
        assert.equal(store.getMailbox("u", "INBOX")?.uidNext, event.message.uid + 1);
      }
    });
    const meta = store.append("u", "INBOX", raw, {
      flags: ["\\SEEN", "$Label1", "\\Recent", "\\flagged", "$label1", "\\Bogus"],
      internalDate: 1_700_000_000_000,
    });
    assert.ok(store.hasUser("u"), "append creates the user");
    assert.equal(meta.uid, 1);
    assert.equal(meta.id, "u:INBOX:1");
    assert.equal(meta.user, "u");
    assert.equal(meta.size, raw.length);
    assert.equal(meta.internalDate, 1_700_000_000_000);
    assert.deepEqual(meta.flags, ["\\Flagged", "\\Seen", "$Label1"]);
    assert.equal(meta.summary.subject, "Greetings");
    assert.equal(meta.summary.messageId, "<Greetings@example.com>");
    assert.deepEqual(store.getMessage("u", "INBOX", 1), meta);
    assert.deepEqual(store.listMessages("u", "INBOX"), [meta]);
    const stored = store.getRaw("u", "INBOX", 1)!;
    assert.deepEqual([...stored], [...raw]);
    assert.equal(store.getRaw("u", "INBOX", 2), undefined);
    assert.equal(store.getMessage("u", "INBOX", 2), undefined);
    assert.deepEqual(events.map((e) => e.type), [
      "user.created",
      "mailbox.created",
      "mailbox.created",
      "mailbox.created",
      "mailbox.created",
      "mailbox.created",
      "message.added",
    ]);
    assert.deepEqual(events.at(-1), { type: "message.added", message: meta });
    // Empty and binary messages round-trip too.
    const binary = new Uint8Array(256).map((_, i) => i);
    store.append("u", "INBOX", binary);
    assert.deepEqual(store.getRaw("u", "INBOX", 2), binary);
    store.append("u", "INBOX", new Uint8Array(0));
    assert.equal(store.getRaw("u", "INBOX", 3)?.length, 0);
    assertStoreError(() => store.append("u", "Nope", raw), "no-such-mailbox");
    assertCounts(store, "u");
  });

  test("stored bytes do not change when the caller reuses its buffer", (store) => {
    const buffer = new Uint8Array(64);
    const original = sampleMessage("Owned");
    buffer.set(original.subarray(0, 64));
    const view = buffer.subarray(0, 64);
    store.append("u", "INBOX", view);
    buffer.fill(0x58);
    assert.deepEqual(store.getRaw("u", "INBOX", 1), original.subarray(0, 64));
    store.createMailbox("u", "copy");
    store.copyMessages("u", "INBOX", [1], "copy");
    assert.deepEqual(store.getRaw("u", "copy", 1), original.subarray(0, 64));
    // The same array appended again (one delivery to several users) after a change in
    // between: each message has the bytes it was given.
    const reused = sampleMessage("First");
    store.append("a", "INBOX", reused);
    store.append("b", "INBOX", reused);
    reused[reused.length - 3] = 0x21;
    store.append("c", "INBOX", reused);
    assert.deepEqual(store.getRaw("a", "INBOX", 1), sampleMessage("First"));
    assert.deepEqual(store.getRaw("b", "INBOX", 1), sampleMessage("First"));
    assert.deepEqual(store.getRaw("c", "INBOX", 1), reused);
    assert.notDeepEqual(reused, sampleMessage("First"));
  });

  test("append uses the store clock when no internal date is given", (store) => {
    const before = Date.now();
    const meta = store.append("u", "INBOX", sampleMessage());
    assert.ok(meta.internalDate >= before - 1000 && meta.internalDate <= Date.now() + 1000);
  });

  test("UIDs strictly increase and are never reused after expunge", (store) => {
    for (let i = 0; i < 5; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    assert.deepEqual(store.listMessages("u", "INBOX").map((m) => m.uid), [1, 2, 3, 4, 5]);
    store.setFlags("u", "INBOX", [4, 5], "add", ["\\Deleted"]);
    assert.deepEqual(store.expunge("u", "INBOX"), [4, 5]);
    assert.equal(store.getMailbox("u", "INBOX")?.uidNext, 6);
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 6);
    store.expunge("u", "INBOX", undefined, true);
    assert.equal(store.getMailbox("u", "INBOX")?.messages, 0);
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 7);
  });

  test("UIDs are never reused after rename or delete-and-recreate of a name", (store) => {
    store.createMailbox("u", "box");
    store.append("u", "box", sampleMessage());
    store.append("u", "box", sampleMessage());
    store.deleteMailbox("u", "box");
    store.createMailbox("u", "box");
    assert.equal(store.getMailbox("u", "box")?.uidNext, 3);
    assert.equal(store.append("u", "box", sampleMessage()).uid, 3);

    // Rename away, recreate the old name: the new mailbox continues after the old UIDs.
    store.renameMailbox("u", "box", "elsewhere");
    assert.equal(store.getMailbox("u", "elsewhere")?.uidNext, 4);
    store.createMailbox("u", "box");
    assert.equal(store.append("u", "box", sampleMessage()).uid, 4);

    // The new name carries the UIDs: deleting and recreating it continues after them.
    store.createMailbox("u", "moved");
    for (let i = 0; i < 3; i++) store.append("u", "moved", sampleMessage());
    store.renameMailbox("u", "moved", "arrived");
    store.deleteMailbox("u", "arrived");
    store.createMailbox("u", "arrived");
    assert.equal(store.getMailbox("u", "arrived")?.uidNext, 4);
    assert.equal(store.append("u", "arrived", sampleMessage()).uid, 4);
    // Also when the renamed mailbox's UIDNEXT was raised by an earlier rename, with no
    // message ever given the raised UIDs.
    store.createMailbox("u", "tall");
    for (let i = 0; i < 6; i++) store.append("u", "tall", sampleMessage());
    store.deleteMailbox("u", "tall");
    store.createMailbox("u", "short");
    store.append("u", "short", sampleMessage());
    store.renameMailbox("u", "short", "tall");
    assert.equal(store.getMailbox("u", "tall")?.uidNext, 7);
    store.renameMailbox("u", "tall", "third");
    store.deleteMailbox("u", "third");
    store.createMailbox("u", "third");
    assert.equal(store.getMailbox("u", "third")?.uidNext, 7);

    // Rename onto a name that had higher UIDs before: the renamed mailbox skips past them.
    store.createMailbox("u", "high");
    for (let i = 0; i < 9; i++) store.append("u", "high", sampleMessage());
    store.deleteMailbox("u", "high");
    store.renameMailbox("u", "elsewhere", "high");
    const high = store.getMailbox("u", "high")!;
    assert.ok(high.uidNext >= 10, `uidNext ${high.uidNext} must pass the old high-water mark`);
    const uids = store.listMessages("u", "high").map((m) => m.uid);
    const next = store.append("u", "high", sampleMessage()).uid;
    assert.ok(next >= 10 && uids.every((uid) => uid < next));

    // Children renamed with their parent also keep their UIDs increasing.
    store.createMailbox("u", "p/kid");
    store.append("u", "p/kid", sampleMessage());
    store.deleteMailbox("u", "p/kid");
    store.deleteMailbox("u", "p");
    store.createMailbox("u", "q/kid");
    store.renameMailbox("u", "q", "p");
    assert.equal(store.append("u", "p/kid", sampleMessage()).uid, 2);
  });

  test("reset restores the initial state and UIDs restart at 1", (store) => {
    store.append("u", "INBOX", sampleMessage());
    store.append("u", "INBOX", sampleMessage());
    store.createMailbox("v", "x/y");
    store.setSubscribed("v", "ghost", true);
    const events = record(store, (event) => {
      if (event.type === "reset") assert.deepEqual(store.listUsers(), []);
    });
    store.reset();
    assert.deepEqual(events, [{ type: "reset" }]);
    assert.deepEqual(store.listUsers(), []);
    assert.equal(store.hasUser("u"), false);
    assert.deepEqual(store.listMailboxes("u"), []);
    assert.deepEqual(store.listSubscriptions("v"), []);
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 1);
    store.createMailbox("v", "x/y");
    assert.equal(store.append("v", "x/y", sampleMessage()).uid, 1);
    assert.equal(store.listMessages("u", "INBOX").length, 1);
    // Subscribers stay subscribed across a reset.
    store.append("u", "INBOX", sampleMessage());
    assert.equal(events.at(-1)?.type, "message.added");
  });

  test("setFlags replace/add/remove, case-insensitive, keywords, no \\Recent", (store) => {
    for (let i = 0; i < 3; i++) store.append("u", "INBOX", sampleMessage());
    const events = record(store, (event) => {
      if (event.type === "flags.changed") {
        for (const change of event.changes) {
          assert.deepEqual(store.getMessage("u", "INBOX", change.uid)?.flags, change.flags);
        }
      }
    });
    let changes = store.setFlags("u", "INBOX", [1, 2, 99], "add", ["\\seen", "Work", "\\Recent"]);
    assert.deepEqual(changes, [
      { uid: 1, flags: ["\\Seen", "Work"] },
      { uid: 2, flags: ["\\Seen", "Work"] },
    ]);
    assert.deepEqual(events, [
      { type: "flags.changed", user: "u", mailbox: "INBOX", changes },
    ]);
    // Only changed messages are reported; keywords compare case-insensitively.
    changes = store.setFlags("u", "INBOX", [1, 2, 3], "add", ["\\SEEN", "work"]);
    assert.deepEqual(changes, [{ uid: 3, flags: ["\\Seen", "work"] }]);
    changes = store.setFlags("u", "INBOX", [1], "add", ["\\Seen"]);
    assert.deepEqual(changes, []);
    assert.equal(events.length, 2, "no event when nothing changed");
    changes = store.setFlags("u", "INBOX", [1, 2], "remove", ["WORK", "\\Flagged"]);
    assert.deepEqual(changes, [{ uid: 1, flags: ["\\Seen"] }, { uid: 2, flags: ["\\Seen"] }]);
    changes = store.setFlags("u", "INBOX", [2, 3], "replace", [
      "\\Deleted",
      "\\answered",
      "$Forwarded",
      "\\Draft",
    ]);
    assert.deepEqual(changes, [
      { uid: 2, flags: ["\\Answered", "\\Deleted", "\\Draft", "$Forwarded"] },
      { uid: 3, flags: ["\\Answered", "\\Deleted", "\\Draft", "$Forwarded"] },
    ]);
    changes = store.setFlags("u", "INBOX", [1], "replace", []);
    assert.deepEqual(changes, [{ uid: 1, flags: [] }]);
    assert.deepEqual(store.setFlags("u", "INBOX", [1], "replace", ["\\Recent"]), []);
    for (const message of store.listMessages("u", "INBOX")) {
      assert.ok(!message.flags.some((flag) => flag.toLowerCase() === "\\recent"));
    }
    assertCounts(store, "u");
    assertStoreError(() => store.setFlags("u", "nope", [1], "add", ["x"]), "no-such-mailbox");
  });

  test("copyMessages keeps flags, internal date and bytes; returns the UID mapping", (store) => {
    store.createMailbox("u", "dest");
    store.append("u", "dest", sampleMessage("already"));
    for (let i = 1; i <= 4; i++) {
      store.append("u", "INBOX", sampleMessage(`m${i}`), {
        flags: i % 2 ? ["\\Seen", "kw"] : [],
        internalDate: i * 1000,
      });
    }
    const events = record(store, (event) => {
      if (event.type === "message.added") {
        assert.ok(store.getMessage("u", event.message.mailbox, event.message.uid));
      }
    });
    const mapping = store.copyMessages("u", "inbox", [4, 1, 3, 99, 1], "dest");
    assert.deepEqual(mapping, {
      uidValidity: 1,
      sourceUids: [1, 3, 4],
      destinationUids: [2, 3, 4],
    });
    const copies = store.listMessages("u", "dest").slice(1);
    for (const [i, source] of [1, 3, 4].entries()) {
      const original = store.getMessage("u", "INBOX", source)!;
      assert.equal(copies[i].internalDate, original.internalDate);
      assert.deepEqual(copies[i].flags, original.flags);
      assert.equal(copies[i].size, original.size);
      assert.deepEqual(copies[i].summary, original.summary);
      assert.deepEqual(
        store.getRaw("u", "dest", copies[i].uid),
        store.getRaw("u", "INBOX", source),
      );
    }
    assert.deepEqual(
      events,
      copies.map((message) => ({ type: "message.added", message })),
    );
    assert.equal(store.listMessages("u", "INBOX").length, 4, "source untouched");
    // Changing a copy's flags leaves the original alone.
    store.setFlags("u", "dest", [2], "replace", ["\\Deleted"]);
    assert.deepEqual(store.getMessage("u", "INBOX", 1)?.flags, ["\\Seen", "kw"]);
    assert.deepEqual(store.copyMessages("u", "INBOX", [42], "dest"), {
      uidValidity: 1,
      sourceUids: [],
      destinationUids: [],
    });
    // A copy into the same mailbox is allowed (IMAP COPY) and gets new UIDs.
    assert.deepEqual(store.copyMessages("u", "INBOX", [2], "INBOX").destinationUids, [5]);
    assertStoreError(() => store.copyMessages("u", "INBOX", [1], "nope"), "no-such-mailbox");
    assertCounts(store, "u");
  });

  test("moveMessages copies then expunges the source, with events", (store) => {
    store.createMailbox("u", "dest");
    for (let i = 1; i <= 4; i++) {
      store.append("u", "INBOX", sampleMessage(`m${i}`), { flags: i === 2 ? ["\\Seen"] : [] });
    }
    const raw2 = store.getRaw("u", "INBOX", 2)!;
    const events = record(store, (event) => {
      if (event.type === "message.expunged") {
        for (const uid of event.uids) assert.equal(store.getMessage("u", "INBOX", uid), undefined);
      }
    });
    const mapping = store.moveMessages("u", "INBOX", [2, 3, 77], "dest");
    assert.deepEqual(mapping, { uidValidity: 1, sourceUids: [2, 3], destinationUids: [1, 2] });
    assert.deepEqual(store.listMessages("u", "INBOX").map((m) => m.uid), [1, 4]);
    const moved = store.listMessages("u", "dest");
    assert.deepEqual(moved.map((m) => [m.uid, m.summary.subject, m.flags]), [
      [1, "m2", ["\\Seen"]],
      [2, "m3", []],
    ]);
    assert.deepEqual(store.getRaw("u", "dest", 1), raw2);
    assert.deepEqual(events, [
      { type: "message.added", message: moved[0] },
      { type: "message.added", message: moved[1] },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2, 3] },
    ]);
    assertCounts(store, "u");
    assertStoreError(() => store.moveMessages("u", "INBOX", [1], "inbox"), "invalid-name");
    assert.deepEqual(store.moveMessages("u", "INBOX", [99], "dest").sourceUids, []);
    assert.equal(events.length, 3, "an empty move emits nothing");
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 5);
  });

  test("expunge removes \\Deleted, restricted to uids, or forced", (store) => {
    for (let i = 1; i <= 6; i++) {
      store.append("u", "INBOX", sampleMessage(`m${i}`), {
        flags: i <= 4 ? ["\\Deleted"] : [],
      });
    }
    const events = record(store, (event) => {
      if (event.type === "message.expunged") {
        for (const uid of event.uids) assert.equal(store.getMessage("u", "INBOX", uid), undefined);
        assertCounts(store, "u");
      }
    });
    assert.deepEqual(store.expunge("u", "INBOX", [2, 3, 5]), [2, 3]);
    assert.deepEqual(store.expunge("u", "INBOX", [6]), [], "not \\Deleted");
    assert.deepEqual(store.expunge("u", "INBOX", [5, 6], true), [5, 6]);
    assert.deepEqual(store.expunge("u", "INBOX"), [1, 4]);
    assert.deepEqual(store.expunge("u", "INBOX"), []);
    assert.deepEqual(events, [
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2, 3] },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [5, 6] },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [1, 4] },
    ]);
    assert.equal(store.getMailbox("u", "INBOX")?.messages, 0);
    assert.equal(store.getRaw("u", "INBOX", 1), undefined);
    assertCounts(store, "u");
  });

  test("MailboxInfo counters stay right through every operation", (store) => {
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const raw = sampleMessage(`m${i}`, "x".repeat(i * 10));
      sizes.push(raw.length);
      store.append("u", "INBOX", raw, { flags: i < 3 ? ["\\Seen"] : i < 5 ? ["\\Deleted"] : [] });
    }
    let info = store.getMailbox("u", "INBOX")!;
    assert.equal(info.messages, 10);
    assert.equal(info.unseen, 7);
    assert.equal(info.deleted, 2);
    assert.equal(info.size, sizes.reduce((a, b) => a + b));
    assert.equal(info.uidNext, 11);
    assertCounts(store, "u");

    store.setFlags("u", "INBOX", [1, 4, 6], "add", ["\\Seen", "\\Deleted"]);
    assertCounts(store, "u");
    store.setFlags("u", "INBOX", [1, 2], "remove", ["\\SEEN"]);
    assertCounts(store, "u");
    store.setFlags("u", "INBOX", [7, 8, 9], "replace", ["\\Seen"]);
    assertCounts(store, "u");
    store.createMailbox("u", "other");
    store.copyMessages("u", "INBOX", [1, 2, 3, 4, 5], "other");
    assertCounts(store, "u");
    store.moveMessages("u", "INBOX", [6, 7], "other");
    assertCounts(store, "u");
    store.expunge("u", "INBOX");
    assertCounts(store, "u");
    store.expunge("u", "other", [1, 2], true);
    assertCounts(store, "u");
    store.renameMailbox("u", "other", "renamed");
    assertCounts(store, "u");
    store.renameMailbox("u", "INBOX", "from-inbox");
    assertCounts(store, "u");
    info = store.getMailbox("u", "INBOX")!;
    assert.deepEqual([info.messages, info.unseen, info.deleted, info.size], [0, 0, 0, 0]);
    store.append("u", "INBOX", sampleMessage());
    assertCounts(store, "u");
    assert.equal(store.getMailbox("u", "INBOX")?.unseen, 1);
    // A snapshot does not change later.
    const snapshot = store.getMailbox("u", "INBOX")!;
    store.append("u", "INBOX", sampleMessage());
    assert.equal(snapshot.messages, 1);
    assert.equal(store.getMailbox("u", "INBOX")?.messages, 2);
  });

  test("listMessages returns a snapshot in UID order", (store) => {
    for (let i = 0; i < 3; i++) store.append("u", "INBOX", sampleMessage());
    const list = store.listMessages("u", "INBOX");
    store.setFlags("u", "INBOX", [1], "add", ["\\Seen"]);
    store.expunge("u", "INBOX", [2], true);
    assert.deepEqual(list.map((m) => m.uid), [1, 2, 3]);
    assert.deepEqual(list[0].flags, []);
  });

  test("a failing listener does not break the store or other listeners", (store) => {
    const seen: string[] = [];
    const originalError = console.error;
    console.error = () => {};
    try {
      store.subscribe(() => {
        throw new Error("listener bug");
      });
      const stop = store.subscribe((event) => seen.push(event.type));
      store.append("u", "INBOX", sampleMessage());
      stop();
      store.append("u", "INBOX", sampleMessage());
    } finally {
      console.error = originalError;
    }
    assert.equal(seen.at(-1), "message.added");
    assert.equal(seen.filter((type) => type === "message.added").length, 1, "unsubscribed");
    assert.equal(store.listMessages("u", "INBOX").length, 2);
  });

  test("a closed store refuses calls", async (store) => {
    store.append("u", "INBOX", sampleMessage());
    store.close();
    assertStoreError(() => store.listUsers(), "closed");
    assertStoreError(() => store.append("u", "INBOX", sampleMessage()), "closed");
    assertStoreError(() => store.getMailbox("u", "INBOX"), "closed");
    await Promise.resolve();
  });
}
