/**
 * The store contract, mod-sequences (RFC 7162 3.1.1, issue 14): deterministic MODSEQs and
 * HIGHESTMODSEQs raised by every kind of change, the index of messages changed since a
 * MODSEQ, and the expunged UIDs remembered per mailbox, also across names reused (see
 * `contract.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ContractTest, record, sampleMessage } from "./contract_helpers.ts";

/** Registers the mod-sequence part of the contract. */
export function modseqContract(test: ContractTest): void {
  test("MODSEQs: one per operation, from 1, raised by appends, flags, copies and expunges", (store) => {
    store.ensureUser("u");
    assert.equal(store.getMailbox("u", "INBOX")?.highestModseq, 1);
    const events = record(store);
    for (let i = 1; i <= 3; i++) {
      assert.equal(store.append("u", "INBOX", sampleMessage(`m${i}`)).modseq, i + 1);
    }
    assert.deepEqual(store.setFlags("u", "INBOX", [1, 3], "add", ["\\Seen"]).map((c) => c.modseq), [
      5,
      5,
    ]);
    assert.deepEqual(store.setFlags("u", "INBOX", [1], "add", ["\\Seen"]), [], "no change");
    assert.equal(store.getMailbox("u", "INBOX")?.highestModseq, 5, "a no-op takes none");
    store.copyMessages("u", "INBOX", [1, 2], "Trash");
    assert.deepEqual(store.listMessages("u", "Trash").map((m) => m.modseq), [2, 2]);
    assert.equal(store.getMailbox("u", "INBOX")?.highestModseq, 5, "a copy leaves the source");
    store.expunge("u", "INBOX", [2], true);
    assert.equal(store.getMailbox("u", "INBOX")?.highestModseq, 6);
    assert.deepEqual(store.listMessages("u", "INBOX").map((m) => [m.uid, m.modseq]), [
      [1, 5],
      [3, 5],
    ]);
    const expunged = events.find((event) => event.type === "message.expunged");
    assert.deepEqual(expunged, {
      type: "message.expunged",
      user: "u",
      mailbox: "INBOX",
      uids: [2],
      modseq: 6,
    });
  });

  test("setFlags and messageStates: UIDs out of order, repeated, missing or past a gap", (store) => {
    store.ensureUser("u");
    for (let i = 1; i <= 6; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    store.expunge("u", "INBOX", [2, 5], true);
    const events = record(store);
    const changes = store.setFlags("u", "INBOX", [4, 1, 99, 2, 3, 3, 6], "add", ["$Done"]);
    assert.deepEqual(changes.map((c) => c.uid), [4, 1, 3, 6], "each changed message once");
    assert.deepEqual(events.length, 1);
    const states = store.messageStates("u", "INBOX", [1, 2, 3, 6, 4, 7]);
    assert.deepEqual(states.map((state) => state?.uid), [1, undefined, 3, 6, 4, undefined]);
    assert.ok(states.every((state) => state === undefined || state.flags.includes("$Done")));
    assert.equal(store.getMailbox("u", "INBOX")?.unseen, 4);
    store.setFlags("u", "INBOX", [1, 3, 4], "add", ["\\Seen"]);
    assert.equal(store.getMailbox("u", "INBOX")?.unseen, 1, "counters settled per flag list");
    assert.deepEqual(store.changedSince("u", "INBOX", changes[0].modseq), [1, 3, 4]);
  });

  test("changedSince and vanishedSince answer from the modseq index", (store) => {
    for (let i = 1; i <= 20; i++) store.append("u", "INBOX", sampleMessage(`m${i}`));
    // INBOX: 1, then 2..21 for the appends.
    assert.deepEqual(store.changedSince("u", "INBOX", 21), []);
    assert.deepEqual(store.changedSince("u", "INBOX", 19), [19, 20]);
    // Many changes to a few messages: the index is compacted, the answer stays exact.
    for (let round = 0; round < 100; round++) {
      store.setFlags("u", "INBOX", [5, 7], round % 2 ? "remove" : "add", ["\\Flagged"]);
    }
    assert.deepEqual(store.changedSince("u", "INBOX", 21), [5, 7]);
    assert.deepEqual(store.changedSince("u", "INBOX", 0).length, 20);
    store.expunge("u", "INBOX", [5, 6, 9], true);
    const highest = store.getMailbox("u", "INBOX")!.highestModseq;
    assert.equal(highest, 122);
    assert.deepEqual(store.changedSince("u", "INBOX", 21), [7]);
    assert.deepEqual(store.vanishedSince("u", "INBOX", 121), [[5, 6], [9, 9]]);
    store.expunge("u", "INBOX", [7, 8], true);
    // 5..9 touch now: one range, with the later MODSEQ.
    assert.deepEqual(store.vanishedSince("u", "INBOX", 121), [[5, 9]]);
    assert.deepEqual(store.vanishedSince("u", "INBOX", 123), []);
  });

  test("a name reused (delete and create, rename onto it) keeps MODSEQs rising and reports the old UIDs as vanished", (store) => {
    store.createMailbox("u", "A");
    store.append("u", "A", sampleMessage("a1"));
    store.append("u", "A", sampleMessage("a2"));
    store.setFlags("u", "A", [1], "add", ["\\Seen"]);
    const before = store.getMailbox("u", "A")!.highestModseq;
    assert.equal(before, 4);
    store.deleteMailbox("u", "A");
    store.createMailbox("u", "A");
    const again = store.getMailbox("u", "A")!;
    assert.equal(again.highestModseq, 5, "above the old mailbox's");
    assert.deepEqual(store.vanishedSince("u", "A", before), [[1, 2]]);
    assert.deepEqual(store.vanishedSince("u", "A", 5), []);
    store.createMailbox("u", "B");
    store.append("u", "B", sampleMessage("b1"));
    store.renameMailbox("u", "A", "C");
    store.renameMailbox("u", "B", "A");
    const renamed = store.getMailbox("u", "A")!;
    assert.equal(renamed.highestModseq, 6);
    // The renamed message took UID 3 and the rename's MODSEQ; 1 and 2 (old A) and B's UID 1
    // are vanished under the name.
    assert.deepEqual(store.listMessages("u", "A").map((m) => [m.uid, m.modseq]), [[3, 6]]);
    assert.deepEqual(store.vanishedSince("u", "A", 5), [[1, 2]]);
  });
}
