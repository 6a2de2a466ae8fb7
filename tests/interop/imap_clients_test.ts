/**
 * Real IMAP clients against a live server on port 0: imapflow (npm), Python's imaplib and
 * curl. What they see is checked against `server.store`.
 *
 * @module
 */

import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { imapflowClient as client, python, withServer, withTimeout } from "./imap_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const MESSAGE =
  "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: Hello from imapflow\r\n" +
  "Date: Wed, 25 Nov 2026 07:22:01 +0000\r\n\r\nLine one\r\n.line with a dot\r\n";

Deno.test("imapflow: list, open, append, fetch source and flags, flag changes, move", async () => {
  await withServer(async (server) => {
    const imap = client(server);
    await imap.connect();
    try {
      const boxes = await imap.list();
      const byPath = new Map(boxes.map((box) => [box.path, box]));
      assert.deepEqual([...byPath.keys()].sort(), ["Drafts", "INBOX", "Junk", "Sent", "Trash"]);
      assert.equal(byPath.get("Sent")?.specialUse, "\\Sent");
      assert.equal(byPath.get("Trash")?.specialUse, "\\Trash");

      const appended = await imap.append("INBOX", MESSAGE, ["\\Flagged"]);
      assert.ok(appended);
      assert.equal(appended.uid, 1);
      assert.equal(appended.uidValidity, 1n);

      const box = await imap.mailboxOpen("INBOX");
      assert.equal(box.exists, 1);
      assert.equal(box.uidNext, 2);

      const fetched = await imap.fetchOne("1", {
        source: true,
        flags: true,
        uid: true,
        internalDate: true,
        size: true,
      });
      assert.ok(fetched);
      assert.equal(decoder.decode(fetched.source), MESSAGE);
      assert.deepEqual([...fetched.flags!], ["\\Flagged"]);
      assert.equal(fetched.size, encoder.encode(MESSAGE).length);

      await imap.messageFlagsAdd("1", ["\\Seen", "$Important"], { uid: true });
      assert.deepEqual([...server.store.getMessage("alice", "INBOX", 1)!.flags], [
        "\\Flagged",
        "\\Seen",
        "$Important",
      ]);
      await imap.messageFlagsRemove("1", ["\\Flagged"], { uid: true });
      const again = await imap.fetchOne("1", { flags: true });
      assert.ok(again);
      assert.deepEqual([...again.flags!].sort(), ["$Important", "\\Seen"]);

      const moved = await imap.messageMove("1", "Trash", { uid: true });
      assert.ok(moved);
      assert.equal(moved.destination, "Trash");
      assert.deepEqual([...(moved.uidMap ?? new Map()).entries()], [[1, 1]]);
      assert.equal(server.store.getMailbox("alice", "INBOX")!.messages, 0);
      assert.equal(server.store.getMailbox("alice", "Trash")!.messages, 1);

      const status = await imap.status("Trash", { messages: true, uidNext: true, unseen: true });
      assert.ok(status);
      assert.equal(status.messages, 1);
      assert.equal(status.uidNext, 2);
      assert.equal(status.unseen, 0);
    } finally {
      await imap.logout();
    }
  });
});

Deno.test("imapflow: IDLE reports a message delivered over SMTP", async () => {
  await withServer(async (server) => {
    const imap = client(server);
    await imap.connect();
    try {
      await imap.mailboxOpen("INBOX");
      const exists = new Promise<number>((resolve) =>
        imap.on("exists", (data: { count: number }) => resolve(data.count))
      );
      const idling = imap.idle();
      // Give the IDLE command time to reach the server before delivering.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const smtp = nodemailer.createTransport({
        host: "127.0.0.1",
        port: server.ports.smtp,
        secure: false,
        ignoreTLS: true,
      });
      await smtp.sendMail({
        from: "bob@example.com",
        to: "alice@example.com",
        subject: "ping",
        text: "hello",
      });
      assert.equal(await withTimeout(exists, "EXISTS during IDLE"), 1);
      const message = await imap.fetchOne("1", { envelope: false, source: true });
      assert.ok(message && message.source);
      assert.match(decoder.decode(message.source), /Subject: ping/);
      await idling.catch(() => {});
    } finally {
      await imap.logout();
    }
  });
});

