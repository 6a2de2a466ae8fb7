/**
 * Real SMTP clients against a live server on port 0: nodemailer (npm), Python's smtplib and
 * curl. Stored bytes are read back through `server.store`.
 *
 * @module
 */

import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { parseUsers, testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { splitReceived } from "../harness/smtp_received.ts";
import { Buffer } from "node:buffer";

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

async function withServer(
  fn: (server: Elektromail) => Promise<void>,
  users = "",
): Promise<void> {
  const server = await startElektromail(
    testConfig({ httpPort: null, users: users ? parseUsers(users) : [] }),
  );
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** The stored message minus the trace headers, as a Latin-1 string (byte-exact). */
function storedBody(server: Elektromail, user: string, uid = 1): string {
  const raw = server.store.getRaw(user, "INBOX", uid);
  assert.ok(raw, `no message ${uid} for ${user}`);
  return latin1.decode(splitReceived(raw).body);
}

function storedReceived(server: Elektromail, user: string, uid = 1): string {
  return splitReceived(server.store.getRaw(user, "INBOX", uid)!).received;
}

function transport(server: Elektromail, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port: server.ports.smtp,
    secure: false,
    ignoreTLS: true,
    ...extra,
  });
}

/** Builds a message with nodemailer's composer, CRLF line ends, exactly as it would send it. */
async function compose(mail: Record<string, unknown>): Promise<Uint8Array> {
  const stream = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: "windows",
  });
  const info = await stream.sendMail(mail);
  stream.close();
  return new Uint8Array(info.message as unknown as ArrayBuffer);
}

Deno.test("nodemailer: plain message without auth", async () => {
  await withServer(async (server) => {
    const t = transport(server);
    const info = await t.sendMail({
      from: "app@example.com",
      to: "bob@example.com",
      subject: "Plain hello",
      text: "Hello Bob.\n.leading dot line\nBye.",
    });
    t.close();
    assert.deepEqual(info.accepted, ["bob@example.com"]);
    assert.match(info.response, /^250 2\.0\.0 OK queued as EM/);
    const body = storedBody(server, "bob");
    assert.match(body, /^Subject: Plain hello\r$/m);
    assert.ok(body.endsWith("Hello Bob.\r\n.leading dot line\r\nBye.\r\n"), JSON.stringify(body));
    assert.match(storedReceived(server, "bob"), / with ESMTP id /);
  });
});

for (const method of ["PLAIN", "LOGIN"]) {
  Deno.test(`nodemailer: AUTH ${method}, raw message stored byte for byte`, async () => {
    await withServer(async (server) => {
      const raw = await compose({
        from: "alice@example.com",
        to: "carol@example.com",
        subject: `Auth ${method}`,
        text: "authenticated",
        messageId: "<fixed@example.com>",
        date: new Date("2026-01-02T03:04:05Z"),
      });
      const t = transport(server, { auth: { user: "alice", pass: "secret" }, authMethod: method });
      await t.sendMail({
        envelope: { from: "alice@example.com", to: ["carol@example.com"] },
        raw,
      });
      // Wrong password: rejected with 535.
      const bad = transport(server, { auth: { user: "alice", pass: "nope" }, authMethod: method });
      await assert.rejects(
        bad.sendMail({ from: "alice@example.com", to: "carol@example.com", text: "x" }),
        (error: { responseCode?: number; response?: string }) =>
          error.responseCode === 535 && /5\.7\.8/.test(error.response ?? ""),
      );
      t.close();
      bad.close();
      assert.equal(storedBody(server, "carol"), latin1.decode(raw));
      assert.match(storedReceived(server, "carol"), / with ESMTPA id /);
      assert.equal(server.store.listMessages("carol", "INBOX").length, 1);
    }, "alice:secret");
  });
}

Deno.test("nodemailer: attachments and UTF-8 addresses (SMTPUTF8, 8BITMIME)", async () => {
  await withServer(async (server) => {
    const binary = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
    const mail = {
      from: "Jörg <jörg@exämple.com>",
      to: "zoë@example.com, plain@example.com",
      subject: "Grüße — attachments ✓",
      text: "Ünïcödé body\n.dot\n",
      html: "<p>Ünïcödé</p>",
      messageId: "<utf8@example.com>",
      date: new Date("2026-01-02T03:04:05Z"),
      attachments: [
        { filename: "data.bin", content: Buffer.from(binary) },
        { filename: "notes — ü.txt", content: "line 1\nline 2\n" },
      ],
    };
    const raw = await compose(mail);
    const t = transport(server);
    const info = await t.sendMail({
      envelope: { from: "jörg@exämple.com", to: ["zoë@example.com", "plain@example.com"] },
      raw,
    });
    t.close();
    assert.equal(info.accepted.length, 2);
    // nodemailer's SMTP data stream turns the composer's bare LFs (in QP text) into CRLF.
    const text = latin1.decode(raw).replace(/\r?\n/g, "\r\n");
    for (const user of ["zoë", "plain"]) {
      assert.equal(storedBody(server, user), text, user);
    }
    assert.match(storedReceived(server, "plain"), / with UTF8SMTP id /);
    // Raw UTF-8 (8-bit) header bytes went through untouched, and the attachment is intact.
    assert.match(text, /^From: =\?UTF-8\?Q\?J=C3=B6rg\?= <jÃ¶rg@xn--exmple-cua\.com>\r$/m);
    const b64 = btoa(String.fromCharCode(...binary));
    assert.ok(text.replace(/\r\n/g, "").includes(b64));
  });
});

