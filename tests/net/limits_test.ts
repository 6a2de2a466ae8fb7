/**
 * The transport's guards against slow and greedy clients (issue 11 items 4 and 13), on both
 * connection kinds: the per-address connection limit, the receive deadline (a started line
 * must end, message data must make progress), refusals logged once per interval, and no
 * reading while a peer leaves output unread.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import { DEFAULT_TLS } from "../../lib/config.ts";
import { type Logger, quietLogger } from "../../lib/log.ts";
import { RECEIVE_PROGRESS_BYTES } from "../../lib/net/input_guard.ts";
import { loadTlsMaterial } from "../../lib/net/tls.ts";
import {
  type Connection,
  listen,
  type Listener,
  type ListenOptions,
} from "../../lib/net/transport.ts";
import { waitFor } from "../wait.ts";

const material = await loadTlsMaterial({
  tls: DEFAULT_TLS,
  dbPath: null,
  hostname: "localhost",
  bindAddr: "127.0.0.1",
  logger: quietLogger(),
});
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `deno`: a `Deno.listen` listener; `node`: a `node:net` one (STARTTLS offered, not used). */
type Kind = "deno" | "node";
const KINDS: Kind[] = ["deno", "node"];

interface Started {
  listener: Listener;
  connections: Connection[];
  received: () => number;
  slow: number;
}

async function start(
  kind: Kind,
  options: Partial<ListenOptions> & {
    onData?: (connection: Connection, chunk: Uint8Array) => void;
  } = {},
): Promise<Started> {
  let received = 0;
  const started: Started = {
    listener: null as unknown as Listener,
    connections: [],
    received: () => received,
    slow: 0,
  };
  started.listener = await listen({
    name: "test",
    host: "127.0.0.1",
    port: 0,
    maxConnections: 50,
    idleTimeoutMs: 0,
    logger: quietLogger(),
    refusal: "FULL\r\n",
    tls: kind === "node" ? { mode: "starttls", cert: material.cert, key: material.key } : null,
    accept(connection) {
      started.connections.push(connection);
      return {
        onData: (chunk) => {
          received += chunk.length;
          options.onData?.(connection, chunk);
        },
        onIdle: () => connection.end(),
        onSlowInput: () => {
          started.slow++;
          connection.write("SLOW\r\n");
        },
        onShutdown() {},
        onClose() {},
      };
    },
    ...options,
  });
  return started;
}

