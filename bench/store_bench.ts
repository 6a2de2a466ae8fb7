/**
 * Store micro-benchmarks: `deno bench --allow-all bench/store_bench.ts`.
 *
 * Append of 2 KB messages (memory and SQLite), setFlags over 5,000 messages, listMessages of
 * 5,000, and getMailbox on a 5,000-message mailbox (O(1) since the counters are kept
 * incrementally).
 *
 * @module
 */

import { openMemoryStore, openSqliteStore, type Store } from "../lib/store/mod.ts";

const MESSAGE = (() => {
  const head = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Bench\r\n\r\n";
  const line = "x".repeat(78) + "\r\n";
  return new TextEncoder().encode(head + line.repeat(Math.ceil((2048 - head.length) / 80)));
})();

const dir = Deno.makeTempDirSync({ prefix: "elektromail-bench-" });
let dbCount = 0;
const stores: Store[] = [];

function sqlite(): Store {
  const store = openSqliteStore(`${dir}/bench-${dbCount++}.db`);
  stores.push(store);
  return store;
}

function memory(): Store {
  const store = openMemoryStore();
  stores.push(store);
  return store;
}

function filled(store: Store, count: number): Store {
  for (let i = 0; i < count; i++) {
    store.append("u", "INBOX", MESSAGE, { flags: i % 3 === 0 ? ["\\Seen"] : [] });
  }
  return store;
}

const UIDS = Array.from({ length: 5000 }, (_, i) => i + 1);

const appendMemory = memory();
Deno.bench("append 2 KB message (memory)", { group: "append", baseline: true }, () => {
  appendMemory.append("u", "INBOX", MESSAGE);
});

const appendSqlite = sqlite();
Deno.bench("append 2 KB message (sqlite)", { group: "append" }, () => {
  appendSqlite.append("u", "INBOX", MESSAGE);
});

for (const [label, open] of [["memory", memory], ["sqlite", sqlite]] as const) {
  const store = filled(open(), 5000);
  let toggle = false;
  Deno.bench(`setFlags add/remove \\Flagged on 5,000 messages (${label})`, {
    group: "setFlags",
  }, () => {
    toggle = !toggle;
    store.setFlags("u", "INBOX", UIDS, toggle ? "add" : "remove", ["\\Flagged"]);
  });
  Deno.bench(`listMessages of 5,000 (${label})`, { group: "listMessages" }, () => {
    store.listMessages("u", "INBOX");
  });
  Deno.bench(`getMailbox on a 5,000-message mailbox (${label})`, { group: "getMailbox" }, () => {
    store.getMailbox("u", "INBOX");
  });
}

globalThis.addEventListener("unload", () => {
  for (const store of stores) store.close();
  Deno.removeSync(dir, { recursive: true });
});
