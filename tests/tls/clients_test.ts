/**
 * TLS with real clients, each trusting exactly the certificate served at `GET /tls/cert`
 * (verification stays on): nodemailer (`requireTLS` STARTTLS, `secure`), imapflow (`secure`,
 * automatic STARTTLS), Python smtplib (`starttls`, `SMTP_SSL`) and imaplib (`starttls`,
 * `IMAP4_SSL`), curl. A client that does not trust the certificate must fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { DEFAULT_TLS, testConfig, type TlsConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";

const decoder = new TextDecoder();

interface TlsServer {
  server: Elektromail;
  /** The PEM as a client fetches it. */
  ca: string;
}

async function withTlsServer(
  tls: Partial<TlsConfig>,
  fn: (ctx: TlsServer) => Promise<void>,
  users = "",
): Promise<void> {
  const server = await startElektromail(testConfig({
    tls: { ...DEFAULT_TLS, smtpsPort: 0, imapsPort: 0, ...tls },
    users: users ? [{ user: "alice", password: users, address: null }] : [],
  }));
  try {
    const response = await fetch(`http://127.0.0.1:${server.ports.http}/tls/cert`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-pem-file");
    assert.equal(response.headers.get("x-elektromail-fingerprint"), server.tls!.fingerprint);
    const ca = await response.text();
    assert.equal(ca, server.tls!.cert);
    await fn({ server, ca });
  } finally {
    await server.stop();
  }
}

function received(server: Elektromail, user: string, uid = 1): string {
  const raw = server.store.getRaw(user, "INBOX", uid);
  assert.ok(raw, `no message ${uid} for ${user}`);
  return decoder.decode(raw);
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out: ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

const MAIL = { from: "app@example.com", subject: "over TLS", text: "secret body" };

Deno.test("nodemailer: requireTLS upgrades with STARTTLS; secure: true on the SMTPS port", async () => {
  await withTlsServer({ required: true }, async ({ server, ca }) => {
    const starttls = nodemailer.createTransport({
      host: "127.0.0.1",
      port: server.ports.smtp,
      secure: false,
      requireTLS: true,
      auth: { user: "alice", pass: "secret" },
      tls: { ca },
    });
    const info = await withTimeout(
      starttls.sendMail({ ...MAIL, to: "bob@example.com" }),
      "send",
    ) as {
      accepted: string[];
    };
    assert.deepEqual(info.accepted, ["bob@example.com"]);
    assert.match(received(server, "bob"), /with ESMTPSA id EM/);
    starttls.close();

    const implicit = nodemailer.createTransport({
      host: "127.0.0.1",
      port: server.ports.smtps!,
      secure: true,
      tls: { ca },
    });
    await withTimeout(implicit.sendMail({ ...MAIL, to: "carol@example.com" }), "send smtps");
    assert.match(received(server, "carol"), /with ESMTPS id ES/);
    implicit.close();

    // Without the certificate, verification fails: nothing is sent.
    const untrusting = nodemailer.createTransport({
      host: "127.0.0.1",
      port: server.ports.smtps!,
      secure: true,
    });
    await assert.rejects(
      withTimeout(untrusting.sendMail({ ...MAIL, to: "dave@example.com" }), "untrusted"),
      /certificate|self.signed|UnknownIssuer|unknown ?ca/i,
    );
    untrusting.close();
    assert.ok(!server.store.getMailbox("dave", "INBOX"), "nothing delivered");
  }, "secret");
});

function imapClient(port: number, ca: string, secure: boolean): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure,
    tls: { ca },
    auth: { user: "alice", pass: "secret" },
    logger: false,
    disableAutoIdle: true,
  });
}

