/**
 * The store contract, the SMTP envelope of a message (issue 12 item 9): kept as given,
 * null without one, carried by copies and moves, and sent with the `message.added` event
 * (see `contract.ts`); and `Store.messageStates`, the record fields FETCH reads in bulk.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ContractTest, record, sampleMessage } from "./contract_helpers.ts";

/** Registers the envelope part of the contract. */
export function envelopeContract(test: ContractTest): void {
  test("append keeps the envelope it is given; none is null", (store) => {
    const events = record(store);
    const envelope = { from: "bounces+42@example.org", to: "Bob+Tag@example.com" };
    const meta = store.append("u", "INBOX", sampleMessage("One"), { envelope });
    assert.deepEqual(meta.envelope, envelope);
    assert.deepEqual(store.getMessage("u", "INBOX", 1)?.envelope, envelope);
    assert.deepEqual(store.listMessages("u", "INBOX")[0].envelope, envelope);
    const added = events.findLast((event) => event.type === "message.added");
    assert.ok(added?.type === "message.added");
    assert.deepEqual(added.message.envelope, envelope);
    // The null reverse-path is an envelope with an empty sender, not no envelope.
    const bounce = store.append("u", "INBOX", sampleMessage("Two"), {
      envelope: { from: "", to: "u@example.com" },
    });
    assert.deepEqual(bounce.envelope, { from: "", to: "u@example.com" });
    assert.equal(store.append("u", "INBOX", sampleMessage("Three")).envelope, null);
    assert.equal(
      store.append("u", "INBOX", sampleMessage("Four"), { envelope: null }).envelope,
      null,
    );
    // The SMTP client's HELO name is part of it when given.
    const greeted = { from: "a@example.org", to: "u@example.com", helo: "client.example" };
    const withHelo = store.append("u", "INBOX", sampleMessage("Five"), { envelope: greeted });
    assert.deepEqual(store.getMessage("u", "INBOX", withHelo.uid)?.envelope, greeted);
    // JSON of a snapshot carries it too.
    assert.deepEqual(JSON.parse(JSON.stringify(meta)).envelope, envelope);
    assert.equal(JSON.parse(JSON.stringify(store.getMessage("u", "INBOX", 3))).envelope, null);
  });

  test("copies and moves keep the envelope", (store) => {
    const envelope = { from: "a@example.org", to: "u@example.com" };
    store.append("u", "INBOX", sampleMessage("Kept"), { envelope });
    store.append("u", "INBOX", sampleMessage("None"));
    store.createMailbox("u", "Work");
    store.copyMessages("u", "INBOX", [1, 2], "Work");
    store.moveMessages("u", "Work", [1, 2], "Trash");
    assert.deepEqual(
      store.listMessages("u", "Trash").map((meta) => meta.envelope),
      [envelope, null],
    );
    store.renameMailbox("u", "INBOX", "Old");
    assert.deepEqual(store.listMessages("u", "Old")[0].envelope, envelope);
  });
}

/** Registers the contract of `Store.messageStates` (the records FETCH reads in bulk). */
export function messageStatesContract(test: ContractTest): void {
  test("messageStates: the record fields of many messages, in the UIDs' order", (store) => {
    store.createMailbox("u", "Other");
    store.append("u", "INBOX", sampleMessage(), { flags: ["\\Seen"], internalDate: 1_000 });
    store.append("u", "INBOX", sampleMessage("Second"), { internalDate: 2_000 });
    store.setFlags("u", "INBOX", [2], "add", ["$Label1"]);
    const states = store.messageStates("u", "inbox", [2, 7, 1]);
    assert.equal(states.length, 3);
    assert.equal(states[1], undefined, "a UID not in the mailbox");
    for (const [state, uid] of [[states[0], 2], [states[2], 1]] as const) {
      const meta = store.getMessage("u", "INBOX", uid)!;
      assert.deepEqual(
        [state?.uid, state?.flags, state?.modseq, state?.size, state?.internalDate],
        [meta.uid, meta.flags, meta.modseq, meta.size, meta.internalDate],
      );
    }
    assert.deepEqual(states[0]?.flags, ["$Label1"]);
    assert.deepEqual(store.messageStates("u", "Other", [1]), [undefined]);
    assert.deepEqual(store.messageStates("u", "Missing", [1, 2]), [undefined, undefined]);
  });

  test("messageStates: ascending UIDs read as the general read, over runs, gaps and expunges", (store) => {
    store.ensureUser("u");
    for (let i = 1; i <= 12; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    // UIDs 1..12 less 4, 5 and 9: runs of consecutive UIDs, and ranges with holes in them.
    store.expunge("u", "INBOX", [4, 5, 9], true);
    let windows = 0;
    for (let first = 0; first <= 14; first++) {
      for (let last = first; last <= 14; last++) {
        // Every strictly ascending list from first to last, and the consecutive one with a
        // UID left out (same ends, one fewer).
        const all = Array.from({ length: last - first + 1 }, (_, i) => first + i);
        for (const uids of [all, all.filter((uid) => uid !== first + 1 || last - first < 2)]) {
          const general = store.messageStates("u", "INBOX", uids).map((state) => state?.uid);
          const fast = store.messageStates("u", "INBOX", uids, true).map((state) => state?.uid);
          assert.deepEqual(fast, general, `${uids}`);
          assert.deepEqual(
            general,
            uids.map((uid) => [4, 5, 9].includes(uid) || uid < 1 || uid > 12 ? undefined : uid),
          );
          windows++;
        }
      }
    }
    assert.ok(windows > 200);
  });
}
