/**
 * Runs the store contract against every backend: memory, and SQLite on a temporary file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import { sampleMessage, storeContract } from "./contract.ts";

storeContract("memory", () => ({ store: openMemoryStore() }));

storeContract("sqlite", async () => {
  const path = await Deno.makeTempFile({ prefix: "elektromail-contract-", suffix: ".db" });
  return {
    store: openSqliteStore(path),
    dispose: async () => {
      for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) {
        await Deno.remove(file).catch(() => {});
      }
    },
  };
});

Deno.test("memory store: one message delivered to several users is kept once", () => {
  const store = openMemoryStore();
  try {
    const raw = sampleMessage("Shared");
    for (const user of ["a", "b", "c"]) store.append(user, "INBOX", raw);
    const a = store.getRaw("a", "INBOX", 1);
    assert.notEqual(a, raw, "the store holds its own copy");
    assert.equal(store.getRaw("b", "INBOX", 1), a);
    assert.equal(store.getRaw("c", "INBOX", 1), a);
    // An equal but different array is a different message.
    store.append("d", "INBOX", sampleMessage("Shared"));
    assert.notEqual(store.getRaw("d", "INBOX", 1), a);
    assert.deepEqual(store.getRaw("d", "INBOX", 1), a);
  } finally {
    store.close();
  }
});
