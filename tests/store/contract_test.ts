/**
 * Runs the store contract against every backend: memory, and SQLite on a temporary file.
 *
 * @module
 */

import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import { storeContract } from "./contract.ts";

storeContract("memory", () => ({ store: openMemoryStore() }));

storeContract("sqlite", async () => {
  const path = await Deno.makeTempFile({ prefix: "elektromail-contract-", suffix: ".db" });
  return {
    store: openSqliteStore(path),
    dispose: async () => {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        await Deno.remove(file).catch(() => {});
      }
    },
  };
});
