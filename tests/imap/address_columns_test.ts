import assert from "node:assert/strict";
import { AddressColumns } from "../../lib/imap/address_columns.ts";
import { startIndexWarmer } from "../../lib/imap/warm.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";

const enc = new TextEncoder();

/** The UIDs of `uids` the filter lets through (null: no filter, all of them). */
function through(columns: AddressColumns, needle: string, uids: number[], mailbox = "INBOX") {
  const filter = columns.filter("alice", mailbox, needle);
  return filter === null ? null : uids.filter((uid) => filter(uid));
}

Deno.test("AddressColumns: a filter rules out only the messages whose text lacks the string", () => {
  const columns = new AddressColumns();
  columns.add("alice", "INBOX", 1, "ann <ann@a.org>");
  columns.add("alice", "INBOX", 2, "bob <bob@b.org>\nann@a.org");
  columns.add("Alice", "inbox", 4, "carl <carl@c.org>");
  // UID 3 and 9 are not in the column: always let through.
  assert.deepEqual(through(columns, "ann@a.org", [1, 2, 3, 4, 9]), [1, 2, 3, 9]);
  assert.deepEqual(through(columns, "carl", [1, 2, 3, 4]), [3, 4]);
  // Never across two messages' texts.
  assert.deepEqual(through(columns, "b.org>\nann", [1, 2, 4]), [2]);
  assert.deepEqual(through(columns, "a.orgbob", [1, 2, 4]), []);
  assert.equal(through(columns, "", [1]), null, "an empty string: no filter");
  assert.equal(through(columns, "ann", [1], "Other"), null, "no column: no filter");
});

Deno.test("AddressColumns: expunged messages are shed, the rest keep their texts", () => {
  const columns = new AddressColumns();
  for (let uid = 1; uid <= 6; uid++) columns.add("alice", "INBOX", uid, `user${uid}@x.org`);
  columns.expunged("alice", "INBOX", [1, 3]);
  columns.expunged("alice", "INBOX", [5]); // half of the column: shed now
  for (const uid of [2, 4, 6]) {
    assert.deepEqual(through(columns, `user${uid}@`, [2, 4, 6]), [uid]);
  }
  // Shed UIDs are no longer in the column: let through (a new message never takes them).
  assert.deepEqual(through(columns, "user2@", [1, 2, 3]), [1, 2, 3]);
});

Deno.test("startIndexWarmer: keeps the address columns in step with the store", () => {
  const store = openMemoryStore();
  const columns = new AddressColumns();
  const warmer = startIndexWarmer(store, { addressColumns: columns });
  try {
    store.ensureUser("alice");
    store.createMailbox("alice", "Box");
    const deliver = (mailbox: string, from: string) =>
      store.append("alice", mailbox, enc.encode(`From: ${from}\r\nSubject: s\r\n\r\nx\r\n`)).uid;
    const ann = deliver("INBOX", "=?utf-8?q?Ann_=C3=A9?= <ann@a.org>");
    const bob = deliver("INBOX", "Bob <bob (x)@ b.org>");
    const box = deliver("Box", "carl@c.org");
    // Decoded, lower-cased, and the parsed form of an address its text lacks.
    assert.deepEqual(through(columns, "ann é <ann@a.org>", [ann, bob]), [ann]);
    assert.deepEqual(through(columns, "bob <bob@b.org>", [ann, bob]), [bob]);
    assert.deepEqual(through(columns, "carl", [box], "Box"), [box]);
    assert.deepEqual(through(columns, "ann", [box], "Box"), []);
    store.expunge("alice", "INBOX", [ann], true);
    assert.deepEqual(through(columns, "bob@b.org", [bob]), [bob]);
    store.renameMailbox("alice", "Box", "Box2");
    assert.equal(through(columns, "zed", [bob]), null, "a rename forgets the user's columns");
    deliver("INBOX", "dan@d.org");
    store.deleteMailbox("alice", "Box2");
    assert.equal(through(columns, "zed", [bob]), null, "a deletion too");
    deliver("INBOX", "eve@e.org");
    store.reset();
    assert.equal(through(columns, "zed", [bob]), null, "and a reset");
  } finally {
    warmer.close();
    store.close();
  }
});
