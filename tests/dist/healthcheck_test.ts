/**
 * `elektromail healthcheck` (the container HEALTHCHECK): exit 0 when every configured listener
 * answers as it should, 1 when one does not (saying which), 2 for bad options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_TLS, testConfig } from "../../lib/config.ts";
import { probeHost } from "../../lib/healthcheck.ts";
import { startElektromail } from "../../lib/server.ts";
import { freePorts } from "../free_ports.ts";
import { assertConfigFailure, runMain } from "../process.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name:
    "healthcheck: 0 when SMTP, IMAP, POP3, SMTPS, IMAPS, POP3S and HTTP all answer; 1 naming a failure",
  ...slow,
  fn: async () => {
    const server = await startElektromail(
      testConfig({ tls: { ...DEFAULT_TLS, smtpsPort: 0, imapsPort: 0, pop3sPort: 0 } }),
    );
    try {
      const { smtp, imap, pop3, http, smtps, imaps, pop3s } = server.ports;
      const all = [
        ["--smtp-port", smtp],
        ["--imap-port", imap],
        ["--pop3-port", pop3],
        ["--http-port", http],
        ["--smtps-port", smtps],
        ["--imaps-port", imaps],
        ["--pop3s-port", pop3s],
      ].flat().map(String);
      const ok = await runMain(["healthcheck", ...all]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stderr, "");
      const lines = ok.stdout.trim().split("\n");
      assert.deepEqual(lines.map((line) => line.split(" ")[0]), [
        "smtp",
        "imap",
        "pop3",
        "smtps",
        "imaps",
        "pop3s",
        "http",
      ]);
      assert.match(
        lines[0],
        new RegExp(`^smtp {2}127\\.0\\.0\\.1:${smtp} ok: 220 localhost ESMTP`),
      );
      assert.match(lines[1], /^imap {2}.* ok: \* OK \[CAPABILITY .*STARTTLS/);
      assert.match(lines[2], new RegExp(`^pop3 {2}127\\.0\\.0\\.1:${pop3} ok: \\+OK `));
      assert.match(lines[3], /^smtps .* ok: accepts connections$/);
      assert.match(lines[5], /^pop3s .* ok: accepts connections$/);
      assert.match(lines[6], /^http {2}.* ok: GET \/health: 200$/);

      // Variables work as well as flags (the container sets variables).
      const fromEnv = await runMain(["healthcheck"], {
        SMTP_PORT: String(smtp),
        IMAP_PORT: String(imap),
        POP3_PORT: String(pop3),
        BIND_ADDR: "0.0.0.0",
      });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);

      // The IMAP port where SMTP is expected: the greeting is wrong.
      const swapped = await runMain([
        "healthcheck",
        "--smtp-port",
        String(imap),
        "--imap-port",
        String(imap),
      ]);
      assert.equal(swapped.code, 1);
      assert.match(
        swapped.stderr,
        /^smtp {2}127\.0\.0\.1:\d+ FAILED: unexpected greeting: "\* OK /m,
      );
      assert.match(swapped.stdout, /^imap {2}.* ok: /m);

      // The IMAP port where POP3 is expected, and POP3 turned off (no probe).
      const notPop3 = await runMain([
        "healthcheck",
        ...["--smtp-port", String(smtp), "--imap-port", String(imap)],
        ...["--pop3-port", String(imap)],
      ]);
      assert.equal(notPop3.code, 1);
      assert.match(
        notPop3.stderr,
        /^pop3 {2}127\.0\.0\.1:\d+ FAILED: unexpected greeting: "\* OK /m,
      );
      const off = await runMain([
        "healthcheck",
        ...["--smtp-port", String(smtp), "--imap-port", String(imap), "--pop3-port", "off"],
      ]);
      assert.equal(off.code, 0, off.stderr);
      assert.doesNotMatch(off.stdout, /^pop3/m);
    } finally {
      await server.stop();
    }
    const port = String(freePorts(1)[0]);
    const down = await runMain(["healthcheck", "--smtp-port", port, "--imap-port", "0"]);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      new RegExp(`^smtp {2}127\\.0\\.0\\.1:${port} FAILED: .*refused`, "m"),
    );
    assert.match(down.stderr, /^imap {2}127\.0\.0\.1:0 FAILED: port 0 \(chosen at start\)/m);
  },
});

/**
 * A one-connection POP3 stand-in: greets `+OK`, answers the first command with `reply`, and
 * resolves with what the client sent.
 */
