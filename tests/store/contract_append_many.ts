/**
 * The store contract, appending several messages at once (`appendMessages`, the store side
 * of IMAP MULTIAPPEND, RFC 3502): consecutive UIDs in order, one event per message after
 * the commit, and all or none (see `contract.ts`).
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

/** Registers the multi-append part of the contract. */
export function appendManyContract(test: ContractTest): void {
  test("appendMessages: consecutive UIDs in order, options per message, events after", (store) => {
    store.append("u", "INBOX", sampleMessage("before"));
    const events = record(store, (event) => {
      if (event.type === "message.added") {
        // The listener runs after the whole command committed: every message is visible.
        assert.equal(store.listMessages("u", "INBOX").length, 4);
      }
    });
    const metas = store.appendMessages("u", "INBOX", [
      { raw: sampleMessage("one"), options: { flags: ["\\Seen"], internalDate: 1_000_000 } },
      { raw: sampleMessage("two") },
      { raw: sampleMessage("three"), options: { flags: ["$Label"] } },
    ]);
    assert.deepEqual(metas.map((m) => m.uid), [2, 3, 4]);
    assert.deepEqual(metas.map((m) => m.summary.subject), ["one", "two", "three"]);
    assert.deepEqual(metas.map((m) => m.flags), [["\\Seen"], [], ["$Label"]]);
    assert.equal(metas[0].internalDate, 1_000_000);
    assert.deepEqual(events.map((e) => e.type), [
      "message.added",
      "message.added",
      "message.added",
    ]);
    assert.equal(store.getMailbox("u", "INBOX")?.uidNext, 5);
    const modseqs = metas.map((m) => m.modseq);
    assert.ok(modseqs[0] < modseqs[1] && modseqs[1] < modseqs[2], "mod-sequences increase");
    assertCounts(store, "u");
  });

  test("appendMessages: an empty list changes nothing", (store) => {
    store.append("u", "INBOX", sampleMessage());
    const events = record(store);
    assert.deepEqual(store.appendMessages("u", "INBOX", []), []);
    assert.deepEqual(events, []);
    assert.equal(store.getMailbox("u", "INBOX")?.uidNext, 2);
  });

  test("appendMessages: a missing mailbox appends nothing", (store) => {
    store.append("u", "INBOX", sampleMessage());
    assertStoreError(
      () => store.appendMessages("u", "Nope", [{ raw: sampleMessage() }]),
      "no-such-mailbox",
    );
    assert.equal(store.listMessages("u", "INBOX").length, 1);
  });
}
