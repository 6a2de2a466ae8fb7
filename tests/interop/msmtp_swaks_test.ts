/**
 * Two command-line SMTP clients that containers and CI pipelines point at dev mail servers,
 * run against a live server on port 0: msmtp (the sendmail replacement) and swaks (the SMTP
 * test tool). Plain sends, AUTH PLAIN and LOGIN against configured users, STARTTLS and
 * implicit TLS trusting the server's generated certificate (`server.tls.cert`), `+tag`
 * recipients, pipelining, an 8-bit body and a message over the size limit. Each delivery is
 * checked on the server (the store, or the HTTP API): the right user's INBOX holds the bytes
 * the client sent, after the `Received:` header the server prepends.
 *
 * What the clients themselves change, and so what the checks allow for:
 * - msmtp sends stdin with CRLF line ends and adds `Date:`, `Message-ID:` and `From:` when
 *   they are missing (the messages here carry all three); with `-t` it drops `Bcc:`.
 * - swaks sends a `--data` file with CRLF line ends, dot-stuffed, and ends it with
 *   CRLF "." CRLF itself: the file is the message without its last line end.
 *
 * Without msmtp or swaks their tests are skipped with a note, except in CI (`CI` set), where
 * a missing client is a failure: `.ci/run` installs both.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_LIMITS,
  DEFAULT_TLS,
  parseUsers,
  testConfig,
  type TlsConfig,
} from "../../lib/config.ts";
import { generateSelfSigned } from "../../lib/net/self_signed.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { splitReceived } from "../harness/smtp_received.ts";

const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";
const CLIENTS = {
  msmtp: { path: Deno.env.get("MSMTP_PATH") ?? "/usr/bin/msmtp", variable: "MSMTP_PATH" },
  swaks: { path: Deno.env.get("SWAKS_PATH") ?? "/usr/bin/swaks", variable: "SWAKS_PATH" },
};
type Client = keyof typeof CLIENTS;

/** alice has a configured address; both have passwords, so only these credentials log in. */
const USERS = "alice:alice@corp.example:secret,bob:hunter2";
const MAX_MESSAGE_SIZE = 32 * 1024;

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const available: Record<Client, boolean> = {
  msmtp: installed(CLIENTS.msmtp.path),
  swaks: installed(CLIENTS.swaks.path),
};
for (const [name, { path, variable }] of Object.entries(CLIENTS)) {
  if (!available[name as Client] && !IN_CI) {
    console.warn(
      `${name} tests skipped: no ${name} at ${path} (apt-get install ${name}, or set ${variable})`,
    );
  }
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();
const decoder = new TextDecoder();

function clientTest(client: Client, name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `${client}: ${name}`,
    ignore: !available[client] && !IN_CI,
    fn: async () => {
      const { path } = CLIENTS[client];
      assert.ok(available[client], `${client} is required in CI (${path})`);
      await fn();
    },
  });
}

/** One test's world: a server with users, TLS and a small size limit, and a scratch folder. */
interface World {
  readonly server: Elektromail;
  readonly dir: string;
  /** The server's certificate (`server.tls.cert`) as a PEM file the clients trust. */
  readonly caFile: string;
  /** A certificate for the same names that the server does not use. */
  readonly otherCaFile: string;
  readonly smtp: number;
  readonly smtps: number;
}

