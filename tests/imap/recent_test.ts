import assert from "node:assert/strict";
import { RecentUids } from "../../lib/imap/recent.ts";
import { MailboxTracker } from "../../lib/imap/tracker.ts";

Deno.test("RecentUids: claims of UID intervals, less expunged UIDs", () => {
  const recent = new RecentUids();
  assert.equal(recent.has(1), false);
  recent.claim(3, 9, 4); // the session knew 4, 5, 7, 9 above 3
  assert.equal(recent.size, 4);
  assert.deepEqual([1, 3, 4, 5, 7, 9, 10].map((uid) => recent.has(uid)), [
    false,
    false,
    true,
    true,
    true,
    true,
    false,
  ]);
  assert.equal(recent.delete(5), true);
  assert.equal(recent.delete(5), false);
  assert.equal(recent.delete(2), false);
  assert.equal(recent.size, 3);
  assert.equal(recent.has(5), false);
  recent.claim(12, 14, 2); // a later EXISTS: 13, 14 (10..12 claimed by another session)
  assert.equal(recent.size, 5);
  assert.deepEqual([11, 12, 13, 14, 15].map((uid) => recent.has(uid)), [
    false,
    false,
    true,
    true,
    false,
  ]);
  assert.equal(recent.has(9), true);
  recent.claim(14, 14, 0); // nothing new
  assert.equal(recent.size, 5);
  assert.throws(() => recent.claim(8, 20, 3));
});

Deno.test("RecentUids.interval: the recent UIDs as bounds while they are one interval", () => {
  const recent = new RecentUids();
  assert.deepEqual(recent.interval(), [0, 0]);
  recent.claim(3, 9, 4);
  assert.deepEqual(recent.interval(), [3, 9]);
  recent.claim(12, 14, 2);
  assert.equal(recent.interval(), null, "two claims");
  const expunged = new RecentUids();
  expunged.claim(0, 5, 5);
  expunged.delete(2);
  assert.equal(expunged.interval(), null, "a recent UID expunged");
});

Deno.test("MailboxTracker.countAtMost: the UIDs at or below a UID", () => {
  const tracker = new MailboxTracker("u", "INBOX", [2, 4, 5, 9]);
  assert.deepEqual([0, 2, 3, 4, 5, 8, 9, 100].map((uid) => tracker.countAtMost(uid)), [
    0,
    1,
    1,
    2,
    3,
    3,
    4,
    4,
  ]);
  assert.equal(new MailboxTracker("u", "INBOX", []).countAtMost(5), 0);
});
