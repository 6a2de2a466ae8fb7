/**
 * Password guessing over a real socket (issue 11 item 12): with users configured, 2,000 wrong
 * LOGINs on one connection used to be answered in 0.31 s, and the right password then
 * worked. Now failures wait after the third, the tenth closes the connection, an address with
 * too many is refused, and a waiting answer holds up no other client.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_LIMITS, type Limits, parseUsers, testConfig } from "../../lib/config.ts";
import { type Logger, quietLogger } from "../../lib/log.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { SmtpClient } from "../process.ts";
import { withTimeout } from "../interop/imap_helpers.ts";
import { RawImap } from "./raw_client.ts";

async function withServer(
  limits: Partial<Limits>,
  fn: (server: Elektromail, warnings: string[]) => Promise<void>,
): Promise<void> {
  const warnings: string[] = [];
  const logger: Logger = { ...quietLogger(), warn: (message) => warnings.push(message) };
  const server = await startElektromail(
    testConfig({
      httpPort: null,
      users: parseUsers("alice:secret"),
      limits: { ...DEFAULT_LIMITS, ...limits },
    }),
    { logger },
  );
  try {
    await withTimeout(fn(server, warnings), "auth failures", 10_000);
  } finally {
    await server.stop();
  }
}

Deno.test("auth failures: 2,000 pipelined wrong LOGINs get ten answers, late, then BYE", async () => {
  // The real timer path with small delays: 3 at once, then 20, 40, 40... ms.
  await withServer({ authFailureDelayMs: 20, maxAuthFailureDelayMs: 40 }, async (server) => {
    const { client } = await RawImap.connect(server.ports.imap);
    try {
      const started = performance.now();
      const guesses = Array.from({ length: 2000 }, (_, i) => `g${i} LOGIN alice guess${i}\r\n`);
      await client.write(guesses.join("") + "right LOGIN alice secret\r\n");
      const lines = await client.readToEnd();
      const elapsed = performance.now() - started;
      const failed = "NO [AUTHENTICATIONFAILED] Authentication failed";
      assert.deepEqual(lines, [
        ...Array.from({ length: 9 }, (_, i) => `g${i} ${failed}`),
        "* BYE Too many authentication failures",
        `g9 ${failed}`,
      ]);
      // Failures 4 to 10 waited 20 + 40 × 6 ms on the server before being answered.
      assert.ok(elapsed >= 260, `answered after ${elapsed.toFixed(0)} ms`);
    } finally {
      client.close();
    }
    // The address is far from its limit: the right password works on a new connection.
    const { client: again } = await RawImap.connect(server.ports.imap);
    try {
      assert.match((await again.command("a LOGIN alice secret")).at(-1)!, /^a OK /);
    } finally {
      again.close();
    }
  });
});

Deno.test("auth failures: a waiting answer holds up no other client", async () => {
  await withServer({ authFailuresBeforeDelay: 0, authFailureDelayMs: 60_000 }, async (server) => {
    const { client: guesser } = await RawImap.connect(server.ports.imap);
    const { client: other } = await RawImap.connect(server.ports.imap);
    const { client: smtp } = await SmtpClient.connect(server.ports.smtp);
    try {
      await guesser.write("g1 LOGIN alice wrong\r\n");
      // The guesser's answer waits a minute; the others are served meanwhile.
      assert.deepEqual(await other.command("o1 NOOP"), ["o1 OK NOOP completed"]);
      assert.match(await other.command("o2 LOGIN alice secret").then((l) => l.at(-1)!), /^o2 OK/);
      assert.match(await smtp.command("EHLO client.example"), /^250[ -]/);
      // Its later commands wait behind it, in order.
      await guesser.write("g2 NOOP\r\n");
      // Stopping the server (finally) cancels the wait.
    } finally {
      guesser.close();
      other.close();
      smtp.close();
    }
  });
});

Deno.test("auth failures: an address past its limit is refused and logged once", async () => {
  await withServer(
    { authFailureDelayMs: 0, maxAuthFailuresPerAddress: 15 },
    async (server, warnings) => {
      for (let round = 0; round < 2; round++) {
        const { client } = await RawImap.connect(server.ports.imap);
        try {
          const guesses = Array.from({ length: 10 }, (_, i) => `g${i} LOGIN alice wrong\r\n`);
          await client.write(guesses.join(""));
          const lines = await client.readToEnd();
          assert.equal(lines.at(-2), "* BYE Too many authentication failures");
          // The second connection's last five attempts were refused unchecked.
          const refused = lines.filter((line) => line.includes("NO [UNAVAILABLE]")).length;
          assert.equal(refused, round === 0 ? 0 : 5);
        } finally {
          client.close();
        }
      }
      const { client } = await RawImap.connect(server.ports.imap);
      try {
        assert.deepEqual(await client.command("a LOGIN alice secret"), [
          "a NO [UNAVAILABLE] Too many failed logins from your address; try later",
        ]);
      } finally {
        client.close();
      }
      assert.deepEqual(warnings, [
        "imap: closed a connection from 127.0.0.1 after 10 failed authentications",
        "imap: 15 failed authentications from 127.0.0.1 within 10 minutes: " +
        "refusing its attempts for now",
      ]);
    },
  );
});