async function withWorld(
  fn: (world: World) => Promise<void>,
  tls: Partial<TlsConfig> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-msmtp-swaks-" });
  const server = await startElektromail(testConfig({
    users: parseUsers(USERS),
    tls: { ...DEFAULT_TLS, smtpsPort: 0, ...tls },
    limits: { ...DEFAULT_LIMITS, maxMessageSize: MAX_MESSAGE_SIZE },
  }));
  try {
    assert.ok(server.tls, "TLS is on");
    const caFile = `${dir}/elektromail.pem`;
    await Deno.writeTextFile(caFile, server.tls.cert);
    const otherCaFile = `${dir}/other.pem`;
    const other = await generateSelfSigned({ dns: ["localhost"], ips: ["127.0.0.1"] });
    await Deno.writeTextFile(otherCaFile, other.cert);
    await fn({
      server,
      dir,
      caFile,
      otherCaFile,
      smtp: server.ports.smtp,
      smtps: server.ports.smtps!,
    });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A finished client run: exit status and everything it printed. */
interface Run {
  readonly code: number;
  readonly output: string;
}

async function run(program: string, args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000), // a hang guard, not a timing assertion
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    // A client that gives up early (a refused login) may not read all of its input.
    await writer.write(utf8.encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const output = await child.output();
  const text = decoder.decode(output.stdout) + decoder.decode(output.stderr);
  assert.equal(output.signal, null, `${program} was killed (hang guard):\n${text}`);
  return { code: output.code, output: text };
}

/**
 * Runs msmtp with `message` on stdin; `-v` prints its SMTP transcript on stdout (lines as
 * received, so with CRLF: made LF here).
 */
async function msmtp(args: string[], message: string): Promise<Run> {
  const { code, output } = await run(CLIENTS.msmtp.path, ["-v", ...args], message);
  return { code, output: output.replaceAll("\r\n", "\n") };
}

/** msmtp's command-line account for the plain port, with an envelope sender. */
function msmtpPlain(world: World): string[] {
  return ["--host=127.0.0.1", `--port=${world.smtp}`, "--from=app@example.com"];
}

async function msmtpSends(args: string[], message: string): Promise<Run> {
  const result = await msmtp(args, message);
  assert.equal(result.code, 0, `msmtp exited with ${result.code}:\n${result.output}`);
  return result;
}

/**
 * Runs swaks against 127.0.0.1 (the plain port unless `args` has `--port`) with `message`
 * as its `--data` file, written without its last line end (swaks adds CRLF "." CRLF). Its
 * transcript, errors included, comes in order on stdout.
 */
async function swaks(world: World, args: string[], message?: string | Uint8Array): Promise<Run> {
  const data: string[] = [];
  if (message !== undefined) {
    const bytes = typeof message === "string" ? utf8.encode(message) : message;
    assert.equal(latin1.decode(bytes.subarray(-2)), "\r\n", "a message ends with CRLF");
    const file = `${world.dir}/swaks-data.eml`;
    await Deno.writeFile(file, bytes.subarray(0, -2));
    data.push("--data", `@${file}`);
  }
  return await run(CLIENTS.swaks.path, [
    "--server",
    "127.0.0.1",
    ...(args.includes("--port") ? [] : ["--port", String(world.smtp)]),
    "--helo",
    "swaks.test",
    "--from",
    "app@example.com",
    "--output-file-stderr",
    "&STDOUT",
    ...data,
    ...args,
  ]);
}

async function swaksSends(
  world: World,
  args: string[],
  message?: string | Uint8Array,
): Promise<Run> {
  const result = await swaks(world, args, message);
  assert.equal(result.code, 0, `swaks exited with ${result.code}:\n${result.output}`);
  return result;
}

/** A user's INBOX message: its Received header and the rest as Latin-1 (one char a byte). */
function stored(server: Elektromail, user: string, uid = 1): { received: string; body: string } {
  const raw = server.store.getRaw(user, "INBOX", uid);
  assert.ok(raw, `${user}'s INBOX has UID ${uid}`);
  const { received, body } = splitReceived(raw);
  return { received, body: latin1.decode(body) };
}

function inboxCount(server: Elektromail, user: string): number {
  return server.store.getMailbox(user, "INBOX")
    ? server.store.listMessages(user, "INBOX").length
    : 0;
}

/** What the server must store after the Received header: the UTF-8 bytes, one char a byte. */
function bytesOf(message: string): string {
  return latin1.decode(utf8.encode(message));
}

/** A message that needs nothing added by msmtp: From, Date and Message-ID are there. */
function message(subject: string, body: string, headers: string[] = []): string {
  return [
    "From: App <app@example.com>",
    ...(headers.length > 0 ? headers : ["To: someone@example.com"]),
    `Subject: ${subject}`,
    "Date: Thu, 03 Dec 2026 08:00:23 +0000",
    `Message-ID: <${subject.replace(/\W+/g, ".")}@example.com>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
  ].join("\r\n");
}

/** Lines a client must dot-stuff and the server unstuff, 8-bit text, a line over 998 octets. */
const TRICKY_BODY = [
  "Grüße aus Köln ✓",
  ".",
  "..two dots",
  ".leading dot",
  "x".repeat(1500),
  "",
  "last line",
  "",
].join("\r\n");

// ---------------------------------------------------------------------------------- msmtp

clientTest("msmtp", "plain send, pipelined, stored byte for byte; LF input as CRLF", async () => {
  await withWorld(async (world) => {
    const { server } = world;
    const crlf = message("msmtp plain", TRICKY_BODY);
    const sent = await msmtpSends([...msmtpPlain(world), "bob@example.com"], crlf);
    // msmtp pipelines the envelope when PIPELINING is offered.
    assert.match(
      sent.output,
      /^--> MAIL FROM:<app@example\.com>\n--> RCPT TO:<bob@example\.com>\n--> DATA\n<-- 250 2\.1\.0 /m,
      sent.output,
    );
    assert.match(sent.output, /^<-- 250 2\.0\.0 OK queued as EM\w+$/m);
    const first = stored(server, "bob");
    assert.equal(first.body, bytesOf(crlf));
    assert.match(first.received, /^Received: from localhost \(\[127\.0\.0\.1\]\)\r\n/);
    assert.match(first.received, / with ESMTP id EM\w+\r\n\tfor <bob@example\.com>;/);

    // A sendmail-style caller writes LF line ends: msmtp turns them into CRLF.
    const lf = message("msmtp lf", "one\r\n.two\r\nthree\r\n").replaceAll("\r\n", "\n");
    await msmtpSends([...msmtpPlain(world), "bob+lf@example.com"], lf);
    assert.equal(stored(server, "bob", 2).body, bytesOf(lf.replaceAll("\n", "\r\n")));
    assert.equal(inboxCount(server, "bob"), 2);
  });
});

clientTest(
  "msmtp",
  "AUTH PLAIN (flags) and LOGIN (-C config file); a wrong password fails with 535",
  async () => {
    await withWorld(async (world) => {
      const { server, dir } = world;
      const flags = (password: string) => [
        ...msmtpPlain(world),
        "--auth=plain",
        "--user=alice",
        `--passwordeval=echo ${password}`,
      ];
      const configFile = async (password: string) => {
        const file = `${dir}/msmtprc-${password}`;
        const config = [
          "defaults",
          "tls off",
          "",
          "account elektromail",
          "host 127.0.0.1",
          `port ${world.smtp}`,
          "from app@example.com",
          "auth login",
          "user bob",
          `passwordeval "echo ${password}"`,
          "",
          "account default : elektromail",
          "",
        ].join("\n");
        // msmtp refuses a configuration file that others may read.
        await Deno.writeTextFile(file, config, { mode: 0o600 });
        return ["-C", file];
      };

      const plain = message("msmtp auth plain", "PLAIN\r\n");
      const sent = await msmtpSends([...flags("secret"), "carol@example.com"], plain);
      assert.match(sent.output, /^--> AUTH PLAIN \S+\n<-- 235 2\.7\.0 /m);
      const login = message("msmtp auth login", "LOGIN\r\n");
      const viaConfig = await msmtpSends(
        [...await configFile("hunter2"), "carol@example.com"],
        login,
      );
      assert.match(viaConfig.output, /^--> AUTH LOGIN\n<-- 334 VXNlcm5hbWU6\n/m);
      assert.match(viaConfig.output, /^<-- 235 2\.7\.0 /m);

      assert.equal(stored(server, "carol", 1).body, bytesOf(plain));
      assert.equal(stored(server, "carol", 2).body, bytesOf(login));
      for (const uid of [1, 2]) {
        assert.match(stored(server, "carol", uid).received, / with ESMTPA id /);
      }

      for (const args of [flags("wrong"), await configFile("wrong")]) {
        const refused = await msmtp([...args, "carol@example.com"], message("refused", "no\r\n"));
        assert.notEqual(refused.code, 0, `msmtp must fail:\n${refused.output}`);
        assert.match(refused.output, /535 5\.7\.8 Authentication credentials invalid/);
        assert.match(refused.output, /msmtp: authentication failed/);
      }
      assert.equal(inboxCount(server, "carol"), 2, "nothing delivered after a refused login");
    });
  },
);

clientTest("msmtp", "STARTTLS and implicit TLS trust the served certificate", async () => {
  await withWorld(async (world) => {
    const { server, caFile, otherCaFile } = world;
    const tlsFlags = (port: number, starttls: boolean, trust = caFile) => [
      "--host=127.0.0.1",
      `--port=${port}`,
      "--from=app@example.com",
      "--tls=on",
      `--tls-starttls=${starttls ? "on" : "off"}`,
      `--tls-trust-file=${trust}`,
    ];

    // TLS is required: MAIL before STARTTLS is refused, so a delivery proves the upgrade.
    const upgraded = message("msmtp starttls", TRICKY_BODY);
    const sent = await msmtpSends([
      ...tlsFlags(world.smtp, true),
      "--auth=login",
      "--user=alice",
      "--passwordeval=echo secret",
      "alice+tls@corp.example",
    ], upgraded);
    assert.match(sent.output, /^<-- 220 2\.0\.0 Ready to start TLS$/m);
    const viaStarttls = stored(server, "alice");
    assert.equal(viaStarttls.body, bytesOf(upgraded));
    assert.match(viaStarttls.received, / with ESMTPSA id EM/);

    const implicit = message("msmtp smtps", TRICKY_BODY);
    await msmtpSends([...tlsFlags(world.smtps, false), "bob@example.com"], implicit);
    const viaSmtps = stored(server, "bob");
    assert.equal(viaSmtps.body, bytesOf(implicit));
    assert.match(viaSmtps.received, / with ESMTPS id ES/);

    const cleartext = await msmtp([...msmtpPlain(world), "bob@example.com"], implicit);
    assert.notEqual(cleartext.code, 0, cleartext.output);
    assert.match(cleartext.output, /530 5\.7\.0 Must issue a STARTTLS command first/);

    // A certificate msmtp does not trust: verification fails on both ports.
    for (const [port, starttls] of [[world.smtp, true], [world.smtps, false]] as const) {
      const untrusted = await msmtp(
        [...tlsFlags(port, starttls, otherCaFile), "dave@example.com"],
        message("untrusted", "no\r\n"),
      );
      assert.notEqual(untrusted.code, 0, untrusted.output);
      assert.match(untrusted.output, /certificate/i);
    }
    assert.equal(inboxCount(server, "bob"), 1);
    assert.equal(inboxCount(server, "dave"), 0, "nothing delivered without trust");
  }, { required: true });
});

clientTest("msmtp", "several recipients with +tags; -t reads them from the headers", async () => {
  await withWorld(async (world) => {
    const { server } = world;
    const recipients = [
      "alice+ci-1@corp.example",
      "Alice+CI-2@Corp.Example",
      "bob+x@example.com",
      "carol+build.42@example.com",
    ];
    const many = message("msmtp many", "to four addresses\r\n", [
      "To: alice+ci-1@corp.example, bob+x@example.com",
      "Cc: carol+build.42@example.com",
    ]);
    const sent = await msmtpSends([...msmtpPlain(world), ...recipients], many);
    for (const address of recipients) {
      const line = `\n<-- 250 2.1.5 Recipient <${address}> OK\n`;
      assert.ok(sent.output.includes(line), `${address} accepted:\n${sent.output}`);
    }
    // One copy per user, however many of its tagged addresses: checked over the HTTP API.
    const http = `http://127.0.0.1:${server.ports.http}`;
    const found = await (await fetch(`${http}/messages?to=alice%2Bci-1%40corp.example`)).json();
    assert.deepEqual(
      found.map((m: { id: string }) => m.id).sort(),
      ["alice:INBOX:1", "bob:INBOX:1", "carol:INBOX:1"],
    );
    for (const user of ["alice", "bob", "carol"]) {
      const response = await fetch(`${http}/messages/${encodeURIComponent(`${user}:INBOX:1`)}/raw`);
      assert.equal(response.status, 200);
      const raw = new Uint8Array(await response.arrayBuffer());
      assert.equal(latin1.decode(splitReceived(raw).body), bytesOf(many), user);
      assert.doesNotMatch(splitReceived(raw).received, /\tfor </, "no for clause: 4 recipients");
    }

    // sendmail -t: recipients from To, Cc and Bcc; the Bcc line is not sent.
    const bcc = "Bcc: dave+hidden@example.com";
    const headers = ["To: alice+signup@corp.example", "Cc: bob+cc@example.com", bcc];
    const fromHeaders = message("msmtp -t", "read the headers\r\n", headers);
    await msmtpSends([...msmtpPlain(world), "-t"], fromHeaders);
    const expected = bytesOf(fromHeaders.replace(`${bcc}\r\n`, ""));
    for (const user of ["alice", "bob", "dave"]) {
      const uid = user === "dave" ? 1 : 2;
      assert.equal(stored(server, user, uid).body, expected, user);
    }
    assert.equal(inboxCount(server, "carol"), 1);
  });
});

