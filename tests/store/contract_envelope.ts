/**
 * The store contract, the SMTP envelope of a message (issue 12 item 9): kept as given,
 * null without one, carried by copies and moves, and sent with the `message.added` event
 * (see `contract.ts`).
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
