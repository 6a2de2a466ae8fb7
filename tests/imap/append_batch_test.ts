/**
 * Pipelined APPENDs on the SQLite store share commits (lib/imap/session.ts, `pump`): the
 * session holds the store's shared commit open across consecutive APPENDs, up to
 * `APPEND_BATCH`, and each tagged OK waits for the commit (RFC 9051 6.3.12: OK means the
 * message was appended; DESIGN.md: what a client was told is stored survives a crash). Checked
 * over TCP: replies in order whatever fails among them, every OK's message in the file before
 * the OK is read, fewer commits than messages, and a failed commit answered `NO [SERVERBUG]`
 * for each APPEND of it, the session going on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { HeaderFieldItems } from "../../lib/imap/header_fields.ts";
import { APPEND_BATCH, createImapSession } from "../../lib/imap/session.ts";
import { quietLogger } from "../../lib/log.ts";
import { startElektromail } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/mod.ts";
import type { PendingCommit, Store } from "../../lib/store/types.ts";
import { failingCommitStore } from "../store/failing_commit.ts";
import { committedMessages } from "../store/committed_messages.ts";
import { tempDb } from "../store/temp_db.ts";
import { RawImap } from "./raw_client.ts";

/** APPEND `tag` of a small message numbered `n`, as a non-synchronizing literal. */
function append(tag: string, mailbox: string, n: number): string {
  const message = `Subject: batch ${n}\r\n\r\nbody ${n}\r\n`;
  return `${tag} APPEND ${mailbox} {${message.length}+}\r\n${message}\r\n`;
}

/** The distinct commits `store.shareCommit` handed out (a shared one is the same object). */
function countCommits(store: Store): () => number {
  const commits = new Set<PendingCommit>();
  const shareCommit = store.shareCommit.bind(store);
  store.shareCommit = (fn) => {
    const commit = shareCommit(fn);
    if (commit) commits.add(commit);
    return commit;
  };
  return () => commits.size;
}

Deno.test("APPEND batch (sqlite): pipelined APPENDs share commits, replies in order, each OK after its commit", async () => {
  await using db = await tempDb("append-batch");
  const store = openSqliteStore(db.path);
  const commits = countCommits(store);
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("l LOGIN batch secret");
    // One write: 20 APPENDs, one to a mailbox that does not exist among them.
    let input = "";
    for (let i = 1; i <= 20; i++) input += append(`a${i}`, i === 11 ? "Nowhere" : "INBOX", i);
    await client.write(input);

    // Their replies; every OK's message is in the file once the OK is read.
    const tagged: string[] = [];
    for (const line of await client.readUntilTagged("a20")) {
      if (!line.startsWith("*")) tagged.push(line);
    }
    assert.equal(committedMessages(db.path), 19, "every message told OK is in the file");
    assert.equal(tagged.length, 20);
    let uid = 0;
    for (let i = 1; i <= 20; i++) {
      if (i === 11) {
        assert.match(tagged[i - 1], /^a11 NO \[TRYCREATE\] /);
        continue;
      }
      assert.equal(tagged[i - 1], `a${i} OK [APPENDUID 1 ${++uid}] APPEND completed`);
    }
    // Then a NOOP and 30 more in one write.
    input = "n NOOP\r\n";
    for (let i = 21; i <= 50; i++) input += append(`a${i}`, "INBOX", i);
    await client.write(input);
    const rest = (await client.readUntilTagged("a50")).filter((line) => !line.startsWith("*"));
    assert.deepEqual(
      rest,
      ["n OK NOOP completed"].concat(
        Array.from(
          { length: 30 },
          (_, k) => `a${21 + k} OK [APPENDUID 1 ${20 + k}] APPEND completed`,
        ),
      ),
    );
    assert.equal(committedMessages(db.path), 49);
    // Shared: at least the batch's worth to a commit where the input allowed, never all in one.
    const made = commits();
    assert.ok(made < 49 / 2, `${made} commits for 49 APPENDs`);
    assert.ok(made >= Math.ceil(49 / APPEND_BATCH), `${made} commits for 49 APPENDs`);
  } finally {
    client.close();
    await server.stop();
    store.close();
  }
  // A crash now loses nothing that was told: the file alone has every message, in order.
  const reopened = openSqliteStore(db.path);
  const subjects = reopened.listMessages("batch", "INBOX").map((m) => m.summary.subject);
  reopened.close();
  assert.deepEqual(
    subjects,
    Array.from({ length: 50 }, (_, k) => `batch ${k + 1}`).filter((s) => s !== "batch 11"),
  );
});