// ---------------------------------------------------------------------------------- swaks

clientTest("swaks", "plain and --pipeline sends, stored byte for byte", async () => {
  await withWorld(async (world) => {
    const { server } = world;
    const plain = message("swaks plain", TRICKY_BODY);
    const one = await swaksSends(world, ["--to", "bob@example.com"], plain);
    // Without --pipeline swaks waits for each reply.
    assert.match(one.output, /^ -> MAIL FROM:<app@example\.com>\n<- {2}250 2\.1\.0 /m);
    assert.match(one.output, /^<- {2}250 2\.0\.0 OK queued as EM\w+$/m);
    assert.match(one.output, /^<- {2}221 2\.0\.0 /m);
    const first = stored(server, "bob");
    assert.equal(first.body, bytesOf(plain));
    assert.match(first.received, /^Received: from swaks\.test \(\[127\.0\.0\.1\]\)\r\n/);
    assert.match(first.received, / with ESMTP id EM\w+\r\n\tfor <bob@example\.com>;/);

    const pipelined = message("swaks pipeline", TRICKY_BODY);
    const two = await swaksSends(world, [
      "--pipeline",
      "--to",
      "bob+pipe@example.com,carol@example.com",
    ], pipelined);
    assert.match(
      two.output,
      /^ -> MAIL FROM:<app@example\.com>\n -> RCPT TO:<bob\+pipe@example\.com>\n -> RCPT TO:<carol@example\.com>\n -> DATA\n<- {2}250 2\.1\.0 .*\n<- {2}250 2\.1\.5 .*\n<- {2}250 2\.1\.5 .*\n<- {2}354 /m,
      two.output,
    );
    for (const user of ["bob", "carol"]) {
      const uid = user === "bob" ? 2 : 1;
      assert.equal(stored(server, user, uid).body, bytesOf(pipelined), user);
    }
  });
});

