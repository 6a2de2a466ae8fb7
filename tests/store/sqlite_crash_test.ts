/**
 * UIDNEXT, HIGHESTMODSEQ and EMAILID across `kill -9`: the SQLite store does not write them
 * on every append (they are derived at open from the message and vanished rows, and a
 * name's high-water marks and the EMAILID counter are written when messages or their
 * mailbox leave), so each scenario of `crash_child.ts` runs in a child process that is
 * killed with SIGKILL, and the reopened store must show what a client saw: the same
 * UIDNEXT, HIGHESTMODSEQ and messages, no UID given twice under a name, no HIGHESTMODSEQ
 * going back, no EMAILID given twice.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openSqliteStore, type Store } from "../../lib/store/mod.ts";
import { emailIdCounter, type Seen } from "./crash_child.ts";

const CHILD = new URL("./crash_child.ts", import.meta.url).pathname;
const USER = "u";

/**
 * Runs a scenario in a child and kills it with SIGKILL once it said `DONE` (or, with
 * `killAfter`, once it printed that many states); returns the last state it printed.
 */
async function runAndKill(path: string, scenario: string, killAfter = Infinity): Promise<Seen> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CHILD, path, scenario],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let last: Seen | null = null;
  let states = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  // Hang guard only: a scenario takes well under a second unloaded.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    read: while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.startsWith("STATE ")) {
          last = JSON.parse(line.slice(6)) as Seen;
          states++;
        }
        if (line === "DONE" || states >= killAfter) {
          child.kill("SIGKILL");
          break read;
        }
      }
    }
  } finally {
    clearTimeout(guard);
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", `child of ${scenario} ended without being killed`);
  assert.ok(last, `child of ${scenario} printed no state`);
  return last;
}

/** The messages of a mailbox as the child prints them. */
function rows(store: Store, mailbox: string): unknown[][] {
  return store.listMessages(USER, mailbox).map((m) => [m.uid, m.modseq, ...m.flags]);
}

/**
 * Under every name the child used, a new message (in a mailbox created again if the name is
 * gone) gets a UID above every UID given under it, a MODSEQ above every HIGHESTMODSEQ shown
 * under it, and an EMAILID above every one shown (messages expunged since included).
 */
function checkNoReuse(store: Store, seen: Seen): void {
  let emailId = seen.emailId;
  for (const [name, uid] of Object.entries(seen.uids)) {
    if (!store.getMailbox(USER, name)) store.createMailbox(USER, name);
    const before = store.getMailbox(USER, name)!;
    assert.ok(before.uidNext > uid, `${name}: UIDNEXT ${before.uidNext} after UID ${uid}`);
    assert.ok(
      before.highestModseq >= seen.modseqs[name],
      `${name}: HIGHESTMODSEQ ${before.highestModseq} after ${seen.modseqs[name]}`,
    );
    const added = store.append(USER, name, new TextEncoder().encode("Subject: after\r\n\r\nx\r\n"));
    assert.ok(added.uid > uid, `${name}: UID ${added.uid} given again (had ${uid})`);
    assert.ok(added.modseq > seen.modseqs[name], `${name}: MODSEQ ${added.modseq} went back`);
    assert.ok(emailIdCounter(added.emailId) > emailId, `EMAILID ${added.emailId} given again`);
    emailId = emailIdCounter(added.emailId);
  }
}

async function withDb(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-crash-" });
  try {
    await fn(`${dir}/mail.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (
  const scenario of ["burst", "expunge-highest", "delete-recreate", "rename", "copy-move", "flags"]
) {
  Deno.test(`sqlite: UIDNEXT, HIGHESTMODSEQ and EMAILID survive kill -9 after ${scenario}`, async () => {
    await withDb(async (path) => {
      const seen = await runAndKill(path, scenario);
      const store = openSqliteStore(path);
      try {
        assert.deepEqual(
          store.listMailboxes(USER).map((info) => info.name).sort(),
          Object.keys(seen.mailboxes).sort(),
        );
        for (const [name, shown] of Object.entries(seen.mailboxes)) {
          const info = store.getMailbox(USER, name)!;
          assert.equal(info.uidNext, shown.uidNext, `${name}: UIDNEXT`);
          assert.equal(info.highestModseq, shown.highestModseq, `${name}: HIGHESTMODSEQ`);
          assert.deepEqual(rows(store, name), shown.messages, `${name}: messages`);
        }
        checkNoReuse(store, seen);
        const after = store.listMailboxes(USER);
        store.close();
        // And what was written after the reopen reads back the same once more.
        const again = openSqliteStore(path);
        try {
          assert.deepEqual(again.listMailboxes(USER), after);
        } finally {
          again.close();
        }
      } finally {
        store.close();
      }
    });
  });
}

Deno.test("sqlite: UIDs and MODSEQs acknowledged in a burst survive kill -9 mid-burst", async () => {
  await withDb(async (path) => {
    const seen = await runAndKill(path, "stream", 150);
    const store = openSqliteStore(path);
    try {
      const shown = seen.mailboxes.INBOX;
      const info = store.getMailbox(USER, "INBOX")!;
      // The child may have committed more after its last line: never less.
      assert.ok(info.uidNext >= shown.uidNext, `UIDNEXT ${info.uidNext} < ${shown.uidNext}`);
      assert.ok(info.highestModseq >= shown.highestModseq, "HIGHESTMODSEQ went back");
      const uids = store.listMessages(USER, "INBOX").map((m) => m.uid);
      // Every UID below UIDNEXT is there (nothing was expunged), none above.
      assert.deepEqual(uids, Array.from({ length: info.uidNext - 1 }, (_, i) => i + 1));
      checkNoReuse(store, seen);
    } finally {
      store.close();
    }
  });
});
