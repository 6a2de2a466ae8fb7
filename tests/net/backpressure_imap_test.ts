/**
 * Issue 11 item 4, IMAP: `FETCH 1:* BODY.PEEK[]` on 24 MB of mail, then a stream of NOOPs,
 * from a client that never reads. The server must stop reading while its output waits,
 * rather than buffer the NOOPs (before the fix: ~1 MB per MB sent, 1.5 GB in the issue). On
 * both transports: `Deno.listen` (TLS off) and a `node:tls` socket after STARTTLS.
 *
 * @module
 */

import {
  assertBoundedGrowth,
  flood,
  readUntil,
  repeated,
  send,
  spawnServer,
  startTls,
} from "./hostile_client.ts";

/** Growth allowed; before the fix 2.5 s of NOOPs grew the server by ~600 MB. */
const LIMIT_MB = 64;
const FLOOD_MS = 2500;
const MESSAGES = 24;
/** A message of about 1 MB: 1,000 lines of 1,000 octets. */
const MESSAGE = "Subject: big\r\n\r\n" + ("y".repeat(998) + "\r\n").repeat(1000);

async function connect(port: number, tls: boolean): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await readUntil(conn, /^\* OK .*\r\n/);
  if (!tls) return conn;
  await send(conn, "s STARTTLS\r\n");
  await readUntil(conn, /^s OK .*\r\n/m);
  return await startTls(conn);
}

for (const tls of [false, true]) {
  const kind = tls ? "node:tls after STARTTLS" : "Deno.listen";
  Deno.test(`backpressure (IMAP, ${kind}): FETCH 1:* and NOOPs, never read`, async () => {
    const server = await spawnServer(tls);
    try {
      const conn = await connect(server.ports.IMAP, tls);
      await send(conn, "a LOGIN big secret\r\n");
      await readUntil(conn, /^a OK .*\r\n/m);
      for (let i = 0; i < MESSAGES; i++) {
        await send(conn, `b${i} APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
        await readUntil(conn, new RegExp(`^b${i} OK .*\\r\\n`, "m"));
      }
      await send(conn, "c SELECT INBOX\r\n");
      await readUntil(conn, /^c OK .*\r\n/m);
      await assertBoundedGrowth(server, LIMIT_MB, async () => {
        await send(conn, "d FETCH 1:* BODY.PEEK[]\r\n");
        const sent = await flood(conn, repeated("n NOOP\r\n"), FLOOD_MS);
        return { sent, close: () => conn.close() };
      });
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
    }
  });
}
