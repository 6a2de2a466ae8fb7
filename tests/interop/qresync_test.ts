/**
 * CONDSTORE/QRESYNC (RFC 7162) with real clients: imapflow with `qresync: true` reopens a
 * mailbox from its cached UIDVALIDITY and HIGHESTMODSEQ after another IMAP session and the
 * HTTP API changed flags, expunged and delivered, and hears exactly what changed; Python's
 * imaplib does the same resynchronisation by hand on a raw connection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { imapflowClient, python, withTimeout } from "./imap_helpers.ts";

const encoder = new TextEncoder();

function qresyncClient(server: Elektromail): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port: server.ports.imap!,
    secure: false,
    auth: { user: "alice", pass: "any" },
    logger: false,
    disableAutoIdle: true,
    qresync: true,
  });
}

async function withHttpServer(fn: (server: Elektromail, base: string) => Promise<void>) {
  const server = await startElektromail(testConfig({ httpPort: 0 }));
  try {
    await fn(server, `http://127.0.0.1:${server.ports.http}`);
  } finally {
    await server.stop();
  }
}

function deliverSix(server: Elektromail): void {
  for (let i = 1; i <= 6; i++) {
    server.store.append("alice", "INBOX", encoder.encode(`Subject: m${i}\r\n\r\nbody ${i}\r\n`));
  }
}

Deno.test("imapflow qresync: reconnecting reports exactly the vanished and changed messages", async () => {
  await withHttpServer(async (server, base) => {
    server.store.ensureUser("alice");
    deliverSix(server);

    // First visit: imapflow enables QRESYNC and caches UIDVALIDITY and HIGHESTMODSEQ.
    const first = qresyncClient(server);
    await withTimeout(first.connect(), "connect");
    assert.ok(first.enabled.has("QRESYNC"), "imapflow enabled QRESYNC");
    const opened = await first.mailboxOpen("INBOX");
    const cached = { uidValidity: opened.uidValidity, highestModseq: opened.highestModseq };
    assert.equal(BigInt(cached.highestModseq!), 7n, "INBOX at 1, then six deliveries");
    await first.logout();

    // Meanwhile: another IMAP session flags 2 and expunges 3; HTTP deletes 5 and delivers one.
    const other = imapflowClient(server);
    await withTimeout(other.connect(), "connect other");
    await other.mailboxOpen("INBOX");
    await other.messageFlagsAdd("2", ["\\Flagged"], { uid: true });
    await other.messageDelete("3", { uid: true });
    await other.logout();
    const deleted = await fetch(`${base}/messages/${encodeURIComponent("alice:INBOX:5")}`, {
      method: "DELETE",
    });
    assert.equal(deleted.status, 200);
    await deleted.body?.cancel();
    const injected = await fetch(`${base}/inject`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "alice", subject: "new", text: "fresh" }),
    });
    assert.equal(injected.status, 201);
    await injected.body?.cancel();

    // Second visit from the cache.
    const second = qresyncClient(server);
    const expunged: Array<{ uid?: number; vanished: boolean; earlier?: boolean }> = [];
    const flagged: Array<{ uid?: number; flags: string[]; modseq?: bigint }> = [];
    second.on("expunge", (event) => expunged.push(event));
    second.on("flags", (event) => flagged.push({ ...event, flags: [...event.flags] }));
    await withTimeout(second.connect(), "reconnect");
    const reopened = await second.mailboxOpen("INBOX", {
      uidValidity: BigInt(cached.uidValidity),
      changedSince: BigInt(cached.highestModseq!),
    } as never);
    try {
      assert.deepEqual(
        expunged.map((event) => [event.uid, event.vanished, event.earlier]),
        [[3, true, true], [5, true, true]],
      );
      assert.deepEqual(
        flagged.map((event) => [event.uid, event.flags.sort(), Number(event.modseq)]),
        [[2, ["\\Flagged"], 8], [7, [], 12]],
      );
      assert.equal(reopened.exists, 5);
      const highest = server.store.getMailbox("alice", "INBOX")!.highestModseq;
      assert.equal(Number(reopened.highestModseq), highest);
      // Nothing changed since: a CHANGEDSINCE fetch from the new HIGHESTMODSEQ is empty.
      const changed = [];
      for await (
        const message of second.fetch("1:*", { flags: true }, {
          uid: true,
          changedSince: BigInt(highest),
        })
      ) changed.push(message.uid);
      assert.deepEqual(changed, []);
    } finally {
      await second.logout();
    }
  });
});

Deno.test("Python imaplib: a raw QRESYNC resynchronisation", async () => {
  await withHttpServer(async (server) => {
    server.store.ensureUser("alice");
    deliverSix(server);
    const script = String.raw`
import imaplib, json, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("alice", "x")
caps = m.capability()[1][0].decode().split()
out = {"caps": "CONDSTORE" in caps and "QRESYNC" in caps}
typ, data = m._simple_command("ENABLE", "QRESYNC")
out["enabled"] = [d.decode() for d in m.untagged_responses.pop("ENABLED", [])]
typ, data = m.select("INBOX")
out["highest"] = m.untagged_responses.pop("HIGHESTMODSEQ", [b"?"])[0].decode()
m.store("2", "+FLAGS.SILENT", r"(\Deleted)")
m.expunge()
out["vanished_live"] = [d.decode() for d in m.untagged_responses.pop("VANISHED", [])]
m.store("4", "+FLAGS", r"(\Seen)")
m.close()
m.untagged_responses.clear()
tag = m._command("SELECT", "INBOX", "(QRESYNC (1 %s 1:6))" % out["highest"])
typ, data = m._command_complete("SELECT", tag)
out["select"] = typ
m.state = "SELECTED"
out["vanished_earlier"] = [d.decode() for d in m.untagged_responses.pop("VANISHED", [])]
out["fetch"] = [d.decode() for d in m.untagged_responses.pop("FETCH", [])]
typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %s VANISHED)" % out["highest"])
out["uid_fetch"] = [d.decode() if isinstance(d, bytes) else str(d) for d in data]
m.logout()
print(json.dumps(out))
`;
    const result = await python(script, server.ports.imap!);
    assert.equal(result.caps, true);
    assert.deepEqual(result.enabled, ["QRESYNC"]);
    assert.equal(result.highest, "7");
    assert.deepEqual(result.vanished_live, ["2"]);
    assert.equal(result.select, "OK");
    assert.deepEqual(result.vanished_earlier, ["(EARLIER) 2"]);
    // Message 4 (UID 5 after UID 2 went) changed: \Seen, at MODSEQ 10 (expunge took 9, the
    // \Deleted 8).
    assert.deepEqual(result.fetch, ["4 (UID 5 FLAGS (\\Seen) MODSEQ (10))"]);
    assert.deepEqual(result.uid_fetch, ["4 (UID 5 FLAGS (\\Seen) MODSEQ (10))"]);
  });
});
