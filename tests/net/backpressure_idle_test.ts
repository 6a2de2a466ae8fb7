/**
 * IMAP IDLE to clients that never read (hostile-client audit, round 34): the updates IDLE
 * pushes came with every change, whatever waited unread, so idling clients that never read
 * grew the server by their whole share of each STORE (50 of them ~60 MB per STORE of 1,000
 * messages). Past the connection's high-water mark they now wait in the session's tracker, one
 * pending flag change per message, until the client reads.
 *
 * @module
 */

import { assertBoundedGrowth, readUntil, send, spawnServer } from "./hostile_client.ts";

/**
 * Growth allowed: with the fix ~45-50 MB whatever the rounds (the STOREs, and the output each
 * idler takes until the kernel buffers are full); before it ~300 MB, ~1 MB per idler and round.
 */
const LIMIT_MB = 128;
const MESSAGES = 1000;
const IDLERS = 4;
const ROUNDS = 60;

/** A session of `user`, logged in. */
async function open(port: number, user: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await readUntil(conn, /^\* OK .*\r\n/);
  await send(conn, `a LOGIN ${user} secret\r\n`);
  await readUntil(conn, /^a OK .*\r\n/m);
  return conn;
}

/** APPENDs {@linkcode MESSAGES} small messages on `writer`, then selects INBOX there. */
async function fillInbox(writer: Deno.Conn): Promise<void> {
  const message = "Subject: m\r\n\r\nx\r\n";
  let batch = "";
  for (let i = 0; i < MESSAGES; i++) {
    batch += `b${i} APPEND INBOX {${message.length}+}\r\n${message}\r\n`;
  }
  await send(writer, batch);
  await readUntil(writer, new RegExp(`^b${MESSAGES - 1} OK .*\\r\\n`, "m"));
  await send(writer, "c SELECT INBOX\r\n");
  await readUntil(writer, /^c OK .*\r\n/m);
}

/** Starts IDLE on a new session of `user`. */
async function idling(port: number, user: string): Promise<Deno.Conn> {
  const conn = await open(port, user);
  await send(conn, "s SELECT INBOX\r\ni IDLE\r\n");
  await readUntil(conn, /^\+ .*\r\n/m);
  return conn;
}

Deno.test("backpressure (IMAP IDLE): flag changes to idling clients that never read", async () => {
  const server = await spawnServer(false);
  const port = server.ports.IMAP;
  const idlers: Deno.Conn[] = [];
  const writer = await open(port, "idler");
  try {
    await fillInbox(writer);
    // They never read again.
    for (let i = 0; i < IDLERS; i++) idlers.push(await idling(port, "idler"));
    // Long keyword lists, changed every round: each round's FETCH to an idler is ~1 MB.
    const lists = [0, 1].map((set) =>
      Array.from({ length: 40 }, (_, k) => `keyword-number-${set}-${k}`).join(" ")
    );
    await assertBoundedGrowth(server, LIMIT_MB, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await send(writer, `r${round} STORE 1:* FLAGS.SILENT (${lists[round % 2]})\r\n`);
        await readUntil(writer, new RegExp(`^r${round} OK .*\\r\\n`, "m"));
      }
      return { sent: 0, close: () => idlers.forEach((conn) => conn.close()) };
    });
  } finally {
    writer.close();
    server.child.kill("SIGTERM");
    await server.exit();
  }
});

/** Reads until `text` has come, keeping only the tail (the updates are megabytes). */
async function readTail(conn: Deno.Conn, text: string): Promise<void> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(256 * 1024);
  let tail = "";
  // A hang guard: the read ends when the connection is closed under it.
  const guard = setTimeout(() => conn.close(), 20_000);
  try {
    while (!tail.includes(text)) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`connection closed before ${text}`);
      tail = (tail + decoder.decode(buffer.subarray(0, n))).slice(-(text.length + 256 * 1024));
    }
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("backpressure (IMAP IDLE): held updates go out once the client reads", async () => {
  const server = await spawnServer(false);
  const port = server.ports.IMAP;
  const writer = await open(port, "reader");
  let idler: Deno.Conn | null = null;
  try {
    await fillInbox(writer);
    idler = await idling(port, "reader");
    const long = (round: number) =>
      Array.from({ length: 40 }, (_, k) => `kw-${round}-${k}`).join(" ");
    for (let round = 0; round < 20; round++) {
      await send(writer, `r${round} STORE 1:* FLAGS.SILENT (${long(round)})\r\n`);
      await readUntil(writer, new RegExp(`^r${round} OK .*\\r\\n`, "m"));
    }
    // The idler reads now: the last message's last flags come (held ones, coalesced, included),
    // and IDLE ends as usual.
    await readTail(idler, `* ${MESSAGES} FETCH (UID ${MESSAGES} FLAGS (kw-19-0 `);
    await send(idler, "DONE\r\n");
    await readUntil(idler, /^i OK .*\r\n/m);
  } finally {
    for (const conn of [writer, idler]) {
      if (conn === null) continue;
      try {
        conn.close();
      } catch {
        // Closed by readTail's hang guard.
      }
    }
    server.child.kill("SIGTERM");
    await server.exit();
  }
});
