/**
 * The SMTP listener's input count (lib/smtp/server.ts), which the startup warm-up reads to
 * tell clients sending mail from idle connections: it counts what clients send over a real
 * socket, and nothing for a connection that only stays open.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { type SmtpInputCount, startSmtp } from "../../lib/smtp/server.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import { SmtpClient } from "../process.ts";

Deno.test("SMTP listener: counts the chunks its clients send, not idle connections", async () => {
  const store = openMemoryStore();
  const input: SmtpInputCount = { chunks: 0 };
  const endpoint = { name: "smtp", port: 0, tls: null };
  const listener = await startSmtp(
    testConfig(),
    store,
    quietLogger(),
    endpoint,
    undefined,
    undefined,
    input,
  );
  const { client, greeting } = await SmtpClient.connect(listener.port);
  try {
    assert.match(greeting, /^220 /);
    // Connected and greeted, nothing sent yet.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(input.chunks, 0);
    assert.match(await client.command("EHLO counted.example"), /^250 /m);
    assert.match(await client.command("NOOP"), /^250 /);
    assert.equal(input.chunks, 2);
    assert.match(await client.command("QUIT"), /^221 /);
  } finally {
    client.close();
    await listener.close();
    store.close();
  }
});
