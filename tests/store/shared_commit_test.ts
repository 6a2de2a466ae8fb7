/**
 * `Store.shareCommit`: SMTP deliveries made in one turn of the event loop share one SQLite
 * commit. Checked from outside the store: a second connection to the file sees nothing before
 * the commit and everything after it, the listeners hear of nothing before it, any other store
 * call commits first, a failing call is undone alone, and a failed commit undoes all of it and
 * tells every caller.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import type { PendingCommit, Store, StoreEvent } from "../../lib/store/types.ts";
import { sampleMessage } from "./contract.ts";
import { failingCommitStore } from "./failing_commit.ts";
import { committedMessages } from "./committed_messages.ts";
import { tempDb } from "./temp_db.ts";

/** The `message.added` events the store tells, by subject-free UID. */
function addedUids(store: Store): number[] {
  const uids: number[] = [];
  store.subscribe((event: StoreEvent) => {
    if (event.type === "message.added") uids.push(event.message.uid);
  });
  return uids;
}

function committed(commit: PendingCommit): Promise<unknown> {
  return new Promise((resolve) => commit.whenCommitted(resolve));
}

Deno.test("shared commit: calls of one turn share a commit nobody sees before it is made", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.ensureUser("alice");
  const added = addedUids(store);
  const first = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One")));
  const second = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Two")));
  assert.ok(first && second);
  assert.equal(first, second, "one commit for both");
  assert.equal(committedMessages(db.path), 0);
  assert.deepEqual(added, []);
  let told = false;
  second.whenCommitted(() => told = true);
  assert.equal(told, false, "never told before the call returns");
  assert.equal(await committed(first), null);
  assert.equal(told, true);
  assert.equal(committedMessages(db.path), 2);
  assert.deepEqual(added, [1, 2]);
  // Told at once (in a microtask) once the commit is made.
  assert.equal(await committed(first), null);
  store.close();
  const reopened = openSqliteStore(db.path);
  assert.deepEqual(reopened.listMessages("alice", "INBOX").map((m) => m.uid), [1, 2]);
  reopened.close();
});

Deno.test("shared commit: any other store call commits it first", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.ensureUser("alice");
  const added = addedUids(store);
  const commit = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One")));
  assert.ok(commit);
  assert.equal(committedMessages(db.path), 0);
  // A reader's call: the message it may see is committed, and told, before it returns.
  assert.deepEqual(store.listMessages("alice", "INBOX").map((m) => m.uid), [1]);
  assert.equal(committedMessages(db.path), 1);
  assert.deepEqual(added, [1]);
  assert.equal(await committed(commit), null);
  // A later call opens a new one.
  const next = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Two")));
  assert.ok(next && next !== commit);
  store.close();
  assert.equal(committedMessages(db.path), 2, "close commits what is open");
  assert.equal(await committed(next), null);
  assert.deepEqual(added, [1, 2]);
});

Deno.test("shared commit: a failing call is undone alone, the others commit", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.ensureUser("alice");
  const added = addedUids(store);
  const commit = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Kept")));
  assert.throws(
    () => store.shareCommit(() => store.append("alice", "Nowhere", sampleMessage("Lost"))),
    { name: "StoreError" },
  );
  // A call that wrote, then failed: its writes go with it.
  assert.throws(
    () =>
      store.shareCommit(() => {
        store.createMailbox("alice", "Made");
        store.append("alice", "Made", sampleMessage("Undone"));
        throw new Error("planted failure");
      }),
    /planted failure/,
  );
  assert.ok(commit);
  assert.equal(await committed(commit), null);
  assert.deepEqual(added, [1]);
  assert.equal(committedMessages(db.path), 1);
  assert.equal(store.getMailbox("alice", "Made"), undefined);
  // UIDs given in the undone call are given again, as nobody saw them.
  store.append("alice", "INBOX", sampleMessage("Next"));
  assert.deepEqual(store.listMessages("alice", "INBOX").map((m) => m.uid), [1, 2]);
  store.close();
  const reopened = openSqliteStore(db.path);
  assert.deepEqual(reopened.listMailboxes("alice").map((m) => m.name).includes("Made"), false);
  assert.deepEqual(
    reopened.listMessages("alice", "INBOX").map((m) =>
      new TextDecoder().decode(
        reopened.getRaw("alice", "INBOX", m.uid),
      ).match(/Subject: (\w+)/)?.[1]
    ),
    ["Kept", "Next"],
  );
  reopened.close();
});

