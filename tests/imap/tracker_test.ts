import assert from "node:assert/strict";
import { MailboxTracker } from "../../lib/imap/tracker.ts";
import type { MessageMeta, StoreEvent } from "../../lib/store/mod.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";

const added = (
  uid: number,
  mailbox = "INBOX",
  user = "alice",
  flags: readonly string[] = [],
): StoreEvent => ({ type: "message.added", message: { uid, mailbox, user, flags } as MessageMeta });
const expunged = (...uids: number[]): StoreEvent => ({
  type: "message.expunged",
  user: "alice",
  mailbox: "INBOX",
  uids,
  modseq: 1,
});
const flagged = (uid: number, ...flags: string[]): StoreEvent => ({
  type: "flags.changed",
  user: "alice",
  mailbox: "INBOX",
  changes: [{ uid, flags, modseq: 1 }],
});

interface Case {
  name: string;
  start: number[];
  events: StoreEvent[];
  allowExpunge: boolean;
  updates: string[];
  after: number[];
}

const render = (tracker: MailboxTracker, allow: boolean) =>
  tracker.flush(allow).map((u) =>
    u.type === "exists"
      ? `* ${u.count} EXISTS`
      : u.type === "expunge"
      ? `* ${u.seq} EXPUNGE`
      : `* ${u.seq} FETCH ${u.flags.join(" ")}`
  );

const cases: Case[] = [
  {
    name: "nothing pending",
    start: [1, 2, 3],
    events: [],
    allowExpunge: true,
    updates: [],
    after: [1, 2, 3],
  },
  {
    name: "expunges renumber as they go",
    start: [1, 2, 3, 4, 5],
    events: [expunged(2, 3, 5)],
    allowExpunge: true,
    updates: ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE"],
    after: [1, 4],
  },
  {
    name: "expunges wait while not allowed; numbers stay",
    start: [1, 2, 3],
    events: [expunged(2)],
    allowExpunge: false,
    updates: [],
    after: [1, 2, 3],
  },
  {
    name: "new messages are announced with EXISTS",
    start: [1, 2],
    events: [added(3), added(4)],
    allowExpunge: false,
    updates: ["* 4 EXISTS"],
    after: [1, 2, 3, 4],
  },
  {
    name: "expunge then arrival: EXPUNGE first, then EXISTS",
    start: [1, 2, 3],
    events: [expunged(1), added(4)],
    allowExpunge: true,
    updates: ["* 1 EXPUNGE", "* 3 EXISTS"],
    after: [2, 3, 4],
  },
  {
    name: "arrival while expunge is held: EXISTS counts the held message",
    start: [1, 2, 3],
    events: [expunged(1), added(4)],
    allowExpunge: false,
    updates: ["* 4 EXISTS"],
    after: [1, 2, 3, 4],
  },
  {
    name: "a message added and expunged before the flush is never announced",
    start: [1],
    events: [added(2), expunged(2)],
    allowExpunge: true,
    updates: [],
    after: [1],
  },
  {
    name: "flag changes are reported with current numbers, after expunges",
    start: [10, 20, 30],
    events: [flagged(30, "\\Seen"), expunged(10)],
    allowExpunge: true,
    updates: ["* 1 EXPUNGE", "* 2 FETCH \\Seen"],
    after: [20, 30],
  },
  {
    name: "flags of an expunged message are dropped",
    start: [1, 2],
    events: [flagged(2, "\\Seen"), expunged(2)],
    allowExpunge: true,
    updates: ["* 2 EXPUNGE"],
    after: [1],
  },
  {
    name: "events for other mailboxes are ignored",
    start: [1],
    events: [added(5, "Sent"), added(6, "INBOX", "bob")],
    allowExpunge: true,
    updates: [],
    after: [1],
  },
];

for (const c of cases) {
  Deno.test(`tracker: ${c.name}`, () => {
    // The list SELECT gives is the store's own (shared copy-on-write): the tracker must never
    // change it. Frozen, a change throws.
    const given = Object.freeze([...c.start]);
    const tracker = new MailboxTracker("alice", "INBOX", given);
    for (const event of c.events) tracker.onEvent(event);
    assert.deepEqual(render(tracker, c.allowExpunge), c.updates);
    assert.deepEqual(tracker.uids(), c.after);
    assert.deepEqual(render(tracker, c.allowExpunge), [], "a second flush has nothing left");
    // Once it has its own list, later arrivals go on it (and still not on the given one).
    tracker.onEvent(added(1000));
    tracker.onEvent(added(1001));
    assert.deepEqual(render(tracker, c.allowExpunge).at(-1), `* ${c.after.length + 2} EXISTS`);
    assert.deepEqual(tracker.uids(), [...c.after, 1000, 1001]);
    assert.deepEqual(given, c.start);
  });
}

