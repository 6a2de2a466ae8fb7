/**
 * Issue 11 item 4, SMTP: a client that sends commands and never reads the replies must not
 * make the server buffer them without bound. On both transports: `Deno.listen` (TLS off) and
 * a `node:tls` socket after STARTTLS. Each server is a subprocess whose RSS is measured.
 *
 * @module
 */

import {
  assertBoundedGrowth,
  drain,
  flood,
  readUntil,
  repeated,
  send,
  spawnServer,
  startTls,
} from "./hostile_client.ts";

/** Growth allowed; before the fix 5 s of EHLO and HELP never read grew it by ~200 MB. */
const LIMIT_MB = 64;
const FLOOD_MS = 5000;

/** Connects, reads the greeting, and with `tls` switches to TLS first. */
async function connect(port: number, tls: boolean): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await readUntil(conn, /^220 .*\r\n/);
  if (!tls) return conn;
  await send(conn, "EHLO client\r\n");
  await readUntil(conn, /^250 .*\r\n/m);
  await send(conn, "STARTTLS\r\n");
  await readUntil(conn, /^220 .*\r\n/m);
  return await startTls(conn);
}

for (const tls of [false, true]) {
  const kind = tls ? "node:tls after STARTTLS" : "Deno.listen";
  Deno.test(`backpressure (SMTP, ${kind}): a client that never reads replies`, async () => {
    const server = await spawnServer(tls);
    try {
      // Warm-up: the code paths once, replies read, so the baseline includes them.
      const warm = await connect(server.ports.SMTP, tls);
      await send(warm, "EHLO a\r\nHELP\r\n".repeat(20_000) + "QUIT\r\n");
      await drain(warm);
      warm.close();
      await assertBoundedGrowth(server, LIMIT_MB, async () => {
        const conn = await connect(server.ports.SMTP, tls);
        const sent = await flood(conn, repeated("EHLO a\r\nHELP\r\n"), FLOOD_MS);
        return { sent, close: () => conn.close() };
      });
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
    }
  });
}