function fakePop3(reply: string): { port: number; received: Promise<string> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = (async () => {
    const conn = await listener.accept();
    listener.close();
    const encoder = new TextEncoder();
    try {
      await conn.write(encoder.encode("+OK POP3 ready\r\n"));
      let text = "";
      const buffer = new Uint8Array(256);
      while (!text.includes("\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      await conn.write(encoder.encode(`${reply}\r\n`));
      return text;
    } finally {
      conn.close();
    }
  })();
  return { port: listener.addr.port, received };
}

Deno.test({
  name: "healthcheck: the POP3 probe says QUIT after the greeting; the reply must be +OK",
  ...slow,
  fn: async () => {
    const server = await startElektromail(testConfig({ pop3Port: null }));
    try {
      const base = ["healthcheck", "--smtp-port", String(server.ports.smtp)];
      base.push("--imap-port", String(server.ports.imap), "--http-port", String(server.ports.http));
      const polite = fakePop3("+OK bye");
      const ok = await runMain([...base, "--pop3-port", String(polite.port)]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^pop3 {2}127\.0\.0\.1:\d+ ok: \+OK POP3 ready$/m);
      assert.equal(await polite.received, "QUIT\r\n");
      const refusing = fakePop3("-ERR no");
      const bad = await runMain([...base, "--pop3-port", String(refusing.port)]);
      await refusing.received;
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /^pop3 {2}127\.0\.0\.1:\d+ FAILED: unexpected QUIT reply: "-ERR no"$/m,
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "healthcheck: bad options exit 2 with one line",
  ...slow,
  fn: async () => {
    await assertConfigFailure(
      ["healthcheck", "--smtp-port", "x"],
      {},
      /--smtp-port: "x" is not a port/,
    );
    await assertConfigFailure(["healthcheck", "--bogus"], {}, /Unknown option '--bogus'/);
  },
});

Deno.test({
  name:
    "healthcheck --wait: 0 once a server started later listens; 1 with a message at the timeout",
  ...slow,
  fn: async () => {
    const [smtp, imap, pop3, http] = freePorts(4);
    const args = ["healthcheck", "--wait=30", "--smtp-port", String(smtp)];
    args.push("--imap-port", String(imap), "--pop3-port", String(pop3));
    args.push("--http-port", String(http));
    // Nothing listens yet: the check must still be waiting when the server comes up.
    const waiting = runMain(args);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const server = await startElektromail(
      testConfig({ smtpPort: smtp, imapPort: imap, pop3Port: pop3, httpPort: http }),
    );
    try {
      const done = await waiting;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /^http {2}127\.0\.0\.1:\d+ ok: GET \/health: 200$/m);
    } finally {
      await server.stop();
    }
    const closed = freePorts(3).map(String);
    const gaveUp = await runMain([
      "healthcheck",
      "--wait=1",
      ...["--smtp-port", closed[0], "--imap-port", closed[1], "--pop3-port", closed[2]],
    ]);
    assert.equal(gaveUp.code, 1);
    assert.match(gaveUp.stderr, /^smtp {2}127\.0\.0\.1:\d+ FAILED: /m);
    assert.match(
      gaveUp.stderr,
      /^elektromail healthcheck: gave up after 1 s waiting for smtp, imap, pop3 \(is the server running/m,
    );
    await assertConfigFailure(["healthcheck", "--wait=0"], {}, /--wait: expected seconds above 0/);
    await assertConfigFailure(["healthcheck", "--wait=soon"], {}, /--wait: expected seconds/);
  },
});

Deno.test("healthcheck: a wildcard bind address is probed on loopback", () => {
  assert.equal(probeHost("0.0.0.0"), "127.0.0.1");
  assert.equal(probeHost("::"), "::1");
  assert.equal(probeHost("192.0.2.7"), "192.0.2.7");
});