clientTest("swaks", "--auth PLAIN and --auth LOGIN; a wrong password is 535 5.7.8", async () => {
  await withWorld(async (world) => {
    const { server } = world;
    const credentials = { PLAIN: ["alice", "secret"], LOGIN: ["bob", "hunter2"] };
    for (const [mechanism, [user, password]] of Object.entries(credentials)) {
      const auth = (pass: string) => [
        "--auth",
        mechanism,
        "--auth-user",
        user,
        "--auth-password",
        pass,
        "--to",
        `${user}+auth@example.com`,
      ];
      const mail = message(`swaks auth ${mechanism}`, `${mechanism}\r\n`);
      const sent = await swaksSends(world, auth(password), mail);
      assert.match(sent.output, new RegExp(`^ -> AUTH ${mechanism}`, "m"));
      assert.match(sent.output, /^<- {2}235 2\.7\.0 Authentication successful$/m);
      const got = stored(server, user);
      assert.equal(got.body, bytesOf(mail));
      assert.match(got.received, / with ESMTPA id /);

      const refused = await swaks(world, auth("wrong"), message("refused", "no\r\n"));
      assert.equal(refused.code, 28, `swaks exit 28 (AUTH failed):\n${refused.output}`);
      assert.match(refused.output, /^<\S* 535 5\.7\.8 Authentication credentials invalid$/m);
      assert.match(refused.output, /^<- {2}221 /m, "the session went on to QUIT");
      assert.equal(inboxCount(server, user), 1, `nothing more for ${user}`);
    }
  });
});