Deno.test("APPEND batch: a failed commit is NO [SERVERBUG] for each APPEND of it, logged; the session goes on", async () => {
  const { store, commits } = failingCommitStore();
  const logged: string[] = [];
  const server = await startElektromail(testConfig({ httpPort: null }), {
    store,
    warmUp: false,
    logger: {
      info: () => {},
      warn: () => {},
      error: (message: string) => logged.push(message),
      traffic: () => {},
      verbose: false,
    },
  });
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("l LOGIN batch secret");
    await client.write(append("a1", "INBOX", 1) + append("a2", "INBOX", 2) + "n NOOP\r\n");
    const lines = await client.readUntilTagged("n");
    assert.deepEqual(lines.filter((line) => !line.startsWith("*")), [
      "a1 NO [SERVERBUG] Internal server error; the command was not completed",
      "a2 NO [SERVERBUG] Internal server error; the command was not completed",
      "n OK NOOP completed",
    ]);
    assert.equal(commits(), 1, "the two shared one commit");
    assert.equal(logged.filter((message) => /APPEND not stored/.test(message)).length, 2);
    assert.deepEqual(store.listUsers(), [], "nothing of the failed commit is kept");
    // The session goes on: a later APPEND is tried (and fails the same way here).
    const again = await client.command("s SELECT INBOX");
    assert.match(again.at(-1)!, /^s NO /);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("APPEND batch (sqlite): a client that does not read never holds the commit other deliveries wait for", async () => {
  await using db = await tempDb("append-batch");
  const store = openSqliteStore(db.path);
  store.ensureUser("batch");
  const written: string[] = [];
  // The transport of a client that stops reading after its login: from then on every write is
  // over the high-water mark and the output never drains.
  let stalled = false;
  const session = createImapSession({
    config: testConfig({ httpPort: null }),
    store,
    logger: quietLogger(),
    label: "stalled",
    shared: { recentClaims: new Map(), fieldItems: new HeaderFieldItems() },
  }, {
    write: (bytes) => {
      written.push(new TextDecoder().decode(bytes));
      return !stalled;
    },
    drained: () => stalled ? new Promise(() => {}) : Promise.resolve(),
    close: () => {},
  });
  session.start();
  session.receive(new TextEncoder().encode("l LOGIN batch secret\r\n"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  stalled = true;
  // A batch that fails before it stores anything, its NO waiting to be written.
  session.receive(new TextEncoder().encode(append("a1", "Nowhere", 1) + append("a2", "INBOX", 2)));
  await new Promise((resolve) => setTimeout(resolve, 10));
  // Another session's delivery (an SMTP one's) is committed all the same.
  const delivery = store.shareCommit(() => store.append("batch", "INBOX", new Uint8Array(10)));
  assert.ok(delivery);
  const outcome = await Promise.race([
    new Promise((resolve) => delivery.whenCommitted(resolve)),
    new Promise((resolve) => setTimeout(() => resolve("still waiting after 2 s"), 2000)),
  ]);
  assert.equal(outcome, null);
  assert.match(written.join(""), /a1 NO \[TRYCREATE\]/);
  session.closed();
  store.close();
});

Deno.test("APPEND batch (sqlite): a synchronizing literal after a held reply gets its + after that OK", async () => {
  await using db = await tempDb("append-batch");
  const store = openSqliteStore(db.path);
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("l LOGIN batch secret");
    // a1 in one write with a2's command line, whose literal waits for the continuation.
    await client.write(append("a1", "INBOX", 1) + "a2 APPEND INBOX {5}\r\n");
    assert.match((await client.readLine())!, /^a1 OK \[APPENDUID 1 1\] /);
    assert.match((await client.readLine())!, /^\+ /);
    await client.write("hello\r\n");
    assert.match((await client.readUntilTagged("a2")).at(-1)!, /^a2 OK \[APPENDUID 1 2\] /);
  } finally {
    client.close();
    await server.stop();
    store.close();
  }
});
