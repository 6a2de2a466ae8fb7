/**
 * msmtp (the sendmail replacement that containers and CI pipelines point at dev mail
 * servers) against a live server on port 0: a plain pipelined send and LF input, AUTH PLAIN
 * (flags) and LOGIN (a `-C` config file) against configured users, STARTTLS and implicit TLS
 * trusting the server's generated certificate, several `+tag` recipients and `-t`. Each
 * delivery is checked on the server (the store, or the HTTP API): the right user's INBOX
 * holds the bytes msmtp sent, after the trace headers the server prepends (`Return-Path:`,
 * `Delivered-To:`, `Received:`).
 *
 * msmtp sends stdin with CRLF line ends and adds `Date:`, `Message-ID:` and `From:` when they
 * are missing (the messages here carry all three); with `-t` it drops `Bcc:`.
 *
 * Without msmtp the tests are skipped with a note, except in CI (`CI` set), where a missing
 * msmtp is a failure: `.ci/run` installs it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { splitReceived } from "../harness/smtp_received.ts";
import {
  bytesOf,
  clientTest,
  findClient,
  inboxCount,
  message,
  type Run,
  run,
  stored,
  TRICKY_BODY,
  withWorld,
  type World,
} from "./smtp_client_helpers.ts";

const MSMTP = findClient("msmtp", "MSMTP_PATH");
const latin1 = new TextDecoder("latin1");

/**
 * Runs msmtp with `message` on stdin; `-v` prints its SMTP transcript on stdout (lines as
 * received, so with CRLF: made LF here).
 */
async function msmtp(args: string[], message: string): Promise<Run> {
  const { code, output } = await run(MSMTP.path, ["-v", ...args], message);
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

clientTest(MSMTP, "plain send, pipelined, stored byte for byte; LF input as CRLF", async () => {
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
  MSMTP,
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

clientTest(MSMTP, "STARTTLS and implicit TLS trust the served certificate", async () => {
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

clientTest(MSMTP, "several recipients with +tags; -t reads them from the headers", async () => {
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
    // One copy per distinct address, so alice's two tags are two copies: checked over the
    // HTTP API, with the recipient each copy was delivered for.
    const http = `http://127.0.0.1:${server.ports.http}`;
    const found = await (await fetch(`${http}/messages?order=asc&to=alice%2Bci-1%40corp.example`))
      .json();
    assert.deepEqual(
      found.map((m: { id: string; envelope: { to: string } }) => [m.id, m.envelope.to]),
      [
        ["alice:INBOX:1", "alice+ci-1@corp.example"],
        ["alice:INBOX:2", "Alice+CI-2@Corp.Example"],
        ["bob:INBOX:1", "bob+x@example.com"],
        ["carol:INBOX:1", "carol+build.42@example.com"],
      ],
    );
    for (const id of ["alice:INBOX:1", "alice:INBOX:2", "bob:INBOX:1", "carol:INBOX:1"]) {
      const user = id.slice(0, id.indexOf(":"));
      const response = await fetch(`${http}/messages/${encodeURIComponent(id)}/raw`);
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
    for (const [user, uid] of [["alice", 3], ["bob", 2], ["dave", 1]] as const) {
      assert.equal(stored(server, user, uid).body, expected, user);
    }
    // The Bcc recipient's copy says whom it was delivered for; the headers do not.
    assert.match(
      stored(server, "dave", 1).envelope,
      /^Return-Path: <[^>]+>\r\nDelivered-To: dave\+hidden@example\.com\r\n$/,
    );
    assert.equal(inboxCount(server, "carol"), 1);
  });
});
