/**
 * The transport, both kinds: `Deno.listen` (plain) and `node:net` (STARTTLS-capable plain
 * ports, implicit TLS) must behave the same for sessions: data in, writes out, backpressure,
 * limits, idle timeouts, peer close, end-after-flush and shutdown. Then the STARTTLS switch.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concatBytes } from "../../lib/bytes.ts";
import { DEFAULT_TLS } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { loadTlsMaterial } from "../../lib/net/tls.ts";
import {
  type Connection,
  type ConnectionHandler,
  listen,
  type Listener,
  type ListenTls,
} from "../../lib/net/transport.ts";
import { waitFor } from "../wait.ts";

const material = await loadTlsMaterial({
  tls: DEFAULT_TLS,
  dbPath: null,
  hostname: "localhost",
  bindAddr: "127.0.0.1",
  logger: quietLogger(),
});

type Kind = "deno" | "starttls" | "implicit";
const KINDS: Kind[] = ["deno", "starttls", "implicit"];
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function tlsFor(kind: Kind): ListenTls | null {
  return kind === "deno" ? null : { mode: kind, cert: material.cert, key: material.key };
}

/** What a test session saw. */
interface Seen {
  connections: Connection[];
  data: string[];
  idle: number;
  shutdown: number;
  closed: number;
  closedSignal: PromiseWithResolvers<void>;
}

async function start(
  kind: Kind,
  handler: (connection: Connection, seen: Seen) => Partial<ConnectionHandler> = () => ({}),
  overrides: { maxConnections?: number; idleTimeoutMs?: number; acceptFrom?: Promise<void> } = {},
): Promise<{ listener: Listener; seen: Seen }> {
  const seen: Seen = {
    connections: [],
    data: [],
    idle: 0,
    shutdown: 0,
    closed: 0,
    closedSignal: Promise.withResolvers(),
  };
  const listener = await listen({
    name: "test",
    host: "127.0.0.1",
    port: 0,
    maxConnections: overrides.maxConnections ?? 10,
    idleTimeoutMs: overrides.idleTimeoutMs ?? 0,
    logger: quietLogger(),
    refusal: "FULL\r\n",
    tls: tlsFor(kind),
    acceptFrom: overrides.acceptFrom,
    accept(connection) {
      seen.connections.push(connection);
      const custom = handler(connection, seen);
      return {
        onData: (chunk) => {
          seen.data.push(decoder.decode(chunk));
          custom.onData?.(chunk);
        },
        onIdle: () => {
          seen.idle++;
          (custom.onIdle ?? (() => connection.end()))();
        },
        onShutdown: () => {
          seen.shutdown++;
          custom.onShutdown?.();
        },
        onClose: () => {
          seen.closed++;
          seen.closedSignal.resolve();
        },
      };
    },
  });
  return { listener, seen };
}

/** A client of the right kind (implicit TLS trusts the generated certificate). */
async function connect(kind: Kind, port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (kind !== "implicit") return conn;
  const tls = await Deno.startTls(conn, { hostname: "localhost", caCerts: [material.cert] });
  await tls.handshake();
  return tls;
}

async function readAll(conn: Deno.Conn, limit = Infinity): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (total < limit) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    parts.push(buffer.slice(0, n));
    total += n;
  }
  return concatBytes(parts, total);
}

/** Whether the server closed `conn` (end or reset) within `ms`; a test fails, never hangs. */
async function closedWithin(conn: Deno.Conn, ms = 2000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const read = conn.read(new Uint8Array(10)).then((n) => n === null, () => true);
  const closed = await Promise.race([read, open]);
  clearTimeout(timer);
  return closed;
}

