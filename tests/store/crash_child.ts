/**
 * The child process of `sqlite_crash_test.ts`: opens the SQLite store at `Deno.args[0]`, runs
 * the scenario named `Deno.args[1]`, and prints after each operation a `STATE <json>` line
 * with what a client could have seen so far ({@linkcode Seen}); `DONE` after the last one,
 * then waits to be killed. Scenario `stream` appends until killed, a `STATE` line per append.
 *
 * @module
 */

import { openSqliteStore, type Store } from "../../lib/store/mod.ts";

/** What a client could have seen, per mailbox name (including names gone since). */
export interface Seen {
  /** The mailboxes there now: UIDNEXT, HIGHESTMODSEQ and `[uid, modseq, ...flags]` rows. */
  mailboxes: Record<string, { uidNext: number; highestModseq: number; messages: unknown[][] }>;
  /** Per name: the highest UID given under it so far. */
  uids: Record<string, number>;
  /** Per name: the highest HIGHESTMODSEQ shown under it so far. */
  modseqs: Record<string, number>;
  /** The highest EMAILID (RFC 8474) counter value shown so far. */
  emailId: number;
}

/** The counter value of an EMAILID (`M<n>`). */
export function emailIdCounter(emailId: string): number {
  return Number(emailId.slice(1));
}

const USER = "u";

function message(n: number): Uint8Array {
  return new TextEncoder().encode(
    `From: a@example.com\r\nSubject: crash ${n}\r\n\r\nBody ${n}\r\n`,
  );
}

/** Notes the store's state into `seen` and prints it. */
function report(store: Store, seen: Seen, full = true): void {
  seen.mailboxes = {};
  for (const info of store.listMailboxes(USER)) {
    seen.uids[info.name] = Math.max(seen.uids[info.name] ?? 0, info.uidNext - 1);
    seen.modseqs[info.name] = Math.max(seen.modseqs[info.name] ?? 0, info.highestModseq);
    if (!full && info.name !== "INBOX") continue;
    for (const meta of store.listMessages(USER, info.name)) {
      seen.emailId = Math.max(seen.emailId, emailIdCounter(meta.emailId));
    }
    seen.mailboxes[info.name] = {
      uidNext: info.uidNext,
      highestModseq: info.highestModseq,
      messages: full
        ? store.listMessages(USER, info.name).map((m) => [m.uid, m.modseq, ...m.flags])
        : [],
    };
  }
  console.log(`STATE ${JSON.stringify(seen)}`);
}

const SCENARIOS: Record<string, (store: Store, step: () => void) => void> = {
  burst(store, step) {
    for (let i = 0; i < 200; i++) store.append(USER, "INBOX", message(i));
    step();
    store.appendMessages(
      USER,
      "INBOX",
      Array.from({ length: 20 }, (_, i) => ({ raw: message(i), options: { flags: ["\\Seen"] } })),
    );
    step();
  },
  "expunge-highest"(store, step) {
    for (let i = 0; i < 10; i++) store.append(USER, "INBOX", message(i));
    store.setFlags(USER, "INBOX", [8, 9, 10], "add", ["\\Deleted"]);
    step();
    store.expunge(USER, "INBOX");
    step();
    store.createMailbox(USER, "Empty");
    for (let i = 0; i < 3; i++) store.append(USER, "Empty", message(i));
    store.expunge(USER, "Empty", undefined, true);
    step();
  },
  "delete-recreate"(store, step) {
    store.createMailbox(USER, "Box");
    for (let i = 0; i < 5; i++) store.append(USER, "Box", message(i));
    store.setFlags(USER, "Box", [5], "add", ["\\Flagged"]);
    step();
    store.deleteMailbox(USER, "Box");
    step();
    store.createMailbox(USER, "Box");
    store.append(USER, "Box", message(6));
    step();
    store.deleteMailbox(USER, "Box");
    step();
    // Recreated, left empty: its UIDNEXT and HIGHESTMODSEQ come from the name's marks.
    store.createMailbox(USER, "Gone");
    store.append(USER, "Gone", message(7));
    store.deleteMailbox(USER, "Gone");
    store.createMailbox(USER, "Gone");
    step();
    // A name that never gave a UID: the recreated mailbox's HIGHESTMODSEQ is above the old
    // one's, carried by no message or vanished row.
    store.createMailbox(USER, "Void");
    store.deleteMailbox(USER, "Void");
    store.createMailbox(USER, "Void");
    step();
  },
  rename(store, step) {
    store.createMailbox(USER, "A");
    for (let i = 0; i < 5; i++) store.append(USER, "A", message(i));
    store.renameMailbox(USER, "A", "B");
    step();
    store.createMailbox(USER, "A");
    store.append(USER, "A", message(5));
    store.renameMailbox(USER, "A", "C");
    step();
    // Onto a name that carried UIDs: renumbered above them.
    store.renameMailbox(USER, "B", "A");
    step();
    store.createMailbox(USER, "P/Q");
    store.append(USER, "P/Q", message(6));
    store.renameMailbox(USER, "P", "R");
    store.append(USER, "INBOX", message(7));
    store.renameMailbox(USER, "INBOX", "Old");
    step();
    // A child takes the name its parent leaves in the same rename: K/L/L becomes K/L.
    store.createMailbox(USER, "K/L/L");
    for (let i = 0; i < 3; i++) store.append(USER, "K/L", message(i));
    store.append(USER, "K/L/L", message(3));
    store.deleteMailbox(USER, "K");
    store.renameMailbox(USER, "K/L", "K");
    step();
  },
  "copy-move"(store, step) {
    store.createMailbox(USER, "T");
    for (let i = 0; i < 5; i++) store.append(USER, "INBOX", message(i));
    store.copyMessages(USER, "INBOX", [1, 2, 3, 4, 5], "T");
    step();
    store.moveMessages(USER, "INBOX", [3, 4, 5], "T");
    step();
    store.moveMessages(USER, "T", [7, 8], "T");
    step();
    store.moveMessages(USER, "T", [9, 10], "INBOX");
    step();
  },
  flags(store, step) {
    for (let i = 0; i < 5; i++) store.append(USER, "INBOX", message(i));
    store.setFlags(USER, "INBOX", [1, 2, 3, 4, 5], "add", ["\\Seen"]);
    store.setFlags(USER, "INBOX", [2], "add", ["$Label"]);
    step();
    // No change: no MODSEQ taken.
    store.setFlags(USER, "INBOX", [1], "add", ["\\Seen"]);
    store.setFlags(USER, "INBOX", [5], "replace", ["\\Answered"]);
    step();
    // The message that carries HIGHESTMODSEQ goes: its vanished range carries it on.
    store.setFlags(USER, "INBOX", [5], "add", ["\\Deleted"]);
    store.expunge(USER, "INBOX", [5]);
    step();
    store.setFlags(USER, "INBOX", [4], "add", ["\\Flagged"]);
    step();
  },
};

if (import.meta.main) {
  const [path, name] = Deno.args;
  const store = openSqliteStore(path);
  store.ensureUser(USER);
  const seen: Seen = { mailboxes: {}, uids: {}, modseqs: {}, emailId: 0 };
  if (name === "stream") {
    for (let i = 0;; i++) {
      store.append(USER, "INBOX", message(i));
      if (i % 7 === 0) store.setFlags(USER, "INBOX", [i + 1], "add", ["\\Seen"]);
      report(store, seen, false);
      // Lets the parent's kill land between appends as well as in one.
      if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  report(store, seen);
  SCENARIOS[name](store, () => report(store, seen));
  console.log("DONE");
  await new Promise(() => setInterval(() => {}, 60_000));
}