clientTest(
  "swaks",
  "--tls (STARTTLS) and --tlsc (implicit TLS) verify the served certificate",
  async () => {
    await withWorld(async (world) => {
      const { server, caFile, otherCaFile } = world;
      const verify = (ca: string) => ["--tls-verify", "--tls-ca-path", ca];

      const upgraded = message("swaks starttls", TRICKY_BODY);
      const starttls = await swaksSends(world, [
        "--port",
        String(world.smtp),
        "--tls",
        ...verify(caFile),
        "--auth",
        "PLAIN",
        "--auth-user",
        "alice",
        "--auth-password",
        "secret",
        "--to",
        "alice+tls@corp.example",
      ], upgraded);
      assert.match(starttls.output, /^<- {2}220 2\.0\.0 Ready to start TLS$/m);
      assert.match(starttls.output, /^=== TLS started with cipher /m);
      // RFC 3207 4.2: STARTTLS is not offered again on the encrypted session.
      assert.doesNotMatch(starttls.output, /^<~ {2}250-STARTTLS$/m);
      const viaStarttls = stored(server, "alice");
      assert.equal(viaStarttls.body, bytesOf(upgraded));
      assert.match(viaStarttls.received, / with ESMTPSA id EM/);

      const implicit = message("swaks smtps", TRICKY_BODY);
      const tlsc = await swaksSends(world, [
        "--port",
        String(world.smtps),
        "--tlsc",
        ...verify(caFile),
        "--pipeline",
        "--to",
        "bob@example.com",
      ], implicit);
      assert.match(tlsc.output, /^<~ {2}220 localhost ESMTP /m, "greeting inside TLS");
      const viaSmtps = stored(server, "bob");
      assert.equal(viaSmtps.body, bytesOf(implicit));
      assert.match(viaSmtps.received, / with ESMTPS id ES/);

      // TLS is required: without --tls, MAIL is refused.
      const cleartext = await swaks(world, [
        "--port",
        String(world.smtp),
        "--to",
        "bob@example.com",
      ]);
      assert.equal(cleartext.code, 23, cleartext.output);
      assert.match(cleartext.output, /^<\S* 530 5\.7\.0 Must issue a STARTTLS command first$/m);

      const starttlsPort = ["--port", String(world.smtp), "--tls"];
      const implicitPort = ["--port", String(world.smtps), "--tlsc"];
      for (const mode of [starttlsPort, implicitPort]) {
        const untrusted = await swaks(world, [
          ...mode,
          ...verify(otherCaFile),
          "--to",
          "dave@example.com",
        ]);
        assert.equal(untrusted.code, 29, `swaks exit 29 (TLS failed):\n${untrusted.output}`);
        assert.match(untrusted.output, /certificate verify failed/);
      }
      assert.equal(inboxCount(server, "bob"), 1);
      assert.equal(inboxCount(server, "dave"), 0, "nothing delivered without trust");
    }, { required: true });
  },
);

