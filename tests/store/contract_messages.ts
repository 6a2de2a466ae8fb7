/**
 * The store contract, messages and the whole store: append, UIDs, flags, copy, move,
 * expunge, counters, reset, listeners and close (see `contract.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertCounts,
  assertStoreError,
  type ContractTest,
  record,
  sampleMessage,
} from "./contract_helpers.ts";

/** Registers the messages and whole-store part of the contract. */
export function messageContract(test: ContractTest): void {
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

  test("the save date (RFC 8514) is the store clock's when a message is appended or copied", (store) => {
    const before = Date.now();
    const old = Date.UTC(2020, 0, 1);
    const meta = store.append("u", "INBOX", sampleMessage(), { internalDate: old });
    const near = (ms: number) => ms >= before - 1000 && ms <= Date.now() + 1000;
    assert.equal(meta.internalDate, old);
    assert.ok(near(meta.saveDate), "appended now, whatever its INTERNALDATE");
    assert.ok(near(store.now()), "now() is the store clock");
    store.createMailbox("u", "Copies");
    store.copyMessages("u", "INBOX", [1], "Copies");
    const copy = store.getMessage("u", "Copies", 1)!;
    assert.equal(copy.internalDate, old);
    assert.ok(near(copy.saveDate) && copy.saveDate >= meta.saveDate, "a copy is saved anew");
    assert.equal(store.getMessage("u", "INBOX", 1)?.saveDate, meta.saveDate);
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
    // UID 1 under "tall" named another message: this one comes in as 7 (the UID rule).
    assert.deepEqual(store.listMessages("u", "tall").map((m) => m.uid), [7]);
    assert.equal(store.getMailbox("u", "tall")?.uidNext, 8);
    store.renameMailbox("u", "tall", "third");
    store.deleteMailbox("u", "third");
    store.createMailbox("u", "third");
    assert.equal(store.getMailbox("u", "third")?.uidNext, 8);

    // Rename onto a name that had higher UIDs before: the renamed mailbox skips past them.
    store.createMailbox("u", "high");
    for (let i = 0; i < 9; i++) store.append("u", "high", sampleMessage());
    store.deleteMailbox("u", "high");
    store.renameMailbox("u", "elsewhere", "high");
    const high = store.getMailbox("u", "high")!;
    assert.ok(high.uidNext >= 10, `uidNext ${high.uidNext} must pass the old high-water mark`);
    const uids = store.listMessages("u", "high").map((m) => m.uid);
    assert.ok(uids.every((uid) => uid >= 10), `UIDs ${uids} must pass the old high-water mark`);
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
      { uid: 1, flags: ["\\Seen", "Work"], modseq: 5 },
      { uid: 2, flags: ["\\Seen", "Work"], modseq: 5 },
    ]);
    assert.deepEqual(events, [
      { type: "flags.changed", user: "u", mailbox: "INBOX", changes },
    ]);
    // Only changed messages are reported; keywords compare case-insensitively.
    changes = store.setFlags("u", "INBOX", [1, 2, 3], "add", ["\\SEEN", "work"]);
    assert.deepEqual(changes, [{ uid: 3, flags: ["\\Seen", "work"], modseq: 6 }]);
    changes = store.setFlags("u", "INBOX", [1], "add", ["\\Seen"]);
    assert.deepEqual(changes, []);
    assert.equal(events.length, 2, "no event when nothing changed");
    changes = store.setFlags("u", "INBOX", [1, 2], "remove", ["WORK", "\\Flagged"]);
    assert.deepEqual(changes, [
      { uid: 1, flags: ["\\Seen"], modseq: 7 },
      { uid: 2, flags: ["\\Seen"], modseq: 7 },
    ]);
    changes = store.setFlags("u", "INBOX", [2, 3], "replace", [
      "\\Deleted",
      "\\answered",
      "$Forwarded",
      "\\Draft",
    ]);
    assert.deepEqual(changes, [
      { uid: 2, flags: ["\\Answered", "\\Deleted", "\\Draft", "$Forwarded"], modseq: 8 },
      { uid: 3, flags: ["\\Answered", "\\Deleted", "\\Draft", "$Forwarded"], modseq: 8 },
    ]);
    changes = store.setFlags("u", "INBOX", [1], "replace", []);
    assert.deepEqual(changes, [{ uid: 1, flags: [], modseq: 9 }]);
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
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2, 3], modseq: 6 },
    ]);
    assertCounts(store, "u");
    assert.deepEqual(store.moveMessages("u", "INBOX", [99], "dest").sourceUids, []);
    assert.equal(events.length, 3, "an empty move emits nothing");
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 5);
  });

  test("moveMessages into the same mailbox renumbers the messages, flags and bytes kept", (store) => {
    for (let i = 1; i <= 4; i++) {
      store.append("u", "INBOX", sampleMessage(`m${i}`), {
        flags: i === 2 ? ["\\Seen", "$Work"] : [],
        internalDate: 1_700_000_000_000 + i,
      });
    }
    const raw2 = store.getRaw("u", "INBOX", 2)!;
    let moving = true;
    const events = record(store, () => {
      // Each event sees the whole move done: it is one transaction.
      if (moving) {
        assert.deepEqual(store.listMessages("u", "INBOX").map((m) => m.uid), [1, 4, 5, 6]);
      }
    });
    const mapping = store.moveMessages("u", "inbox", [3, 2, 77], "INBOX");
    assert.deepEqual(mapping, { uidValidity: 1, sourceUids: [2, 3], destinationUids: [5, 6] });
    const after = store.listMessages("u", "INBOX");
    assert.deepEqual(after.map((m) => [m.uid, m.summary.subject, m.flags, m.internalDate]), [
      [1, "m1", [], 1_700_000_000_001],
      [4, "m4", [], 1_700_000_000_004],
      [5, "m2", ["\\Seen", "$Work"], 1_700_000_000_002],
      [6, "m3", [], 1_700_000_000_003],
    ]);
    assert.deepEqual(store.getRaw("u", "INBOX", 5), raw2);
    assert.equal(store.getRaw("u", "INBOX", 2), undefined);
    assert.deepEqual(events, [
      { type: "message.added", message: after[2] },
      { type: "message.added", message: after[3] },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2, 3], modseq: 7 },
    ]);
    assert.equal(store.getMailbox("u", "INBOX")?.uidNext, 7);
    assertCounts(store, "u");
    moving = false;
    // The new UIDs stay above everything given before, also for the next append.
    assert.equal(store.append("u", "INBOX", sampleMessage()).uid, 7);
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
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2, 3], modseq: 8 },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [5, 6], modseq: 9 },
      { type: "message.expunged", user: "u", mailbox: "INBOX", uids: [1, 4], modseq: 10 },
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
