/**
 * The HTTP API's searches on the SQLite store give back the message bytes they read
 * (`Store.releaseRaw`): `contains=`, `q=` (text words and `has:attachment`) and Mailpit's
 * search read every message they test, each read a buffer of the message's size.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { countFreed } from "../store/freed_count.ts";
import { tempDb } from "../store/temp_db.ts";

const encoder = new TextEncoder();
const COUNT = 20;

/** Message `n`: every fourth mentions a pangolin, every fifth has an attachment. */
function message(n: number): string {
  const word = n % 4 === 0 ? "pangolin" : "aardvark";
  const text = `A ${word} walks by, ${n}.\r\n`;
  if (n % 5 !== 0) return `Subject: m${n}\r\nFrom: a@example.com\r\n\r\n${text}`;
  return `Subject: m${n}\r\nFrom: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n` +
    `\r\n--b\r\nContent-Type: text/plain\r\n\r\n${text}--b\r\nContent-Type: application/pdf\r\n` +
    `Content-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n`;
}

Deno.test("http: searches on the SQLite store give back the bytes they read, and find the same", async () => {
  await using db = await tempDb("http-release");
  // Written, closed and opened again: every read is then one of the database's.
  const writer = openSqliteStore(db.path);
  for (let n = 1; n <= COUNT; n++) writer.append("u", "INBOX", encoder.encode(message(n)));
  writer.close();
  const store = openSqliteStore(db.path);
  const freed = countFreed(store);
  const server = await startElektromail(testConfig({ httpPort: 0 }), { store, warmUp: false });
  const base = `http://127.0.0.1:${server.ports.http}`;
  const ids = async (path: string): Promise<string[]> => {
    const response = await fetch(base + path);
    assert.equal(response.status, 200, path);
    const body = await response.json();
    const list: Array<{ id?: string; ID?: string }> = Array.isArray(body) ? body : body.messages;
    return list.map((item) => item.id ?? item.ID ?? "").sort();
  };
  try {
    const pangolins = ["u:INBOX:12", "u:INBOX:16", "u:INBOX:20", "u:INBOX:4", "u:INBOX:8"];
    assert.deepEqual(await ids("/messages?contains=pangolin"), pangolins);
    const afterContains = freed();
    assert.ok(afterContains >= COUNT, `contains= freed ${afterContains} messages' bytes`);
    assert.deepEqual(await ids("/messages?q=has:attachment"), [
      "u:INBOX:10",
      "u:INBOX:15",
      "u:INBOX:20",
      "u:INBOX:5",
    ]);
    const afterAttachments = freed();
    assert.ok(
      afterAttachments >= afterContains + COUNT,
      `has:attachment freed ${afterAttachments}`,
    );
    const found = await fetch(`${base}/api/v1/search?query=pangolin`);
    assert.equal(found.status, 200);
    assert.equal((await found.json()).messages_count, pangolins.length);
    assert.ok(freed() > afterAttachments, `Mailpit's search freed ${freed() - afterAttachments}`);
  } finally {
    await server.stop();
  }
});
