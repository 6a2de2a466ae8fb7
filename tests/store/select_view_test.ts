/**
 * The SELECT view the store keeps up to date as messages come and go (the mailbox's UID list
 * and its count of messages per flag list, lib/store/records.ts): after every step of a
 * random run of appends, flag changes, expunges, copies, moves and renames, it must equal the
 * view worked out from scratch from the message list, on the memory store and on SQLite
 * (there also after reopening, which builds the records from the rows).
 *
 * @module
 */

import assert from "node:assert/strict";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import type { Store } from "../../lib/store/types.ts";
import { randomBelow } from "../harness/random.ts";
import { sampleMessage } from "./contract_helpers.ts";

const USER = "ann";
const MAILBOXES = ["INBOX", "Work", "Archive"];
const FLAGS = ["\\Seen", "\\Deleted", "\\Flagged", "$Label1", "$Label2", "Later"];

/** The view as the messages say it: UIDs in order, keywords in use, first unseen UID. */
function fromScratch(store: Store, mailbox: string) {
  const messages = store.listMessages(USER, mailbox);
  const keywords = new Set<string>();
  for (const message of messages) {
    for (const flag of message.flags) if (!flag.startsWith("\\")) keywords.add(flag);
  }
  return {
    uids: messages.map((message) => message.uid),
    keywords: [...keywords].sort(),
    firstUnseenUid: messages.find((message) => !message.flags.includes("\\Seen"))?.uid ?? 0,
  };
}

function assertViews(store: Store, step: string): void {
  for (const mailbox of MAILBOXES) {
    if (!store.getMailbox(USER, mailbox)) continue;
    const view = store.selectView(USER, mailbox);
    assert.deepEqual(
      { uids: view.uids, keywords: [...view.keywords].sort(), firstUnseenUid: view.firstUnseenUid },
      fromScratch(store, mailbox),
      `${mailbox} after ${step}`,
    );
    assert.equal(view.info.messages, view.uids.length, `${mailbox} count after ${step}`);
  }
}

/** A random step on `store`; returns what it did. */
function randomStep(store: Store, rand: (n: number) => number): string {
  const pick = <T>(list: readonly T[]) => list[rand(list.length)];
  const someFlags = () => FLAGS.filter(() => rand(3) === 0);
  const mailbox = pick(MAILBOXES);
  if (!store.getMailbox(USER, mailbox)) {
    store.createMailbox(USER, mailbox);
    return `CREATE ${mailbox}`;
  }
  const uids = store.listMessages(USER, mailbox).map((message) => message.uid);
  const someUids = () => uids.filter(() => rand(3) === 0);
  switch (rand(9)) {
    case 0:
    case 1: {
      const count = 1 + rand(4);
      for (let i = 0; i < count; i++) {
        store.append(USER, mailbox, sampleMessage(`m${rand(1000)}`), { flags: someFlags() });
      }
      return `APPEND ${count} to ${mailbox}`;
    }
    case 2: {
      const operation = pick(["add", "remove", "replace"] as const);
      store.setFlags(USER, mailbox, someUids(), operation, someFlags());
      return `STORE ${operation} in ${mailbox}`;
    }
    case 3:
      store.expunge(USER, mailbox, someUids(), rand(2) === 0);
      return `EXPUNGE in ${mailbox}`;
    case 4: {
      const to = pick(MAILBOXES.filter((name) => name !== mailbox));
      if (!store.getMailbox(USER, to)) return "nothing";
      store.copyMessages(USER, mailbox, someUids(), to);
      return `COPY ${mailbox} to ${to}`;
    }
    case 5: {
      const to = pick(MAILBOXES.filter((name) => name !== mailbox));
      if (!store.getMailbox(USER, to)) return "nothing";
      store.moveMessages(USER, mailbox, someUids(), to);
      return `MOVE ${mailbox} to ${to}`;
    }
    case 6: {
      // RENAME INBOX moves all its messages into a new mailbox; another name keeps them.
      const to = pick(MAILBOXES.filter((name) => name !== "INBOX" && name !== mailbox));
      if (store.getMailbox(USER, to)) {
        if (mailbox === "INBOX") return "nothing";
        store.deleteMailbox(USER, to);
      }
      store.renameMailbox(USER, mailbox, to);
      return `RENAME ${mailbox} to ${to}`;
    }
    case 7:
      if (mailbox === "INBOX") return "nothing";
      store.deleteMailbox(USER, mailbox);
      return `DELETE ${mailbox}`;
    default:
      store.setFlags(USER, mailbox, uids, "add", ["\\Seen"]);
      return `STORE +\\Seen on all of ${mailbox}`;
  }
}

Deno.test("select view: kept up to date through random changes (memory store)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = randomBelow(seed);
    const store = openMemoryStore();
    store.ensureUser(USER);
    for (let step = 0; step < 60; step++) {
      assertViews(store, `seed ${seed} step ${step}: ${randomStep(store, rand)}`);
    }
    store.close();
  }
});

Deno.test("select view: kept up to date on SQLite, and rebuilt the same on reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let seed = 1; seed <= 4; seed++) {
      const path = `${dir}/s${seed}.db`;
      const rand = randomBelow(seed * 7919);
      let store = openSqliteStore(path);
      store.ensureUser(USER);
      for (let step = 0; step < 40; step++) {
        assertViews(store, `seed ${seed} step ${step}: ${randomStep(store, rand)}`);
        if (step % 10 === 9) {
          store.close();
          store = openSqliteStore(path);
          assertViews(store, `seed ${seed} step ${step}: reopen`);
        }
      }
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("select view: a handed-out UID list is shared, and stays as it was through changes", () => {
  const store = openMemoryStore();
  store.ensureUser(USER);
  for (const name of ["one", "two", "three"]) store.append(USER, "INBOX", sampleMessage(name));
  const first = store.selectView(USER, "INBOX");
  // Copy-on-write: a second SELECT before any change shares the same list.
  assert.equal(store.selectView(USER, "INBOX").uids, first.uids);
  store.append(USER, "INBOX", sampleMessage("four"));
  assert.deepEqual(first.uids, [1, 2, 3]);
  const second = store.selectView(USER, "INBOX");
  assert.deepEqual(second.uids, [1, 2, 3, 4]);
  store.expunge(USER, "INBOX", [2], true);
  store.append(USER, "INBOX", sampleMessage("five"));
  assert.deepEqual(second.uids, [1, 2, 3, 4]);
  assert.deepEqual(store.selectView(USER, "INBOX").uids, [1, 3, 4, 5]);
  store.createMailbox(USER, "Old");
  store.renameMailbox(USER, "INBOX", "Old/Inbox");
  assert.deepEqual(first.uids, [1, 2, 3]);
  assert.deepEqual(store.selectView(USER, "INBOX").uids, []);
  store.close();
});