Deno.test("tracker: seqOf and uidAt agree on a large mailbox", () => {
  const uids = Array.from({ length: 10_000 }, (_, i) => i * 3 + 1);
  const tracker = new MailboxTracker("alice", "INBOX", uids);
  for (const seq of [1, 2, 5000, 10_000]) assert.equal(tracker.seqOf(tracker.uidAt(seq)!), seq);
  assert.equal(tracker.seqOf(2), 0);
  assert.equal(tracker.uidAt(10_001), undefined);
});

Deno.test("tracker: seqsOf gives seqOf's numbers, ascending UIDs or not, known or not", () => {
  const tracker = new MailboxTracker("alice", "INBOX", [2, 3, 5, 8, 13, 21, 34]);
  const cases = [
    [2, 3, 5, 8, 13, 21, 34],
    [1, 2, 4, 5, 6, 21, 40],
    [34, 35],
    [13, 3, 21, 2, 2, 8, 1, 34, 5, 40],
    [5, 5, 5],
    [],
  ];
  for (const uids of cases) {
    assert.deepEqual(tracker.seqsOf(uids), uids.map((uid) => tracker.seqOf(uid)), `${uids}`);
  }
  // A whole mailbox, as after a STORE of every message: each is found where it is.
  const many = Array.from({ length: 5_000 }, (_, i) => i * 2 + 1);
  const all = new MailboxTracker("alice", "INBOX", many);
  assert.deepEqual(all.seqsOf(many), many.map((_, i) => i + 1));
  assert.deepEqual(all.seqsOf(many.map((uid) => uid + 1)), many.map(() => 0));
});

Deno.test("tracker: rename follows the mailbox, delete marks it gone", () => {
  const tracker = new MailboxTracker("alice", "Work/Old", [1]);
  tracker.onEvent({ type: "mailbox.renamed", user: "alice", mailbox: "Work", newName: "Job" });
  assert.equal(tracker.mailbox, "Job/Old");
  tracker.onEvent({ type: "mailbox.deleted", user: "alice", mailbox: "Job/Old" });
  assert.equal(tracker.gone, true);
});

Deno.test("tracker: the session's own flag change is not queued back; other changes are", () => {
  const tracker = new MailboxTracker("alice", "INBOX", [1, 2]);
  const result = tracker.ownFlagChange(() => {
    tracker.onEvent(flagged(1, "\\Seen"));
    return "stored";
  });
  assert.equal(result, "stored");
  assert.deepEqual(tracker.flush(true), []);
  tracker.onEvent(flagged(2, "\\Flagged"));
  assert.deepEqual(tracker.flush(true), [{
    type: "flags",
    seq: 2,
    uid: 2,
    flags: ["\\Flagged"],
    modseq: 1,
  }]);
  assert.throws(() =>
    tracker.ownFlagChange(() => {
      throw new Error("store failed");
    }), /store failed/);
  tracker.onEvent(flagged(1, "\\Deleted"));
  assert.equal(tracker.flush(true).length, 1, "a failed own change leaves the tracker listening");
});

Deno.test("tracker: an own change to a message with a pending outside change keeps it pending, with the new flags", () => {
  // RFC 9051 6.4.6: after STORE .SILENT the client must still hear of the other session's
  // change, and with the flags as they are now (both changes), not the other session's list.
  const tracker = new MailboxTracker("alice", "INBOX", [1, 2, 3]);
  tracker.onEvent(flagged(2, "\\Answered"));
  tracker.ownFlagChange(() => {
    tracker.onEvent({
      type: "flags.changed",
      user: "alice",
      mailbox: "INBOX",
      changes: [
        { uid: 1, flags: ["\\Seen"], modseq: 1 },
        { uid: 2, flags: ["\\Answered", "\\Seen"], modseq: 1 },
      ],
    });
  });
  assert.deepEqual(render(tracker, false), ["* 2 FETCH \\Answered \\Seen"]);
  tracker.onEvent(flagged(3, "\\Flagged"));
  tracker.ownFlagChange(() => tracker.onEvent(flagged(3, "\\Flagged", "\\Seen")));
  tracker.dropFlagUpdates([3]);
  assert.deepEqual(render(tracker, true), [], "STORE without .SILENT reports the flags itself");
});