for (const kind of KINDS) {
  Deno.test(`transport (${kind}): data in, writes out, end flushes, close reported`, async () => {
    const { listener, seen } = await start(kind, (connection) => ({
      onData: (chunk) => {
        const text = decoder.decode(chunk);
        connection.write(`echo ${text}`);
        if (text.includes("bye")) connection.end();
      },
    }));
    try {
      const conn = await connect(kind, listener.port);
      await conn.write(encoder.encode("hello"));
      const buffer = new Uint8Array(100);
      const n = await conn.read(buffer);
      assert.equal(decoder.decode(buffer.subarray(0, n!)), "echo hello");
      assert.equal(listener.connections, 1);
      const connection = seen.connections[0];
      assert.match(connection.remote, /^127\.0\.0\.1:\d+$/);
      assert.equal(connection.tls, { deno: "off", starttls: "offered", implicit: "active" }[kind]);
      await conn.write(encoder.encode("bye"));
      assert.equal(decoder.decode(await readAll(conn)), "echo bye");
      await seen.closedSignal.promise;
      assert.equal(connection.closed, true);
      assert.equal(listener.connections, 0);
      conn.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): writes come out in order, alone or behind others`, async () => {
    // A write while nothing is queued goes to the socket at once (a reply per command); writes
    // made while one is with the OS queue behind it. Both must keep the order they were made.
    const big = "b".repeat(100 * 1024);
    const expected: string[] = [];
    const { listener } = await start(kind, (connection) => ({
      onData: async (chunk) => {
        if (!decoder.decode(chunk).includes("go")) return;
        const say = (text: string, bytes = false) => {
          expected.push(text);
          connection.write(bytes ? encoder.encode(text) : text);
        };
        say("alone\r\n");
        await connection.drained();
        for (let i = 0; i < 20; i++) say(`burst ${i}\r\n`, i % 3 === 0);
        say(big);
        say("after big\r\n");
        await connection.drained();
        say("alone again\r\n");
        connection.end();
      },
    }));
    try {
      const conn = await connect(kind, listener.port);
      await conn.write(encoder.encode("go"));
      assert.equal(decoder.decode(await readAll(conn)), expected.join(""));
      conn.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): chunks a session keeps stay as they were read`, async () => {
    // Sessions keep chunks (message data, literals): later reads must not write over them,
    // nor may replies written meanwhile share their bytes.
    const kept: Uint8Array[] = [];
    const { listener } = await start(kind, (connection) => ({
      onData: (chunk) => {
        kept.push(chunk);
        connection.write(`ok ${kept.length}\r\n`);
      },
    }));
    try {
      const conn = await connect(kind, listener.port);
      let sent = "";
      let received = 0;
      for (let i = 0; i < 200; i++) {
        const piece = `piece ${i} ${"x".repeat(i * 7)}\r\n`;
        sent += piece;
        await conn.write(encoder.encode(piece));
        // Each piece its own read: the next is sent once this one has arrived.
        await waitFor(
          () => (received = kept.reduce((n, c) => n + c.length, 0)) >= sent.length,
          "a read",
        );
      }
      assert.equal(received, sent.length);
      assert.equal(decoder.decode(concatBytes(kept)), sent);
      const replies = Array.from({ length: kept.length }, (_, i) => `ok ${i + 1}\r\n`).join("");
      assert.equal(decoder.decode(await readAll(conn, replies.length)), replies);
      conn.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): backpressure past 1 MiB, drained, end after flush`, async () => {
    const chunk = new Uint8Array(256 * 1024).fill(0x61);
    let sawFalse = false;
    let drained = false;
    const { listener } = await start(kind, (connection) => ({
      onData: async () => {
        for (let i = 0; i < 16; i++) if (!connection.write(chunk)) sawFalse = true;
        await connection.drained();
        drained = true;
        connection.write("END");
        connection.end();
      },
    }));
    try {
      const conn = await connect(kind, listener.port);
      await conn.write(encoder.encode("go"));
      const bytes = await readAll(conn);
      assert.equal(bytes.length, 16 * chunk.length + 3);
      assert.equal(decoder.decode(bytes.subarray(bytes.length - 3)), "END");
      assert.ok(sawFalse, "write() returned false past the high-water mark");
      assert.ok(drained);
      conn.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): connections over the limit get the refusal`, async () => {
    const { listener, seen } = await start(kind, undefined, { maxConnections: 1 });
    try {
      const first = await connect(kind, listener.port);
      await waitFor(() => listener.connections === 1, "the first connection");
      const second = await connect(kind, listener.port);
      assert.equal(decoder.decode(await readAll(second)), "FULL\r\n");
      assert.equal(seen.connections.length, 1);
      second.close();
      first.close();
      await seen.closedSignal.promise;
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): idle timeout, pause/resume`, async () => {
    // Resumed by the test, not by a timer racing the idle timeout (a test process frozen for a
    // while on a loaded machine let the idle timeout end the connection first).
    let resume: (() => void) | null = null;
    const { listener, seen } = await start(kind, (connection) => ({
      onData: (chunk) => {
        if (decoder.decode(chunk) === "pause") {
          connection.pause();
          resume = () => connection.resume();
        }
      },
    }), { idleTimeoutMs: 1_500 });
    try {
      const conn = await connect(kind, listener.port);
      await conn.write(encoder.encode("pause"));
      await waitFor(() => seen.data.length === 1, "the first chunk");
      await conn.write(encoder.encode("later"));
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.deepEqual(
        seen.data,
        ["pause"],
        `nothing delivered while paused: ${JSON.stringify(seen.data)}`,
      );
      resume!();
      await waitFor(() => seen.data.length === 2, "data after resume");
      assert.equal(seen.data[1], "later");
      // The default onIdle ends the connection.
      assert.equal(decoder.decode(await readAll(conn)), "");
      assert.equal(seen.idle, 1);
      conn.close();
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): a peer that goes away is reported closed`, async () => {
    // A greeting written at once (as SMTP and IMAP do) that a TLS peer never reads.
    const { listener, seen } = await start(kind, (connection) => {
      connection.write("HELLO\r\n");
      return {};
    });
    try {
      // Implicit TLS: a client that never starts the handshake (a TCP health probe).
      const raw = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      await waitFor(() => listener.connections === 1, "the connection");
      raw.close();
      // Well before the 5 s end grace: the server does not wait to flush to a gone peer.
      await waitFor(() => listener.connections === 0, "the close", 2500);
      await seen.closedSignal.promise;
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): shutdown tells sessions, then closes the rest`, async () => {
    const { listener, seen } = await start(kind, (connection) => ({
      onShutdown: () => {
        connection.write("BYE\r\n");
        connection.end();
      },
    }));
    const conn = await connect(kind, listener.port);
    await waitFor(() => listener.connections === 1, "the connection");
    await listener.close();
    assert.equal(seen.shutdown, 1);
    assert.equal(seen.closed, 1);
    assert.equal(decoder.decode(await readAll(conn)), "BYE\r\n");
    conn.close();
    await assert.rejects(connect(kind, listener.port));
  });

  Deno.test(`transport (${kind}): bound at once, connections taken once acceptFrom settles`, async () => {
    // The server binds its ports before its startup warm-up and serves after it (lib/server.ts).
    const gate = Promise.withResolvers<void>();
    const { listener, seen } = await start(kind, (connection) => {
      connection.write("HELLO\r\n");
      return {};
    }, { acceptFrom: gate.promise });
    try {
      // Implicit TLS: the handshake waits for the gate too.
      const connecting = connect(kind, listener.port);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(seen.connections.length, 0, "a connection was taken before the gate");
      assert.equal(listener.connections, 0);
      gate.resolve();
      const conn = await connecting;
      const buffer = new Uint8Array(100);
      const n = await conn.read(buffer);
      assert.equal(decoder.decode(buffer.subarray(0, n!)), "HELLO\r\n");
      assert.equal(seen.connections.length, 1);
      conn.close();
      await seen.closedSignal.promise;
    } finally {
      await listener.close();
    }
  });

  Deno.test(`transport (${kind}): closed before acceptFrom settles, waiting clients dropped`, async () => {
    const gate = Promise.withResolvers<void>();
    const { listener, seen } = await start(kind, undefined, { acceptFrom: gate.promise });
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Does not wait for the gate, which never opens here.
    await listener.close();
    assert.equal(seen.connections.length, 0);
    assert.ok(await closedWithin(raw), "a waiting client was left open");
    raw.close();
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: listener.port }));
  });

  Deno.test(`transport (${kind}): clients waiting for acceptFrom count against the limit`, async () => {
    // A flood while the gate is shut: node:net accepts on its own, so what it holds is bounded
    // by maxConnections; Deno.listen leaves the rest in the kernel's backlog.
    const gate = Promise.withResolvers<void>();
    const { listener, seen } = await start(kind, (connection) => {
      connection.write("HELLO\r\n");
      return {};
    }, { maxConnections: 1, acceptFrom: gate.promise });
    const raws: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        raws.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.port }));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (kind !== "deno") {
        // Past the limit, closed at once rather than held.
        assert.ok(await closedWithin(raws[raws.length - 1]), "a client past the limit was held");
      }
      gate.resolve();
      await waitFor(() => seen.connections.length === 1, "the first connection");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(seen.connections.length, 1);
      assert.equal(listener.connections, 1);
    } finally {
      for (const raw of raws) raw.close();
      await listener.close();
    }
  });
}

Deno.test("transport: STARTTLS drops pipelined and late plaintext, then speaks TLS", async () => {
  let upgraded: Connection | null = null;
  const { listener, seen } = await start("starttls", (connection) => ({
    onData: (chunk) => {
      const text = decoder.decode(chunk);
      if (text.startsWith("STARTTLS")) {
        connection.write("GO\r\n");
        connection.startTls();
        upgraded = connection;
        // Written before the handshake: must arrive encrypted, after it.
        connection.write("FIRST OVER TLS\r\n");
        assert.throws(() => connection.startTls(), /Cannot start TLS: TLS is active/);
      } else connection.write(`got ${text}`);
    },
  }));
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await conn.write(encoder.encode("STARTTLS\r\nINJECTED\r\n"));
    const buffer = new Uint8Array(100);
    const n = await conn.read(buffer);
    assert.equal(decoder.decode(buffer.subarray(0, n!)), "GO\r\n");
    const tls = await Deno.startTls(conn, { hostname: "localhost", caCerts: [material.cert] });
    await tls.handshake();
    const first = await tls.read(buffer);
    assert.equal(decoder.decode(buffer.subarray(0, first!)), "FIRST OVER TLS\r\n");
    await tls.write(encoder.encode("secret"));
    const m = await tls.read(buffer);
    assert.equal(decoder.decode(buffer.subarray(0, m!)), "got secret");
    assert.deepEqual(seen.data, ["STARTTLS\r\nINJECTED\r\n", "secret"]);
    assert.equal(upgraded!.tls, "active");
    tls.close();
    await seen.closedSignal.promise;
  } finally {
    await listener.close();
  }
});

Deno.test("transport: a plaintext client after STARTTLS fails the handshake, not the server", async () => {
  const { listener, seen } = await start("starttls", (connection) => ({
    onData: () => {
      connection.write("GO\r\n");
      connection.startTls();
    },
  }));
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await conn.write(encoder.encode("STARTTLS\r\n"));
    const buffer = new Uint8Array(100);
    await conn.read(buffer);
    await conn.write(encoder.encode("MAIL FROM:<evil@example.com>\r\n"));
    await readAll(conn);
    await seen.closedSignal.promise;
    assert.deepEqual(seen.data, ["STARTTLS\r\n"], "the late plaintext was never delivered");
    conn.close();
  } finally {
    await listener.close();
  }
});

Deno.test("transport: a client that never completes the TLS handshake is cut off", async () => {
  for (const mode of ["implicit", "starttls"] as const) {
    const seen = { closed: Promise.withResolvers<void>(), data: [] as string[] };
    const listener = await listen({
      name: "test",
      host: "127.0.0.1",
      port: 0,
      maxConnections: 10,
      idleTimeoutMs: 0,
      logger: quietLogger(),
      refusal: "",
      tls: { mode, cert: material.cert, key: material.key, handshakeTimeoutMs: 200 },
      accept: (connection) => ({
        onData: (chunk) => {
          seen.data.push(decoder.decode(chunk));
          connection.write("GO\r\n");
          connection.startTls();
        },
        onIdle() {},
        onShutdown() {},
        onClose: () => seen.closed.resolve(),
      }),
    });
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      if (mode === "starttls") await conn.write(encoder.encode("STARTTLS\r\n"));
      // Silence instead of a ClientHello: the server gives up, with no idle timeout set.
      await seen.closed.promise;
      assert.equal(listener.connections, 0);
      conn.close();
    } finally {
      await listener.close();
    }
  }
});

Deno.test("transport: a Deno.listen connection cannot start TLS", async () => {
  const { listener, seen } = await start("deno");
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await waitFor(() => seen.connections.length === 1, "the connection");
    assert.throws(() => seen.connections[0].startTls(), /this listener has no TLS/);
    conn.close();
    await seen.closedSignal.promise;
  } finally {
    await listener.close();
  }
});

Deno.test("transport: a port in use is refused by both kinds with the OS error", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    for (const kind of KINDS) {
      await assert.rejects(
        listen({
          name: "test",
          host: "127.0.0.1",
          port,
          maxConnections: 1,
          idleTimeoutMs: 0,
          logger: quietLogger(),
          refusal: "",
          tls: tlsFor(kind),
          accept: () => ({ onData() {}, onIdle() {}, onShutdown() {}, onClose() {} }),
        }),
        (error: Error & { code?: string }) => {
          assert.ok(
            error.name === "AddrInUse" || error.code === "EADDRINUSE",
            `${kind}: ${error.name} ${error.code}`,
          );
          return true;
        },
      );
    }
  } finally {
    taken.close();
  }
});