Deno.test("imapflow: secure: true on the IMAPS port, STARTTLS on the plain one", async () => {
  await withTlsServer({ required: true }, async ({ server, ca }) => {
    server.store.ensureUser("alice");
    server.store.append("alice", "INBOX", new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n"));
    for (
      const [port, secure] of [[server.ports.imaps!, true], [server.ports.imap, false]] as const
    ) {
      // With TLS required, LOGIN before STARTTLS would be refused: logging in proves the
      // plain-port client upgraded (imapflow does STARTTLS when it is advertised).
      const imap = imapClient(port, ca, secure);
      await withTimeout(imap.connect(), `connect ${secure ? "imaps" : "imap+starttls"}`);
      try {
        assert.equal(imap.capabilities.has("STARTTLS"), false, "not offered once encrypted");
        assert.equal(imap.capabilities.has("LOGINDISABLED"), false);
        const box = await imap.mailboxOpen("INBOX");
        assert.equal(box.exists, 1);
        const message = await imap.fetchOne("1", { source: true });
        assert.ok(message);
        assert.equal(decoder.decode(message.source), "Subject: hi\r\n\r\nbody\r\n");
      } finally {
        await imap.logout();
      }
    }
  }, "secret");
});

async function python(script: string, args: Array<string | number>): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: ["-c", script, ...args.map(String)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `python3 failed:\n${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/** Python's ssl context trusting only the server's certificate, with strict X.509 checks. */
const PY_CONTEXT = `
import ssl, sys
def context():
    ctx = ssl.create_default_context(cadata=sys.argv[1])
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx
`;

Deno.test("python smtplib: starttls() and SMTP_SSL, verifying against the served certificate", async () => {
  await withTlsServer({}, async ({ server, ca }) => {
    const out = await python(
      PY_CONTEXT + `
import smtplib
smtp, smtps = int(sys.argv[2]), int(sys.argv[3])
with smtplib.SMTP("127.0.0.1", smtp) as s:
    s.ehlo("py.example")
    assert s.has_extn("starttls"), s.esmtp_features
    code, text = s.starttls(context=context())
    print(code, text.decode())
    s.ehlo("py.example")
    assert not s.has_extn("starttls"), s.esmtp_features
    s.sendmail("py@example.com", ["erin@example.com"], b"Subject: py starttls\\r\\n\\r\\nbody\\r\\n")
with smtplib.SMTP_SSL("127.0.0.1", smtps, context=context()) as s:
    s.login("erin", "any")
    s.sendmail("py@example.com", ["erin@example.com"], b"Subject: py smtps\\r\\n\\r\\nbody\\r\\n")
try:
    smtplib.SMTP_SSL("127.0.0.1", smtps, context=ssl.create_default_context())
    print("untrusted certificate accepted?!")
except ssl.SSLCertVerificationError as e:
    print("refused:", e.verify_message)
`,
      [ca, server.ports.smtp, server.ports.smtps!],
    );
    assert.deepEqual(out.trim().split("\n"), [
      "220 2.0.0 Ready to start TLS",
      "refused: self-signed certificate",
    ]);
    assert.match(received(server, "erin", 1), /with ESMTPS id EM[\s\S]*Subject: py starttls/);
    assert.match(received(server, "erin", 2), /with ESMTPSA id ES[\s\S]*Subject: py smtps/);
  });
});

Deno.test("python imaplib: IMAP4.starttls() and IMAP4_SSL, verifying against the certificate", async () => {
  await withTlsServer({ required: true }, async ({ server, ca }) => {
    server.store.ensureUser("alice");
    server.store.append("alice", "INBOX", new TextEncoder().encode("Subject: one\r\n\r\n1\r\n"));
    const out = await python(
      PY_CONTEXT + `
import imaplib
imap, imaps = int(sys.argv[2]), int(sys.argv[3])
m = imaplib.IMAP4("127.0.0.1", imap)
print(" ".join(sorted(c for c in m.capabilities if c in ("STARTTLS", "LOGINDISABLED", "AUTH=PLAIN"))))
try:
    m.login("alice", "secret")
    print("login before TLS accepted?!")
except imaplib.IMAP4.error as e:
    print("before TLS:", e)
print(m.starttls(ssl_context=context())[0])
print(" ".join(sorted(c for c in m.capabilities if c in ("STARTTLS", "LOGINDISABLED", "AUTH=PLAIN"))))
m.login("alice", "secret")
print(m.select("INBOX"))
m.logout()
s = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=context())
s.login("alice", "secret")
s.select("INBOX")
typ, data = s.fetch("1", "(BODY.PEEK[])")
print(data[0][1].decode().splitlines()[0])
s.logout()
`,
      [ca, server.ports.imap, server.ports.imaps!],
    );
    assert.deepEqual(out.trim().split("\n"), [
      "LOGINDISABLED STARTTLS",
      "before TLS: b'[PRIVACYREQUIRED] Use STARTTLS before logging in'",
      "OK",
      "AUTH=PLAIN",
      "('OK', [b'1'])",
      "Subject: one",
    ]);
  }, "secret");
});

Deno.test("curl: SMTP with --ssl-reqd (STARTTLS) and IMAPS, trusting --cacert", async () => {
  await withTlsServer({}, async ({ server, ca }) => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-curl-" });
    try {
      await Deno.writeTextFile(`${dir}/ca.pem`, ca);
      await Deno.writeTextFile(`${dir}/mail.txt`, "Subject: curl tls\r\n\r\nhello\r\n");
      const curl = async (args: string[]) => {
        const output = await new Deno.Command("curl", {
          args: ["-sS", "--max-time", "10", "--cacert", `${dir}/ca.pem`, ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(output.code, 0, `curl ${args.join(" ")}: ${decoder.decode(output.stderr)}`);
        return decoder.decode(output.stdout);
      };
      await curl([
        "--ssl-reqd",
        `smtp://127.0.0.1:${server.ports.smtp}`,
        "--mail-from",
        "c@example.com",
        "--mail-rcpt",
        "frank@example.com",
        "-T",
        `${dir}/mail.txt`,
      ]);
      assert.match(received(server, "frank"), /with ESMTPS id[\s\S]*Subject: curl tls/);
      const listing = await curl([
        "--user",
        "frank:any",
        `imaps://127.0.0.1:${server.ports.imaps}/INBOX;UID=1`,
      ]);
      assert.match(listing, /Subject: curl tls/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("GET /tls/cert is 404 with a JSON error when TLS is off", async () => {
  const server = await startElektromail(testConfig());
  try {
    const response = await fetch(`http://127.0.0.1:${server.ports.http}/tls/cert`);
    assert.equal(response.status, 404);
    assert.match(response.headers.get("content-type")!, /^application\/json/);
    assert.deepEqual(await response.json(), {
      error: "TLS is off: start Elektromail with ELEKTROMAIL_TLS=true (--tls)",
    });
    assert.equal(server.tls, null);
    assert.equal(server.ports.smtps, null);
  } finally {
    await server.stop();
  }
});
