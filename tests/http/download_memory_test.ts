/**
 * Downloads of large messages to clients that never read (hostile-client audit, issue 13
 * round 34): a raw message or part was one response body, held whole by every unread
 * connection (50 unread downloads of a 20 MB message: +1 GB). Past 256 KiB it is a stream
 * now, copied a chunk at a time as the connection takes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ServerUnderTest, withServerProcess } from "./subprocess.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };
const MB = 1024 * 1024;
const SIZE_MB = 8;
const READERS = 40;

async function injectBig(server: ServerUnderTest): Promise<string> {
  const response = await fetch(server.base + "/inject", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      user: "big",
      text: "lorem ipsum dolor sit amet\r\n".repeat(SIZE_MB * MB / 28),
    }),
  });
  assert.equal(response.status, 201);
  const { id } = await response.json();
  return id;
}

Deno.test({
  name: "download memory: large raw downloads stream, whole and exact",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      const id = await injectBig(server);
      const raw = await fetch(`${server.base}/messages/${encodeURIComponent(id)}/raw`);
      const bytes = new Uint8Array(await raw.arrayBuffer());
      assert.equal(raw.status, 200);
      assert.equal(Number(raw.headers.get("content-length")), bytes.length);
      assert.ok(bytes.length > SIZE_MB * MB * 0.99, `${bytes.length} octets`);
      const text = new TextDecoder().decode(bytes);
      assert.match(text.slice(0, 2000), /\r\n\r\nlorem ipsum dolor sit amet\r\n/);
      assert.ok(text.endsWith("lorem ipsum dolor sit amet\r\n"));
    });
  },
});

Deno.test({
  name: "download memory: unread downloads of a large message hold a chunk each, not the message",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      const id = await injectBig(server);
      const { port } = new URL(server.base);
      const before = (await server.memory()).rss;
      const conns: Deno.Conn[] = [];
      const request = `GET /messages/${
        encodeURIComponent(id)
      }/raw HTTP/1.1\r\nHost: localhost\r\n\r\n`;
      for (let i = 0; i < READERS; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
        await conn.write(new TextEncoder().encode(request));
        conns.push(conn); // never read
      }
      // A hang guard, not a speed figure: the responses have started and stalled by then.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const during = (await server.memory()).rss;
      conns.forEach((conn) => conn.close());
      const growth = during - before;
      // Before: READERS x SIZE_MB (320 MB). Now a chunk or two, and the socket's buffers, each.
      assert.ok(growth < 128, `grew by ${growth.toFixed(0)} MB`);
    });
  },
});
