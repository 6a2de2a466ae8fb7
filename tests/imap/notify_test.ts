/**
 * NOTIFY (RFC 5465) bounds: a client that asked for events and does not read them cannot
 * make the server keep them without bound. Past `MAX_PENDING_NOTIFICATIONS` owed while its
 * output waits, it gets `* OK [NOTIFICATIONOVERFLOW]` (RFC 5465 5.8) and NOTIFY is off: no
 * more notifications, as after `NOTIFY NONE`. And the store subscription ends with the
 * session.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { MAX_PENDING_NOTIFICATIONS } from "../../lib/imap/notify.ts";
import { startElektromail } from "../../lib/server.ts";
import { RawImap } from "./raw_client.ts";

Deno.test("NOTIFY: a client that does not read gets NOTIFICATIONOVERFLOW, then nothing", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    const { client } = await RawImap.connect(server.ports.imap!);
    await client.command("a1 LOGIN alice x");
    const set = await client.command("a2 NOTIFY SET (personal (MailboxName))");
    assert.match(set.at(-1)!, /^a2 OK/);
    // Long names: the LIST lines fill the output high-water mark (1 MiB) long before the
    // last mailbox; the rest stays owed until the count passes the bound.
    const count = MAX_PENDING_NOTIFICATIONS * 3;
    const stem = "n".repeat(900);
    for (let i = 0; i < count; i++) server.store.createMailbox("alice", `${stem}${i}`);
    const lines = await client.command("a3 NOOP");
    const lists = lines.filter((line) => line.startsWith("* LIST "));
    const overflow = lines.findIndex((line) => line.includes("[NOTIFICATIONOVERFLOW]"));
    assert.ok(overflow >= 0, `no NOTIFICATIONOVERFLOW among ${lines.length} lines`);
    assert.ok(lists.length < count, `all ${count} LIST notifications were kept`);
    assert.equal(lines.at(-1), "a3 OK NOOP completed");
    // NOTIFY is off now.
    server.store.createMailbox("alice", "after");
    assert.deepEqual(await client.command("a4 NOOP"), ["a4 OK NOOP completed"]);
    client.close();
  } finally {
    await server.stop();
  }
});

Deno.test("NOTIFY: MailboxName for a subtree, renames into and out of it, children too", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    const { client } = await RawImap.connect(server.ports.imap!);
    await client.command("a1 LOGIN alice x");
    await client.command("a2 NOTIFY SET (subtree Work (MailboxName))");
    server.store.createMailbox("alice", "Work");
    server.store.createMailbox("alice", "Play");
    server.store.createMailbox("alice", "Work/Sub");
    server.store.renameMailbox("alice", "Work/Sub", "Play/Sub");
    server.store.renameMailbox("alice", "Play", "Work/Play");
    assert.deepEqual(await client.command("a3 NOOP"), [
      '* LIST () "/" Work',
      '* LIST () "/" Work/Sub',
      '* LIST () "/" Play/Sub ("OLDNAME" (Work/Sub))',
      '* LIST () "/" Work/Play ("OLDNAME" (Play))',
      '* LIST () "/" Work/Play/Sub ("OLDNAME" (Play/Sub))',
      "a3 OK NOOP completed",
    ]);
    client.close();
  } finally {
    await server.stop();
  }
});
