/**
 * The cap on users created on demand (issue 11 item 15) over real sockets: unauthenticated
 * SMTP with 100 recipients per message stops at the default 10,000 users; the same cap holds
 * for SMTP AUTH, IMAP LOGIN and `POST /inject`, each with its protocol's error; a reset
 * makes room again. (RCPT details and configured users: tests/rfc5321/user_limit.txt.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_LIMITS, testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { SmtpClient } from "../process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends one transaction with every RCPT pipelined; returns the RCPT replies and the final one. */
async function transaction(
  client: SmtpClient,
  recipients: readonly string[],
): Promise<{ rcpt: string[]; final: string }> {
  const lines = ["MAIL FROM:<a@example.com>", ...recipients.map((to) => `RCPT TO:<${to}>`)];
  await client.write(lines.map((line) => line + "\r\n").join(""));
  assert.match(await client.readReply(), /^250 /);
  const rcpt: string[] = [];
  for (const _ of recipients) rcpt.push(await client.readReply());
  const data = await client.command("DATA");
  if (!data.startsWith("354")) return { rcpt, final: data };
  await client.write("Subject: hi\r\n\r\nhello\r\n.\r\n");
  return { rcpt, final: await client.readReply() };
}

/** A raw IMAP exchange: sends `a LOGIN user pass` and returns the tagged reply. */
async function imapLogin(port: number, user: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let text = "";
    const buffer = new Uint8Array(4096);
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error(`IMAP connection closed: ${text}`);
        text += decoder.decode(buffer.subarray(0, n));
      }
    };
    await readUntil(/^\* OK .*\r\n/);
    await conn.write(encoder.encode(`a LOGIN ${user} secret\r\n`));
    await readUntil(/^a .*\r\n/m);
    return /^a .*$/m.exec(text)![0].trimEnd();
  } finally {
    conn.close();
  }
}

Deno.test("user limit: unauthenticated SMTP creates at most the default 10,000 users", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const { client } = await SmtpClient.connect(server.ports.smtp);
  try {
    assert.match(await client.command("EHLO test"), /^250-/);
    let accepted = 0;
    const refusals = new Set<string>();
    // 101 messages of 100 new recipients each: the last 100 cannot be created.
    for (let message = 0; message < 101; message++) {
      const to = Array.from({ length: 100 }, (_, i) => `u${message}x${i}@example.com`);
      const { rcpt, final } = await transaction(client, to);
      for (const reply of rcpt) {
        if (reply.startsWith("250 ")) accepted++;
        else refusals.add(reply.replace(/<[^>]+>/, "<X>"));
      }
      if (message < 100) assert.match(final, /^250 /, `message ${message}`);
      else assert.match(final, /^554 5\.5\.1 No valid recipients/);
    }
    assert.equal(accepted, 10_000);
    assert.deepEqual([...refusals], [
      "452 4.3.1 Cannot accept <X>: the limit of 10000 users is reached " +
      "(ELEKTROMAIL_MAX_USERS; a reset clears them)",
    ]);
    assert.equal(server.store.listUsers().length, 10_000);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("user limit: SMTP AUTH, IMAP LOGIN and /inject refuse new users past it; /reset makes room", async () => {
  const server = await startElektromail(
    testConfig({ httpPort: 0, limits: { ...DEFAULT_LIMITS, maxUsers: 2 } }),
  );
  const http = `http://127.0.0.1:${server.ports.http}`;
  const inject = async (user: string) => {
    const response = await fetch(`${http}/inject`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user, subject: "hi" }),
    });
    return { status: response.status, body: await response.json() };
  };
  const { client } = await SmtpClient.connect(server.ports.smtp);
  try {
    assert.equal((await inject("amy")).status, 201);
    assert.match(await imapLogin(server.ports.imap, "bob"), /^a OK /);
    // Full: every way in refuses a third user, each in its own protocol's terms.
    const refused = await inject("carol");
    assert.equal(refused.status, 507, "Insufficient Storage (RFC 4918 11.5)");
    assert.match(refused.body.error, /^Cannot create user carol: 2 users exist and the limit/);
    assert.match(
      await imapLogin(server.ports.imap, "carol"),
      /^a NO \[LIMIT\] Cannot create user carol: 2 users exist and the limit is 2 /,
    );
    assert.match(await client.command("EHLO test"), /^250-/);
    assert.match(
      await client.command(`AUTH PLAIN ${btoa("\0carol\0secret")}`),
      /^454 4\.7\.0 Temporary authentication failure: Cannot create user carol/,
    );
    // Users that exist still work everywhere.
    assert.equal((await inject("bob")).status, 201);
    assert.match(await imapLogin(server.ports.imap, "amy"), /^a OK /);
    assert.match(await client.command(`AUTH PLAIN ${btoa("\0amy\0secret")}`), /^235 /);
    assert.deepEqual(server.store.listUsers(), ["amy", "bob"]);

    const reset = await fetch(`${http}/reset`, { method: "POST" });
    await reset.body?.cancel();
    assert.equal(reset.status, 200);
    assert.equal((await inject("carol")).status, 201);
    assert.match(await imapLogin(server.ports.imap, "dave"), /^a OK /);
    assert.equal((await inject("erin")).status, 507);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("user limit: room taken by another session between RCPT and the end of DATA is 452, nothing delivered", async () => {
  const server = await startElektromail(
    testConfig({ httpPort: null, limits: { ...DEFAULT_LIMITS, maxUsers: 2 } }),
  );
  const first = (await SmtpClient.connect(server.ports.smtp)).client;
  const second = (await SmtpClient.connect(server.ports.smtp)).client;
  try {
    for (const client of [first, second]) {
      assert.match(await client.command("EHLO test"), /^250-/);
    }
    assert.match(await first.command("MAIL FROM:<a@example.com>"), /^250 /);
    assert.match(await first.command("RCPT TO:<amy@example.com>"), /^250 /, "room for one");
    const other = await transaction(second, ["bob@example.com", "carol@example.com"]);
    assert.match(other.final, /^250 /);
    assert.match(await first.command("DATA"), /^354 /);
    await first.write("Subject: late\r\n\r\nhello\r\n.\r\n");
    assert.match(
      await first.readReply(),
      /^452 4\.3\.1 Cannot create user amy: 2 users exist and the limit is 2 /,
    );
    assert.deepEqual(server.store.listUsers(), ["bob", "carol"]);
  } finally {
    first.close();
    second.close();
    await server.stop();
  }
});
