/**
 * COMPRESS=DEFLATE (RFC 4978) against hostile clients, on both transports (`Deno.listen`,
 * and `node:tls` after STARTTLS), in a server process whose memory is measured:
 * - a deflate bomb (zeros at ~1000:1) is cut off and the server's memory stays bounded;
 * - `FETCH 1:*` of 24 MB plus a stream of compressed NOOPs from a client that never reads:
 *   the output high-water mark and the input bounds hold on the plaintext side.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { DeflatedConn } from "../harness/deflate_conn.ts";
import {
  assertBoundedGrowth,
  drain,
  flood,
  readUntil,
  send,
  spawnServer,
  startTls,
} from "./hostile_client.ts";

const LIMIT_MB = 64;
const MESSAGES = 24;
/** About 1 MB of base64 that DEFLATE barely shrinks, so FETCH output stays large on the wire. */
const MESSAGE = "Subject: big\r\n\r\n" +
  Array.from({ length: 13_000 }, () => btoa(String.fromCharCode(...randomBytes(57))) + "\r\n")
    .join("");

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
const encoder = new TextEncoder();

/** Logs in (after STARTTLS when `tls`) and switches to COMPRESS DEFLATE. */
async function compressed(port: number, tls: boolean): Promise<DeflatedConn> {
  let conn: Deno.Conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await readUntil(conn, /^\* OK .*\r\n/);
  if (tls) {
    await send(conn, "s STARTTLS\r\n");
    await readUntil(conn, /^s OK .*\r\n/m);
    conn = await startTls(conn as Deno.TcpConn);
  }
  await send(conn, "a LOGIN big secret\r\nz COMPRESS DEFLATE\r\n");
  await readUntil(conn, /^z OK .*\r\n/m);
  return new DeflatedConn(conn);
}

for (const tls of [false, true]) {
  const kind = tls ? "node:tls after STARTTLS" : "Deno.listen";

  Deno.test(`COMPRESS (${kind}): a deflate bomb is cut off, memory bounded`, async () => {
    const server = await spawnServer(tls);
    try {
      const conn = await compressed(server.ports.IMAP, tls);
      // 256 MB of zeros in ~250 KB: far past the 256:1 the server allows.
      const bomb = zlib.deflateRawSync(new Uint8Array(256 * 1024 * 1024), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
      await assertBoundedGrowth(server, LIMIT_MB, async () => {
        const sent = await flood(conn.inner, bomb, 2500);
        // The server closes the connection: reading ends (a hang guard, not a timing test).
        const closed = drain(conn.inner).then(() => true);
        const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 20_000));
        assert.ok(await Promise.race([closed, timeout]), "the server cut the bomb off");
        return { sent, close: () => conn.close() };
      });
      // The server still serves others.
      const other = await compressed(server.ports.IMAP, tls);
      await other.write(encoder.encode("n NOOP\r\n"));
      const buffer = new Uint8Array(1024);
      const n = await other.read(buffer);
      assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^n OK /);
      other.close();
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
    }
  });

  Deno.test(`COMPRESS (${kind}): FETCH 1:* and NOOPs, never read`, async () => {
    const server = await spawnServer(tls);
    try {
      const plain = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.IMAP });
      await readUntil(plain, /^\* OK .*\r\n/);
      await send(plain, "a LOGIN big secret\r\n");
      for (let i = 0; i < MESSAGES; i++) {
        await send(plain, `b${i} APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
        await readUntil(plain, new RegExp(`^b${i} OK .*\\r\\n`, "m"));
      }
      plain.close();
      const conn = await compressed(server.ports.IMAP, tls);
      await conn.write(encoder.encode("c SELECT INBOX\r\nd FETCH 1:* BODY.PEEK[]\r\n"));
      // NOOPs with varied tags compress about 3:1, well inside the ratio: flow control,
      // not the bomb cut, must bound them.
      const noops = encoder.encode(
        Array.from({ length: 4000 }, () => `n${Math.random().toString(36).slice(2)} NOOP\r\n`)
          .join(""),
      );
      await assertBoundedGrowth(server, LIMIT_MB, async () => {
        let sent = 0;
        const end = Date.now() + 2500;
        while (Date.now() < end) {
          const written = await Promise.race([
            conn.write(noops).then(() => true, () => false),
            new Promise<boolean>((r) => setTimeout(() => r(false), end - Date.now())),
          ]);
          if (!written) break;
          sent += noops.length;
        }
        return { sent, close: () => conn.close() };
      });
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
    }
  });
}