Deno.test("tracker: keywords from any change or arrival are learned once, and never forgotten", () => {
  // RFC 9051 7.3.5: the session must send FLAGS before a response that uses a new keyword.
  const tracker = new MailboxTracker("alice", "INBOX", [1, 2], ["$Known"]);
  assert.equal(tracker.takeKeywordGrowth(), false);
  tracker.onEvent(flagged(1, "\\Seen", "$Known"));
  assert.equal(tracker.takeKeywordGrowth(), false, "a known keyword is no growth");
  tracker.onEvent(flagged(2, "$Foo"));
  tracker.onEvent(flagged(1, "$Foo", "$Known"));
  assert.equal(tracker.takeKeywordGrowth(), true);
  assert.equal(tracker.takeKeywordGrowth(), false, "taken once");
  // The session's own change too (its FETCH responses show the keyword).
  tracker.ownFlagChange(() => tracker.onEvent(flagged(1, "$Own")));
  assert.equal(tracker.takeKeywordGrowth(), true);
  // An arrival carrying a keyword (APPEND, COPY, MOVE, delivery).
  tracker.onEvent(added(3, "INBOX", "alice", ["\\Seen", "$New"]));
  assert.equal(tracker.takeKeywordGrowth(), true);
  // Removal never shrinks the list; another mailbox's keywords are not this one's.
  tracker.onEvent(flagged(1));
  tracker.onEvent({
    type: "flags.changed",
    user: "alice",
    mailbox: "Other",
    changes: [{ uid: 1, flags: ["$Elsewhere"], modseq: 1 }],
  });
  assert.equal(tracker.takeKeywordGrowth(), false);
  assert.deepEqual([...tracker.keywords], ["$Known", "$Foo", "$Own", "$New"]);
});

Deno.test("tracker: an own change said to add no keyword learns what a full read of it learns", () => {
  // Two identical worlds, the same steps: in one the session's own changes carry the hint
  // STORE gives (no keyword added), in the other every change is read for keywords.
  const worlds = [true, false].map((hinted) => {
    const store = openMemoryStore();
    store.ensureUser("alice");
    const raw = new TextEncoder().encode("Subject: x\r\n\r\nx\r\n");
    for (let n = 0; n < 30; n++) {
      store.append("alice", "INBOX", raw, { flags: n % 5 === 0 ? ["$Old", "\\Seen"] : [] });
    }
    const view = store.selectView("alice", "INBOX");
    const tracker = new MailboxTracker("alice", "INBOX", view.uids, view.keywords);
    store.subscribe((event) => tracker.onEvent(event));
    return { hinted, store, tracker, raw };
  });
  const flagPool = ["\\Seen", "\\Flagged", "\\Deleted", "$Old", "$a", "$B", "$b", "$Old2"];
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let step = 0; step < 400; step++) {
    const kind = random(10);
    const operation = (["add", "remove", "replace"] as const)[random(3)];
    const flags = flagPool.filter(() => random(3) === 0);
    const from = 1 + random(40);
    const uids = Array.from({ length: 1 + random(8) }, (_, i) => from + i);
    const mailbox = random(4) === 0 ? "Other" : "INBOX";
    for (const { hinted, store, tracker, raw } of worlds) {
      if (kind === 0) {
        // Another session or a delivery: a new message, maybe with keywords.
        store.append("alice", "INBOX", raw, { flags });
      } else if (kind === 1) {
        store.setFlags("alice", "INBOX", uids, operation, flags); // another session's change
      } else if (kind === 2 && mailbox === "INBOX") {
        store.setFlags("alice", "INBOX", uids, "add", ["\\Deleted"]);
        store.expunge("alice", "INBOX");
      } else {
        const addsKeywords = operation !== "remove" && flags.some((f) => !f.startsWith("\\"));
        tracker.ownFlagChange(
          () => store.setFlags("alice", "INBOX", uids, operation, flags),
          hinted ? addsKeywords : true,
        );
      }
    }
    const [a, b] = worlds.map((
      { tracker },
    ) => [tracker.takeKeywordGrowth(), [...tracker.keywords]]);
    assert.deepEqual(a, b, `step ${step}`);
  }
  assert.ok(worlds[0].tracker.keywords.size > 3, "the steps brought keywords");
});
