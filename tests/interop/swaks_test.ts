/**
 * swaks (the SMTP test tool) against a live server on port 0: plain and `--pipeline` sends,
 * `--auth` PLAIN and LOGIN against configured users, `--tls` (STARTTLS) and `--tlsc`
 * (implicit TLS) verifying the server's generated certificate, an 8-bit body and a message
 * over the size limit. Each delivery is checked in the store: the right user's INBOX holds
 * the bytes swaks sent, after the `Received:` header the server prepends.
 *
 * swaks sends a `--data` file with CRLF line ends, dot-stuffed, and ends it with CRLF "."
 * CRLF itself: the file is the message without its last line end.
 *
 * Without swaks the tests are skipped with a note, except in CI (`CI` set), where a missing
 * swaks is a failure: `.ci/run` installs it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bytesOf,
  clientTest,
  findClient,
  inboxCount,
  MAX_MESSAGE_SIZE,
  message,
  type Run,
  run,
  stored,
  TRICKY_BODY,
  withWorld,
  type World,
} from "./smtp_client_helpers.ts";

const SWAKS = findClient("swaks", "SWAKS_PATH");
const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

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
  return await run(SWAKS.path, [
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

clientTest(SWAKS, "plain and --pipeline sends, stored byte for byte", async () => {
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

clientTest(SWAKS, "--auth PLAIN and --auth LOGIN; a wrong password is 535 5.7.8", async () => {
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
  SWAKS,
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
  const probe = await run(SWAKS.path, [`--${option}`, "--version"]);
  return probe.code === 0 && !/Unknown option/i.test(probe.output);
}

clientTest(
  SWAKS,
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
  SWAKS,
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
