/**
 * The cap on users created on demand (issue 11 item 15), on both backends: past it every
 * way of creating a user fails with `user-limit` and changes nothing; configured users are
 * always created and not counted; a reset makes room; a SQLite store reopened with more
 * users than the cap keeps them.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MailStoreOptions } from "../../lib/store/mail_store.ts";
import {
  openMemoryStore,
  openSqliteStore,
  type Store,
  StoreError,
  type StoreEvent,
} from "../../lib/store/mod.ts";
import { sampleMessage } from "./contract_helpers.ts";

const isUserLimit = (error: unknown) =>
  error instanceof StoreError && error.kind === "user-limit" &&
  /^Cannot create user \S+: \d+ users? exists? and the limit is \d+/.test(error.message);

async function withTempDb(fn: (path: string) => Promise<void> | void): Promise<void> {
  const path = await Deno.makeTempFile({ prefix: "elektromail-users-", suffix: ".db" });
  try {
    await fn(path);
  } finally {
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) {
      await Deno.remove(file).catch(() => {});
    }
  }
}

const backends: Array<[string, (options: MailStoreOptions, run: (s: Store) => void) => unknown]> = [
  ["memory", (options, run) => {
    const store = openMemoryStore(options);
    try {
      run(store);
    } finally {
      store.close();
    }
  }],
  ["sqlite", (options, run) =>
    withTempDb((path) => {
      const store = openSqliteStore(path, options);
      try {
        run(store);
      } finally {
        store.close();
      }
    })],
];

for (const [backend, open] of backends) {
  Deno.test(`${backend} store: no user is created past maxUsers, by any operation`, async () => {
    await open({ maxUsers: 2, exemptUsers: ["Boss"] }, (store) => {
      const events: StoreEvent[] = [];
      store.subscribe((event) => events.push(event));
      assert.equal(store.ensureUser("amy"), true);
      store.append("bob", "INBOX", sampleMessage("for bob"));
      assert.throws(() => store.ensureUser("carol"), isUserLimit);
      assert.throws(() => store.append("carol", "INBOX", sampleMessage("x")), isUserLimit);
      assert.throws(() => store.createMailbox("carol", "Work"), isUserLimit);
      assert.throws(() => store.setSubscribed("carol", "Work", true), isUserLimit);
      assert.equal(events.filter((e) => e.type === "user.created").length, 2);
      const count = events.length;
      // Existing users (in any case) and configured users still work.
      assert.equal(store.ensureUser("AMY"), false);
      store.append("amy", "INBOX", sampleMessage("for amy"));
      assert.equal(store.ensureUser("boss"), true, "a configured user is always created");
      assert.deepEqual(store.listUsers(), ["amy", "bob", "boss"]);
      assert.equal(events.length, count + 1 + 6, "amy's message, then boss and 5 mailboxes");
      // A recipient list is checked as a whole, before anything is created.
      store.checkUserLimit(["amy", "BOB", "boss"]);
      assert.throws(() => store.checkUserLimit(["amy", "carol"]), isUserLimit);
      // A reset clears the users, so the count starts again.
      store.reset();
      assert.equal(store.ensureUser("carol"), true);
      assert.equal(store.ensureUser("dave"), true);
      assert.throws(() => store.ensureUser("erin"), isUserLimit);
    });
  });
}

Deno.test("store: checkUserLimit names how many users a list would add", () => {
  const store = openMemoryStore({ maxUsers: 3 });
  try {
    store.ensureUser("amy");
    store.checkUserLimit(["amy", "bob", "Bob", "carol"]);
    assert.throws(
      () => store.checkUserLimit(["bob", "carol", "dave"]),
      (error: unknown) =>
        error instanceof StoreError && error.kind === "user-limit" &&
        error.message.startsWith(
          "Cannot create 3 users (bob, …): 1 user exists and the limit is 3",
        ),
    );
  } finally {
    store.close();
  }
});

Deno.test("sqlite store: reopened with a lower cap, it keeps its users and creates no more", async () => {
  await withTempDb((path) => {
    const first = openSqliteStore(path);
    for (const user of ["a", "b", "c"]) first.ensureUser(user);
    first.close();
    const store = openSqliteStore(path, { maxUsers: 2 });
    try {
      assert.deepEqual(store.listUsers(), ["a", "b", "c"]);
      store.append("c", "INBOX", sampleMessage("still delivered"));
      assert.throws(() => store.ensureUser("d"), isUserLimit);
    } finally {
      store.close();
    }
  });
});

Deno.test("memory store: no cap unless one is given", () => {
  const store = openMemoryStore();
  try {
    for (let i = 0; i < 12_000; i++) store.ensureUser(`u${i}`);
    assert.equal(store.listUsers().length, 12_000);
  } finally {
    store.close();
  }
});
