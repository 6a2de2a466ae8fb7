/**
 * URLFETCH over a real socket where a transcript cannot say it well (RFC 4467 6.3): many
 * URLs to a large message are all answered, written as they go (the session flushes between
 * URLs instead of holding every copy), and more than MAX_URLS is NO [LIMIT].
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { MAX_URLS } from "../../lib/imap/commands/urlauth.ts";
import { startElektromail } from "../../lib/server.ts";
import { withTimeout } from "../interop/imap_helpers.ts";
import { RawImap } from "./raw_client.ts";

Deno.test("URLFETCH: MAX_URLS URLs to a 200 KB message are all answered; one more is NO [LIMIT]", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    const body = "y".repeat(200_000);
    server.store.ensureUser("alice");
    server.store.append("alice", "INBOX", new TextEncoder().encode(`Subject: big\r\n\r\n${body}`));
    const { client } = await RawImap.connect(server.ports.imap!);
    try {
      await withTimeout(
        (async () => {
          await client.command("a0 LOGIN alice x");
          const rump = "imap://alice@localhost/INBOX/;UID=1/;SECTION=TEXT;URLAUTH=anonymous";
          const generated = await client.command(`a1 GENURLAUTH ${rump} INTERNAL`);
          const url = generated[0].slice("* GENURLAUTH ".length);
          assert.ok(url.startsWith(`${rump}:internal:`), generated[0]);
          const many = await client.command(`a2 URLFETCH ${Array(MAX_URLS).fill(url).join(" ")}`);
          assert.equal(many.at(-1), "a2 OK URLFETCH completed");
          const heads = many.filter((line) => line.startsWith("* URLFETCH "));
          assert.equal(heads.length, MAX_URLS);
          for (const head of heads) assert.equal(head, `* URLFETCH ${url} {200000}`);
          assert.equal(many.filter((line) => line === body).length, MAX_URLS);
          const over = await client.command(
            `a3 URLFETCH ${Array(MAX_URLS + 1).fill(url).join(" ")}`,
          );
          assert.deepEqual(over, [
            `a3 NO [LIMIT] Cannot handle more than ${MAX_URLS} URLs in one command`,
          ]);
        })(),
        "urlfetch",
        30_000,
      );
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
});