async function python(script: string, port: number): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: ["-c", script, String(port)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `python3 failed:\n${err}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("python smtplib: send_message, login, sendmail to several recipients", async () => {
  await withServer(async (server) => {
    const out = await python(
      `
import smtplib, sys
from email.message import EmailMessage
port = int(sys.argv[1])
with smtplib.SMTP("127.0.0.1", port) as s:
    code, _ = s.ehlo("py.example")
    assert code == 250
    assert s.has_extn("size") and s.has_extn("pipelining") and s.has_extn("smtputf8"), s.esmtp_features
    assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
    s.login("alice", "secret")
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.com"
    msg["Subject"] = "from smtplib"
    msg.set_content("hello from python\\n.starts with a dot\\n")
    s.send_message(msg)
    raw = b"From: alice@example.com\\r\\nTo: x@example.com, y@example.com\\r\\nSubject: multi\\r\\n\\r\\nline\\r\\n..two dots\\r\\n"
    refused = s.sendmail("alice@example.com", ["x@example.com", "y@example.com", "x+tag@example.com"], raw)
    assert refused == {}, refused
    try:
        s.rcpt("nobody@example.com")
    except smtplib.SMTPException:
        pass
    code, resp = s.verify("bob")
    print(code)
with smtplib.SMTP("127.0.0.1", port) as s:
    try:
        s.login("alice", "wrong")
        print("login accepted?!")
    except smtplib.SMTPAuthenticationError as e:
        print(e.smtp_code, e.smtp_error.decode())
`,
      server.ports.smtp,
    );
    assert.deepEqual(out.trim().split("\n"), [
      "252",
      "535 5.7.8 Authentication credentials invalid",
    ]);
    const bob = storedBody(server, "bob");
    assert.match(bob, /^Subject: from smtplib\r$/m);
    assert.ok(
      bob.endsWith("\r\n\r\nhello from python\r\n.starts with a dot\r\n"),
      JSON.stringify(bob),
    );
    const expected =
      "From: alice@example.com\r\nTo: x@example.com, y@example.com\r\nSubject: multi\r\n\r\nline\r\n..two dots\r\n";
    // x and x+tag are one user but two addresses: two copies, each with its envelope.
    assert.deepEqual(
      server.store.listMessages("x", "INBOX").map((meta) => ({
        from: meta.envelope?.from,
        to: meta.envelope?.to,
      })),
      [
        { from: "alice@example.com", to: "x@example.com" },
        { from: "alice@example.com", to: "x+tag@example.com" },
      ],
    );
    assert.equal(storedBody(server, "x"), expected);
    assert.equal(storedBody(server, "x", 2), expected);
    assert.equal(storedBody(server, "y"), expected);
    assert.match(storedReceived(server, "y"), / with ESMTPA id /);
  }, "alice:secret");
});

Deno.test("curl: smtp:// upload of a file", async () => {
  await withServer(async (server) => {
    const dir = await Deno.makeTempDir();
    try {
      const message = "From: curl@example.com\r\nTo: dan@example.com\r\nSubject: via curl\r\n\r\n" +
        "curl body\r\n.dot line\r\n\u00e9t\u00e9\r\n";
      const file = `${dir}/mail.eml`;
      await Deno.writeFile(file, utf8.encode(message));
      const { code, stderr } = await new Deno.Command("curl", {
        args: [
          "-sS",
          `smtp://127.0.0.1:${server.ports.smtp}`,
          "--mail-from",
          "curl@example.com",
          "--mail-rcpt",
          "dan@example.com",
          "--mail-rcpt",
          "eve+t@example.com",
          "-T",
          file,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const expected = latin1.decode(utf8.encode(message));
      assert.equal(storedBody(server, "dan"), expected);
      assert.equal(storedBody(server, "eve"), expected);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("nodemailer: eight connections at once into SQLite, every 250'd message committed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-shared-commit-" });
  const dbPath = `${dir}/mail.db`;
  try {
    const server = await startElektromail(testConfig({ httpPort: null, dbPath }));
    const subjects: string[] = [];
    try {
      // Eight pooled connections sending together: deliveries of one turn share a commit
      // (Store.shareCommit), and each 250 must wait for the commit its message is in.
      const t = transport(server, { pool: true, maxConnections: 8, maxMessages: 1000 });
      const sends = Array.from({ length: 200 }, (_, i) => {
        subjects.push(`Shared ${i}`);
        return t.sendMail({
          from: "app@example.com",
          to: `user${i % 5}@example.com`,
          subject: `Shared ${i}`,
          text: `Message ${i}.`,
        });
      });
      // A hang guard only: a 250 that never comes fails here, not at nodemailer's 10 minutes.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const infos = await Promise.race([
        Promise.all(sends),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no 250 for 30 s")), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      t.close();
      for (const info of infos) assert.match(info.response, /^250 2\.0\.0 OK queued as /);
    } finally {
      await server.stop();
    }
    // What the file holds, read by a store of its own: every message, once, UIDs 1..n a user.
    const { openSqliteStore } = await import("../../lib/store/mod.ts");
    const store = openSqliteStore(dbPath);
    const stored: string[] = [];
    for (let u = 0; u < 5; u++) {
      const messages = store.listMessages(`user${u}`, "INBOX");
      assert.deepEqual(messages.map((m) => m.uid), messages.map((_, i) => i + 1));
      for (const m of messages) {
        const raw = latin1.decode(store.getRaw(`user${u}`, "INBOX", m.uid)!);
        stored.push(raw.match(/^Subject: (.*)\r$/m)![1]);
      }
    }
    store.close();
    assert.deepEqual(stored.sort(), [...subjects].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