Deno.test("shared commit: a delivery refused before it wrote does not rebuild the store", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.append("alice", "INBOX", sampleMessage("Old"));
  // The index handed out is kept with the message; a rebuilt store would make another.
  const index = store.getIndex("alice", "INBOX", 1);
  assert.ok(index);
  for (let i = 0; i < 3; i++) {
    assert.throws(
      () =>
        store.shareCommit(() => {
          throw new Error("refused");
        }),
      /refused/,
    );
  }
  assert.equal(store.getIndex("alice", "INBOX", 1), index, "the store was rebuilt");
  store.close();
});

Deno.test("shared commit: a failed commit undoes all of it and tells every caller", async () => {
  const { store, commits } = failingCommitStore();
  const added = addedUids(store);
  const first = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One")));
  const second = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Two")));
  assert.ok(first && second);
  const errors = await Promise.all([committed(first), committed(second)]);
  assert.equal(commits(), 1);
  for (const error of errors) assert.match(String(error), /disk full/);
  assert.deepEqual(added, [], "nothing undone is told");
  // The store is what the backend has: nothing (the user came in the failed commit too).
  assert.deepEqual(store.listUsers(), []);
});

Deno.test("shared commit: the memory store has nothing to wait for", () => {
  const store = openMemoryStore();
  const added = addedUids(store);
  assert.equal(store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One"))), null);
  assert.deepEqual(added, [1]);
});

Deno.test("shared commit held: made at the release, not in its microtask; any other call still first", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.ensureUser("alice");
  const added = addedUids(store);
  const release = store.holdSharedCommit();
  const first = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One")));
  // Past the microtask (and a macrotask) that would have made it.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const second = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Two")));
  assert.ok(first && first === second, "the held commit is joined");
  assert.equal(committedMessages(db.path), 0);
  assert.deepEqual(added, []);
  release();
  assert.equal(committedMessages(db.path), 2, "the release makes it");
  assert.deepEqual(added, [1, 2]);
  assert.deepEqual(await Promise.all([committed(first), committed(second)]), [null, null]);
  release(); // a second release does nothing

  // Held again: another caller's store call commits it first, as always.
  const hold = store.holdSharedCommit();
  const third = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("Three")));
  assert.ok(third);
  assert.deepEqual(store.listMessages("alice", "INBOX").map((m) => m.uid), [1, 2, 3]);
  assert.equal(committedMessages(db.path), 3);
  hold();
  assert.equal(await committed(third), null);
  store.close();
});

Deno.test("shared commit held: two holders, made when the last lets go", async () => {
  await using db = await tempDb("shared");
  const store = openSqliteStore(db.path);
  store.ensureUser("alice");
  const one = store.holdSharedCommit();
  const two = store.holdSharedCommit();
  const commit = store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One")));
  assert.ok(commit);
  one();
  one();
  await Promise.resolve();
  assert.equal(committedMessages(db.path), 0, "still held by the other");
  two();
  assert.equal(committedMessages(db.path), 1);
  assert.equal(await committed(commit), null);
  store.close();
});

Deno.test("shared commit held: the memory store holds nothing", () => {
  const store = openMemoryStore();
  const release = store.holdSharedCommit();
  const added = addedUids(store);
  assert.equal(store.shareCommit(() => store.append("alice", "INBOX", sampleMessage("One"))), null);
  assert.deepEqual(added, [1]);
  release();
});
