/**
 * Jakarta Mail 2.0 (Debian's libjakarta-mail-java, the client GreenMail users test with)
 * against a live server on port 0, through `java/ElektromailClient.java` (one JVM run a test):
 * - SMTP: `Transport.send` of text + HTML alternative + attachment with a UTF-8 subject and
 *   file name, AUTH as a configured user over required STARTTLS and over implicit TLS (with
 *   8BITMIME), trusting the served certificate through a truststore built with `keytool`
 *   (server identity checked); a wrong password and an untrusted certificate fail. The stored
 *   message is checked through the HTTP API.
 * - IMAP: `Store.connect` over IMAPS, STARTTLS and plain; `getMessages()`, `getContent()` of
 *   that multipart (BODYSTRUCTURE, then BODY[n] per part, 16 KiB partial fetches for the
 *   attachment), the attachment's bytes, `UIDFolder.getUID`, `writeTo`.
 * - IDLE: `IMAPFolder.idle()` sees a message the test delivers over SMTP while it idles.
 *
 * Mailbox operations are in jakarta_imap_test.ts. Without Java or the jars the tests are
 * skipped with a note, except in CI (`CI` set), where that is a failure: `.ci/run` installs
 * them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sendMail } from "../process.ts";
import {
  httpJson,
  jakartaTest,
  plainMessage,
  ports,
  runClient,
  sha256,
  startClient,
  truststore,
} from "./jakarta_helpers.ts";
import { stored, withWorld } from "./smtp_client_helpers.ts";

const SUBJECT = "Grüße aus Köln – Bericht ✓ 📬";
const TEXT = "Hallo Bob,\r\nanbei der Bericht: Größe 18 KiB ✓\r\n";
const HTML = "<p>Hallo Bob,</p><p>anbei der <b>Bericht</b>: Größe 18 KiB ✓</p>";
const FILENAME = "Übersicht ✓.bin";

jakartaTest(
  "Transport.send over required STARTTLS with AUTH; IMAPS getContent() reads the multipart back",
  async () => {
    await withWorld(async ({ server, dir, caFile, otherCaFile }) => {
      const trusted = await truststore(caFile, `${dir}/trusted.p12`);
      const other = await truststore(otherCaFile, `${dir}/other.p12`);
      // Over 16 KiB encoded: Jakarta Mail fetches it in 16 KiB pieces (BODY[2]<0.16384>, ...).
      const attachment = crypto.getRandomValues(new Uint8Array(18 * 1024));
      await Deno.writeFile(`${dir}/attachment.bin`, attachment);

      const out = await runClient([
        ...ports(server),
        "user=alice",
        "password=secret",
        "smtp=starttls",
        "from=alice@corp.example",
        "to=bob@example.com",
        `subject=${SUBJECT}`,
        `text=${TEXT}`,
        `html=${HTML}`,
        `attachment=${dir}/attachment.bin`,
        `filename=${FILENAME}`,
        "send",
        "smtp=smtps",
        "8bit=true",
        "to=carol@example.com",
        "as=send-smtps",
        "send",
        "smtp=starttls",
        "8bit=",
        "to=bob@example.com",
        "password=wrong",
        "as=bad-password",
        "send",
        `trust=${other}`,
        "password=secret",
        "as=untrusted",
        "send",
        "trust=",
        "user=bob",
        "password=hunter2",
        "imap=imaps",
        "read",
        "imap=starttls",
        "as=imap-starttls",
        "login",
        `trust=${other}`,
        "as=imaps-untrusted",
        "imap=imaps",
        "login",
        "trust=",
        "imap=plain",
        "password=wrong",
        "as=imap-bad-password",
        "login",
      ], trusted);

      // SMTP: one message, submitted with STARTTLS and AUTH.
      out.ok("send");
      assert.match(out.failed("bad-password"), /^AuthenticationFailedException: 535 5\.7\.8/);
      assert.match(
        out.failed("untrusted"),
        /Could not convert socket to TLS.*SSLHandshakeException/,
      );
      assert.equal(server.store.listMessages("bob", "INBOX").length, 1);
      assert.match(stored(server, "bob").received, /with ESMTPSA id /);

      // Implicit TLS, with the text parts sent as 8bit (8BITMIME).
      out.ok("send-smtps");
      const smtps = stored(server, "carol");
      assert.match(smtps.received, /with ESMTPSA id /);
      assert.match(smtps.body, /Content-Transfer-Encoding: 8bit/);
      const carol = await httpJson(server, "/messages/carol:INBOX:1");
      assert.equal(carol.subject, SUBJECT);
      assert.equal(carol.text, TEXT);
      assert.equal(carol.html, HTML);

      // The HTTP API decodes what Jakarta Mail built.
      const message = await httpJson(server, "/messages/bob:INBOX:1");
      assert.equal(message.subject, SUBJECT);
      assert.equal(message.messageId, out.get("send.message-id"));
      assert.equal(message.text, TEXT);
      assert.equal(message.html, HTML);
      assert.deepEqual(message.attachments, [{
        part: "2",
        filename: FILENAME,
        contentType: "application/octet-stream",
        size: attachment.length,
        disposition: "attachment",
        contentId: null,
      }]);
      const part = await fetch(
        `http://127.0.0.1:${server.ports.http}/messages/bob:INBOX:1/parts/2`,
      );
      assert.deepEqual(new Uint8Array(await part.arrayBuffer()), attachment);

      // IMAPS: the same message, part by part.
      out.ok("read");
      const meta = server.store.getMessage("bob", "INBOX", 1)!;
      assert.equal(out.get("read.count"), "1");
      assert.equal(out.get("read.uidvalidity"), "1");
      assert.equal(out.get("read.uid"), "1");
      assert.equal(out.get("read.subject"), SUBJECT);
      assert.equal(out.get("read.from"), "[Jakarta Sender <alice@corp.example>]");
      assert.equal(out.get("read.to"), "[bob@example.com]");
      assert.equal(out.get("read.size"), String(meta.size));
      assert.equal(out.get("read.received"), String(Math.floor(meta.internalDate / 1000) * 1000));
      assert.equal(out.get("read.message-id"), out.get("send.message-id"));
      assert.equal(out.get("read.body.type"), "multipart/mixed");
      assert.equal(out.get("read.body.parts"), "2");
      assert.equal(out.get("read.body.1.type"), "multipart/alternative");
      assert.equal(out.get("read.body.1.parts"), "2");
      assert.equal(out.get("read.body.1.1.type"), "text/plain");
      assert.equal(out.get("read.body.1.1.text"), TEXT);
      assert.equal(out.get("read.body.1.2.type"), "text/html");
      assert.equal(out.get("read.body.1.2.text"), HTML);
      assert.equal(out.get("read.body.2.type"), "application/octet-stream");
      assert.equal(out.get("read.body.2.disposition"), "attachment");
      assert.equal(out.get("read.body.2.filename"), FILENAME);
      assert.equal(out.get("read.body.2.bytes"), String(attachment.length));
      assert.equal(out.get("read.body.2.sha256"), await sha256(attachment));
      assert.equal(
        out.get("read.sha256"),
        await sha256(server.store.getRaw("bob", "INBOX", 1)!),
        "writeTo gives the stored bytes",
      );
      // Fetching the parts' bodies (not PEEK) set \Seen.
      assert.equal(out.get("read.seen"), "true");
      assert.deepEqual(server.store.getMessage("bob", "INBOX", 1)!.flags, ["\\Seen"]);

      // IMAP STARTTLS logs in; another certificate and a wrong password do not.
      out.ok("imap-starttls");
      assert.equal(out.get("imap-starttls.messages"), "1");
      assert.match(out.failed("imaps-untrusted"), /SSLHandshakeException/);
      assert.match(out.failed("imap-bad-password"), /^AuthenticationFailedException:/);
    }, { imapsPort: 0 });
  },
);

jakartaTest("IMAPFolder.idle() reports a message delivered over SMTP while idling", async () => {
  await withWorld(async ({ server }) => {
    server.store.append("alice", "INBOX", plainMessage("already there"));
    const client = await startClient([
      ...ports(server),
      "user=alice",
      "password=secret",
      "timeout=30",
      "idle",
    ]);
    try {
      // Printed once the server has answered IDLE with its continuation.
      await client.waitFor("idle.ready");
      const reply = await sendMail(
        server.ports.smtp,
        "alice@corp.example",
        "From: app@example.com\r\nSubject: arrived while idling\r\n\r\nhello\r\n",
      );
      assert.match(reply, /^250 /);
      const out = await client.finish();
      out.ok("idle");
      assert.equal(out.get("idle.before"), "1");
      assert.equal(out.get("idle.arrived"), "2");
      assert.equal(out.get("idle.arrived.uid"), "2");
      assert.equal(out.get("idle.arrived.subject"), "arrived while idling");
      assert.equal(out.get("idle.after"), "2");
    } finally {
      await client.close();
    }
  }, { imapsPort: 0 });
});