/** A `node:net` client from `localAddress` (any 127.x.y.z is loopback on Linux). */
function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes (a hang guard gives up after 5 s). */
function allText(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const guard = setTimeout(() => {
      text += "<no close from the server>";
      socket.destroy();
    }, 5000);
    socket.on("data", (chunk: Uint8Array) => (text += decoder.decode(chunk)));
    socket.on("close", () => {
      clearTimeout(guard);
      resolve(text);
    });
    socket.on("error", () => {});
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const kind of KINDS) {
  Deno.test(`limits (${kind}): connections per client address`, async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...quietLogger(), warn: (text) => warnings.push(text) };
    const { listener } = await start(kind, { maxConnectionsPerAddress: 2, logger });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) sockets.push(await connectFrom("127.0.0.2", listener.port));
      await waitFor(() => listener.connections === 2, "two connections from 127.0.0.2");
      const refused: Promise<string>[] = [];
      for (let i = 0; i < 3; i++) {
        const socket = await connectFrom("127.0.0.2", listener.port);
        sockets.push(socket);
        refused.push(allText(socket));
      }
      assert.deepEqual(await Promise.all(refused), ["FULL\r\n", "FULL\r\n", "FULL\r\n"]);
      // Another address still gets in.
      sockets.push(await connectFrom("127.0.0.1", listener.port));
      await waitFor(() => listener.connections === 3, "the connection from 127.0.0.1");
      // Refusals are logged once, then counted.
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /refused a connection from 127\.0\.0\.2, 2 open .*limit 2 per/);
      // A slot given back is free again.
      sockets[0].destroy();
      await waitFor(() => listener.connections === 2, "the close");
      sockets.push(await connectFrom("127.0.0.2", listener.port));
      await waitFor(() => listener.connections === 3, "the connection in the freed slot");
    } finally {
      for (const socket of sockets) socket.destroy();
      await listener.close();
    }
    assert.match(warnings.at(-1)!, /\(2 like it in the last 10 s\)$/, warnings.join("\n"));
  });

  Deno.test(`limits (${kind}): a started line must end in time`, async () => {
    const started = await start(kind, { receiveTimeoutMs: 300 });
    const { listener } = started;
    try {
      // Complete lines, then silence: the peer owes nothing, it is not cut off.
      const quiet = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      await quiet.write(encoder.encode("NOOP\r\nNOOP\r\n"));
      // One byte every 100 ms, never a line end: each byte is activity, yet it is cut off.
      const dribbler = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      const began = Date.now();
      const reply = readText(dribbler);
      const dribbling = (async () => {
        for (let i = 0; i < 30; i++) {
          if (await dribbler.write(encoder.encode("x")).catch(() => 0) === 0) return;
          await sleep(100);
        }
      })();
      assert.equal(await reply, "SLOW\r\n");
      const took = Date.now() - began;
      assert.ok(took < 2500, `cut off after ${took} ms`);
      await dribbling;
      assert.equal(started.slow, 1);
      assert.equal(listener.connections, 1, "the quiet connection stays");
      closeQuietly(dribbler);
      quiet.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`limits (${kind}): message data must make progress`, async () => {
    // A deadline well above the gaps between the writes below (150 and 100 ms), so that a test
    // process frozen for a few hundred ms (a loaded CI machine) does not miss it.
    const started = await start(kind, {
      receiveTimeoutMs: 1_500,
      onData: (connection, chunk) => {
        const text = decoder.decode(chunk);
        if (text.startsWith("DATA")) connection.expectBody(true);
        if (text.includes(".\r\n")) connection.expectBody(false);
      },
    });
    const { listener } = started;
    try {
      // Bulk data with no line end restarts the deadline while it keeps coming.
      const bulk = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      const block = new Uint8Array(RECEIVE_PROGRESS_BYTES).fill(0x61);
      // Longer in all than the deadline.
      for (let i = 0; i < 12; i++) {
        await bulk.write(block);
        await sleep(150);
      }
      await bulk.write(encoder.encode("\r\n"));
      assert.equal(started.slow, 0, "steady progress is not slow");
      // Whole lines of message data, slowly: line ends do not count in a body.
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      await slow.write(encoder.encode("DATA\r\n"));
      const reply = readText(slow);
      const giveUp = Date.now() + 10_000;
      while (started.slow === 0 && Date.now() < giveUp) {
        await slow.write(encoder.encode("line\r\n")).catch(() => 0);
        await sleep(100);
      }
      assert.equal(await reply, "SLOW\r\n");
      assert.equal(started.slow, 1);
      closeQuietly(slow);
      bulk.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`limits (${kind}): no deadline while the server does not read`, async () => {
    const started = await start(kind, {
      receiveTimeoutMs: 300,
      onData: (connection) => {
        connection.pause();
        setTimeout(() => connection.resume(), 700);
      },
    });
    const { listener } = started;
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      await conn.write(encoder.encode("partial"));
      await sleep(600);
      assert.equal(started.slow, 0, "not cut off while paused");
      // After the resume the deadline starts afresh, and passes.
      assert.equal(await readText(conn), "SLOW\r\n");
      closeQuietly(conn);
    } finally {
      await listener.close();
    }
  });

  Deno.test(`limits (${kind}): nothing is read while output waits unread`, async () => {
    const reply = new Uint8Array(64 * 1024);
    const started = await start(kind, { onData: (connection) => void connection.write(reply) });
    const { listener } = started;
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      // 64 KiB of output per chunk read, never read by the client.
      const chunk = new Uint8Array(16 * 1024).fill(0x61);
      const end = Date.now() + 1500;
      let sent = 0;
      while (Date.now() < end) {
        const written = conn.write(chunk).then(() => true, () => false);
        const ok = await Promise.race([written, sleep(300).then(() => false)]);
        if (!ok) break;
        sent += chunk.length;
      }
      const received = started.received();
      // Without flow control the server reads all (hundreds of MB); with it, a few socket
      // buffers' worth before the client's writes block.
      assert.ok(received < 32 * 1024 * 1024, `read ${received} of ${sent} bytes`);
      conn.close();
    } finally {
      await listener.close();
    }
  });
}

/**
 * Everything the server sends until it closes; a hang guard closes the connection after
 * `ms` (a server that never cuts the client off fails the assertion instead of hanging).
 */
async function readText(conn: Deno.Conn, ms = 5000): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(4096);
  const guard = setTimeout(() => {
    text += "<no close from the server>";
    conn.close();
  }, ms);
  try {
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) return text;
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(guard);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed by the hang guard
  }
}
