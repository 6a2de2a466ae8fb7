/**
 * Issue 16's small extensions through real clients: imapflow reads OBJECTID (RFC 8474:
 * `mailboxId` from SELECT and CREATE, `emailId` on every FETCH, `threadId`, SEARCH by
 * emailId); Python's imaplib sends PREVIEW (RFC 8970), METADATA (RFC 5464), CREATE with USE
 * (RFC 6154) and UNAUTHENTICATE (RFC 8437) as raw commands (`xatom`), having no API for them.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  imapflowClient as client,
  imaplibSession,
  withServer,
  withTimeout,
} from "./imap_helpers.ts";

const MESSAGE = "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: Ids\r\n" +
  "Message-ID: <ids@example.com>\r\n\r\nHello there\r\n";

Deno.test("imapflow: OBJECTID mailboxId on open and create, emailId kept by copy, search by emailId", async () => {
  await withServer(async (server) => {
    const imap = client(server);
    await withTimeout(imap.connect(), "connect");
    try {
      const created = await imap.mailboxCreate("Work");
      assert.equal(created.mailboxId, "F6");
      await imap.append("INBOX", MESSAGE);
      const box = await imap.mailboxOpen("INBOX");
      assert.equal(box.mailboxId, "F1");
      const message = await imap.fetchOne("1", { uid: true, threadId: true });
      assert.ok(message);
      assert.equal(message.emailId, "M1");
      // THREADID NIL: no thread id.
      assert.ok(!message.threadId, `threadId ${message.threadId}`);
      assert.deepEqual(await imap.search({ emailId: message.emailId }), [1]);
      await imap.messageCopy("1", "Work");
      const work = await imap.mailboxOpen("Work");
      assert.equal(work.mailboxId, "F6");
      const copy = await imap.fetchOne("1", { uid: true });
      assert.ok(copy);
      assert.equal(copy.emailId, message.emailId);
    } finally {
      await imap.logout();
    }
  });
});

Deno.test("imaplib: PREVIEW, METADATA, CREATE USE and UNAUTHENTICATE as raw commands", async () => {
  await withServer(async (server) => {
    const result = await withTimeout(
      imaplibSession(
        server,
        "carol",
        String.raw`
caps = m.capability()[1][0].decode().split()
out["caps"] = sorted(c for c in caps if c in ("OBJECTID", "PREVIEW", "METADATA", "UNAUTHENTICATE", "CREATE-SPECIAL-USE"))
m.append("INBOX", None, None, b"Subject: p\r\n\r\nHello,\r\n  preview\r\n")
m.select("INBOX")
typ, data = m.fetch("1", "(PREVIEW)")
out["preview"] = data[0].decode()
out["select_id"] = m.untagged_responses.pop("MAILBOXID", [b""])[-1].decode()
typ, data = m.xatom("CREATE", "Archived", r"(USE (\Archive))")
out["create"] = [typ, m.untagged_responses.pop("MAILBOXID", [b""])[0].decode()]
typ, data = m.list('""', "Archived")
out["list"] = data[0].decode()
typ, data = m.xatom("SETMETADATA", "INBOX", '(/private/comment "kept")')
out["set"] = typ
typ, data = m.xatom("GETMETADATA", "INBOX", "/private/comment")
out["get"] = [typ, [[x.decode() for x in d] if isinstance(d, tuple) else d.decode() for d in m.untagged_responses.pop("METADATA", [])]]
typ, data = m.xatom("UNAUTHENTICATE")
out["unauthenticate"] = typ
m.state = "NONAUTH"
typ, data = m.capability()
out["caps_after"] = data[0].decode()
out["relogin"] = m.login("carol", "pw")[0]
`,
      ),
      "imaplib",
      20_000,
    );
    assert.deepEqual(result, {
      caps: ["CREATE-SPECIAL-USE", "METADATA", "OBJECTID", "PREVIEW", "UNAUTHENTICATE"],
      preview: '1 (PREVIEW "Hello, preview")',
      select_id: "(F1)",
      create: ["OK", "(F6)"],
      list: '(\\HasNoChildren \\Archive) "/" Archived',
      set: "OK",
      get: ["OK", [["INBOX (/private/comment {4}", "kept"], ")"]],
      unauthenticate: "OK",
      caps_after: "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ENABLE ID AUTH=PLAIN",
      relogin: "OK",
    });
    assert.equal(server.store.getMailbox("carol", "Archived")?.specialUse, "\\Archive");
  });
});
