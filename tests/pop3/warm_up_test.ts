/**
 * The POP3 part of the JIT warm-up (lib/pop3/warm_up.ts): its conversation is valid POP3
 * that a server answers `+OK` at every step over a real socket (QUIT's UPDATE deleting the
 * message), and it plays to the end on its own store, whatever the server's users.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { pop3Conversation, warmUpPop3, warmUpPop3Message } from "../../lib/pop3/warm_up.ts";
import { startElektromail } from "../../lib/server.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** Reads from `conn` until `buffer` holds a complete response; returns it and the rest. */
async function readResponse(
  conn: Deno.TcpConn,
  buffer: string,
  multiLine: boolean,
): Promise<[string, string]> {
  const chunk = new Uint8Array(4096);
  for (;;) {
    const end = multiLine
      ? (buffer.startsWith("+OK") ? buffer.indexOf("\r\n.\r\n") : -1)
      : buffer.indexOf("\r\n");
    if (end >= 0) {
      const length = end + (multiLine ? 5 : 2);
      return [buffer.slice(0, length), buffer.slice(length)];
    }
    const n = await conn.read(chunk);
    if (n === null) return [buffer, ""];
    buffer += latin1.decode(chunk.subarray(0, n));
  }
}

Deno.test("POP3 warm-up: every command of its conversation gets +OK from a server", async () => {
  const server = await startElektromail(testConfig({ pop3Port: 0 }));
  server.store.ensureUser("pop");
  server.store.append("pop", "INBOX", warmUpPop3Message());
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.pop3! });
  try {
    let [response, rest] = await readResponse(conn, "", false);
    assert.match(response, /^\+OK /);
    for (const step of pop3Conversation()) {
      await conn.write(encoder.encode(`${step.command}\r\n`));
      [response, rest] = await readResponse(conn, rest, step.multiLine);
      assert.match(response, /^\+OK/, step.command);
      if (step.command === "RETR 1") assert.match(response, /\r\nHello,\r\n\.\.\r\n-- \r\n/);
    }
    assert.equal(rest, "");
    // QUIT's UPDATE removed the message DELE marked.
    assert.equal(server.store.listMessages("pop", "INBOX").length, 0);
  } finally {
    conn.close();
    await server.stop();
  }
});

Deno.test("POP3 warm-up: plays to the end on its own store, every response +OK", async () => {
  for (
    const config of [
      testConfig(),
      testConfig({ users: [{ user: "ann", password: "pw", address: "ann@example.com" }] }),
    ]
  ) {
    const store = openMemoryStore();
    const counted: boolean[] = [];
    await warmUpPop3(config, store, {
      goOn: () => true,
      counted: (ok) => counted.push(ok),
    });
    assert.deepEqual(counted, Array(1 + pop3Conversation().length).fill(true));
    assert.equal(store.listMessages("pop", "INBOX").length, 0, "deleted at QUIT");
    store.close();
  }
});

Deno.test("POP3 warm-up: stops when its caller says so, the maildrop left as it was", async () => {
  const store = openMemoryStore();
  const counted: boolean[] = [];
  let asks = 0;
  await warmUpPop3(testConfig(), store, {
    goOn: () => ++asks < 3,
    counted: (ok) => counted.push(ok),
  });
  // The greeting, CAPA, USER and PASS: counted; nothing after the third ask.
  assert.deepEqual(counted, [true, true, true, true]);
  assert.equal(store.listMessages("pop", "INBOX").length, 1);
  store.close();
});