Deno.test("Python imaplib: login, list, append, select, fetch, store, copy, expunge", async () => {
  await withServer(async (server) => {
    const result = await python(
      String.raw`
import imaplib, json, sys
out = {}
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
out["login"] = m.login("carol", "pw")[0]
typ, boxes = m.list()
out["list"] = [b.decode() for b in boxes]
msg = b"Subject: from imaplib\r\n\r\nHello\r\n"
typ, data = m.append("INBOX", r"(\Draft)", imaplib.Time2Internaldate(1764055321), msg)
out["append"] = [typ, data[0].decode()]
typ, data = m.select("INBOX")
out["select"] = [typ, data[0].decode()]
typ, data = m.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[])")
out["fetch_head"] = data[0][0].decode()
out["fetch_body"] = data[0][1].decode()
typ, data = m.store("1", "+FLAGS", r"(\Deleted)")
out["store"] = data[0].decode()
typ, data = m.copy("1", "Sent")
out["copy"] = [typ, data[0].decode()]
typ, data = m.expunge()
out["expunge"] = [typ, [d.decode() for d in data if d]]
typ, data = m.status("Sent", "(MESSAGES UIDNEXT)")
out["status"] = data[0].decode()
m.logout()
print(json.dumps(out))
`,
      server.ports.imap,
    );
    assert.equal(result.login, "OK");
    assert.ok(
      (result.list as string[]).some((line) => line.includes("\\Sent") && line.endsWith("Sent")),
    );
    assert.deepEqual(result.append, ["OK", "[APPENDUID 1 1] APPEND completed"]);
    assert.deepEqual(result.select, ["OK", "1"]);
    assert.match(
      result.fetch_head as string,
      /^1 \(FLAGS \(\\Draft \\Recent\) RFC822\.SIZE 32 BODY\[\] \{32\}$/,
    );
    assert.equal(result.fetch_body, "Subject: from imaplib\r\n\r\nHello\r\n");
    assert.match(result.store as string, /^1 \(FLAGS \(\\Deleted \\Draft \\Recent\)\)$/);
    assert.deepEqual(result.copy, ["OK", "[COPYUID 1 1 1] COPY completed"]);
    assert.deepEqual(result.expunge, ["OK", ["1"]]);
    assert.equal(result.status, "Sent (MESSAGES 1 UIDNEXT 2)");
    assert.equal(server.store.getMailbox("carol", "INBOX")!.messages, 0);
  });
});

Deno.test("curl: lists mailboxes and fetches a message by UID", async () => {
  await withServer(async (server) => {
    server.store.ensureUser("dave");
    server.store.append(
      "dave",
      "INBOX",
      encoder.encode("Subject: for curl\r\n\r\nfetched by curl\r\n"),
    );
    const base = `imap://127.0.0.1:${server.ports.imap}`;
    const run = async (...args: string[]) => {
      const output = await new Deno.Command("curl", {
        args: ["-sS", "--max-time", "10", "-u", "dave:pw", ...args],
      }).output();
      assert.equal(output.code, 0, decoder.decode(output.stderr));
      return decoder.decode(output.stdout);
    };
    const listing = await run(`${base}/`);
    assert.match(listing, /\* LIST \([^)]*\) "\/" INBOX/);
    assert.match(listing, /\\Trash\) "\/" Trash/);
    assert.equal(await run(`${base}/INBOX;UID=1`), "Subject: for curl\r\n\r\nfetched by curl\r\n");
    const examined = await run(`${base}/INBOX`, "-X", "EXAMINE INBOX");
    assert.match(examined, /\* 1 EXISTS/);
  });
});