/** Whether this swaks knows `--option` (older ones exit with "Unknown option"). */
async function swaksHas(option: string): Promise<boolean> {
  const probe = await run(CLIENTS.swaks.path, [`--${option}`, "--version"]);
  return probe.code === 0 && !/Unknown option/i.test(probe.output);
}

clientTest(
  "swaks",
  "an 8-bit body (--8bitmime where this swaks has it) arrives unchanged",
  async () => {
    await withWorld(async (world) => {
      const { server } = world;
      const has8BitMime = await swaksHas("8bitmime");
      if (!has8BitMime) {
        console.warn(
          "this swaks has no --8bitmime (20201014 has none): the 8-bit body goes without BODY=",
        );
      }
      const args = [...(has8BitMime ? ["--8bitmime"] : []), "--to", "erin@example.com"];
      const utf8Message = message("swaks 8bit", "Grüße ✓ — 8-bit UTF-8\r\n..dot\r\nend\r\n");
      const sent = await swaksSends(world, args, utf8Message);
      if (has8BitMime) {
        assert.match(
          sent.output,
          /^ -> MAIL FROM:<app@example\.com> BODY=8BITMIME\n<- {2}250 2\.1\.0/m,
        );
      }
      assert.equal(stored(server, "erin").body, bytesOf(utf8Message));

      // A Latin-1 byte that is not UTF-8: stored as sent all the same.
      const latin1Message = bytesOf(message("swaks latin1", "caf")) + "\xe9\r\n";
      await swaksSends(world, args, Uint8Array.from(latin1Message, (c) => c.charCodeAt(0)));
      assert.equal(stored(server, "erin", 2).body, latin1Message);
    });
  },
);

