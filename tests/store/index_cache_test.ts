/**
 * Where the memory store keeps MIME indexes (lib/store/index_cache.ts): one per stored array
 * of bytes, shared by the copies of a message, and held by each record that uses it (so that
 * V8's full collection marks it with the record, not in its final pause as a WeakMap value).
 */

import assert from "node:assert/strict";
import { indexCacheFor } from "../../lib/store/index_cache.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import type { MessageRecord } from "../../lib/store/records.ts";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { sampleMessage } from "./contract_helpers.ts";

/** A record with only what the cache reads: its bytes and its index slot. */
function record(blob: Uint8Array): MessageRecord {
  return { blob, index: null } as unknown as MessageRecord;
}

Deno.test("index cache (memory): the record holds the index it is given", () => {
  const cache = indexCacheFor("memory");
  const bytes = sampleMessage();
  const original = record(bytes);
  const index = new MessageIndex(bytes);
  assert.equal(cache.set(original, index), index);
  assert.equal(original.index, index);
  assert.equal(cache.get(original), index);
});

Deno.test("index cache (memory): a copy made before the index shares it and then holds it", () => {
  const cache = indexCacheFor("memory");
  const bytes = sampleMessage();
  const original = record(bytes);
  const copy = record(bytes);
  const other = record(sampleMessage("Other"));
  const index = cache.set(original, new MessageIndex(bytes));
  assert.equal(copy.index, null);
  assert.equal(cache.get(copy), index);
  assert.equal(copy.index, index);
  assert.equal(cache.get(other), undefined);
  assert.equal(other.index, null);
});

Deno.test("memory store: copies share their original's index, made before it or after", () => {
  const store = openMemoryStore();
  try {
    store.ensureUser("u");
    store.createMailbox("u", "Early");
    store.createMailbox("u", "Late");
    store.append("u", "INBOX", sampleMessage("Shared"));
    // Copied before anything read the message, then after.
    store.copyMessages("u", "INBOX", [1], "Early");
    const index = store.getIndex("u", "INBOX", 1);
    assert.ok(index);
    store.copyMessages("u", "INBOX", [1], "Late");
    assert.equal(store.getIndex("u", "Early", 1), index);
    assert.equal(store.getIndex("u", "Late", 1), index);
    // The original gone, its copies keep the index.
    store.expunge("u", "INBOX", [1], true);
    assert.equal(store.getIndex("u", "Early", 1), index);
  } finally {
    store.close();
  }
});