clientTest(
  "swaks",
  "over the size limit: 552 5.3.4, the session goes on, swaks reports failure",
  async () => {
    await withWorld(async (world) => {
      const { server } = world;
      const line = "y".repeat(78) + "\r\n";
      const big = message("swaks big", line.repeat(Math.ceil(MAX_MESSAGE_SIZE / line.length) + 10));
      assert.ok(big.length > MAX_MESSAGE_SIZE);
      for (const extra of [[], ["--pipeline"]]) {
        const result = await swaks(world, [
          ...extra,
          "--suppress-data",
          "--to",
          "frank@example.com",
        ], big);
        assert.equal(
          result.code,
          26,
          `swaks exit 26 (mail not accepted after data):\n${result.output}`,
        );
        assert.match(
          result.output,
          new RegExp(
            `^<\\*\\* 552 5\\.3\\.4 Message too big \\(limit ${MAX_MESSAGE_SIZE} octets\\)\\n -> QUIT\\n<- {2}221 2\\.0\\.0 `,
            "m",
          ),
          result.output,
        );
      }
      assert.equal(inboxCount(server, "frank"), 0, "nothing stored");

      // Exactly at the limit (the Received header is not counted): accepted.
      const fits = message("swaks fits", "");
      const padded = fits + "z".repeat(MAX_MESSAGE_SIZE - fits.length - 2) + "\r\n";
      assert.equal(padded.length, MAX_MESSAGE_SIZE);
      await swaksSends(world, ["--suppress-data", "--to", "frank@example.com"], padded);
      assert.equal(stored(server, "frank").body, padded);
    });
  },
);
