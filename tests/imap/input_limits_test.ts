/**
 * Issue 11 items 4 and 13 on the IMAP side: the per-address connection limit and the receive
 * deadline reach IMAP listeners as configured (they used the transport's defaults), a started
 * command line that does not arrive in time gets `* BYE`, and a client that keeps sending
 * while a command runs is no longer read once 64 KiB of its input waits (it was all buffered).
 * Waits are hang guards, never speed assertions.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import { parseChaosText } from "../../lib/chaos/rules.ts";
import { DEFAULT_LIMITS, type Limits, testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { waitFor } from "../wait.ts";

const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Client {
  readonly socket: net.Socket;
  text: string;
  closed: boolean;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => resolve(client));
    const client: Client = { socket, text: "", closed: false };
    socket.on("data", (chunk: Uint8Array) => (client.text += decoder.decode(chunk)));
    socket.on("close", () => (client.closed = true));
    socket.once("error", reject);
    socket.on("error", () => {});
  });
}

async function serverWith(limits: Partial<Limits>, chaos = ""): Promise<Elektromail> {
  return await startElektromail(testConfig({
    httpPort: null,
    limits: { ...DEFAULT_LIMITS, ...limits },
    chaos: chaos === "" ? [] : parseChaosText(chaos),
  }));
}

Deno.test("IMAP: the configured per-address limit applies to IMAP listeners", async () => {
  const server = await serverWith({ maxConnections: 50, maxConnectionsPerAddress: 2 });
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 2; i++) clients.push(await connect(server.ports.imap));
    await waitFor(() => clients.every((c) => c.text.startsWith("* OK")), "two greetings");
    const third = await connect(server.ports.imap);
    clients.push(third);
    await waitFor(() => third.closed, "the refusal of the third");
    assert.equal(third.text, "* BYE Too many connections, try again later\r\n");
  } finally {
    for (const client of clients) client.socket.destroy();
    await server.stop();
  }
});

Deno.test("IMAP: a command line dribbled past the receive timeout gets * BYE", async () => {
  const server = await serverWith({ receiveTimeoutMs: 300 });
  const client = await connect(server.ports.imap);
  try {
    await waitFor(() => client.text.startsWith("* OK"), "the greeting");
    client.socket.write("a1 NO");
    for (let i = 0; i < 40 && !client.closed; i++) {
      client.socket.write("O");
      await sleep(50);
    }
    await waitFor(() => client.closed, "the close");
    assert.match(client.text, /\r\n\* BYE Timeout while receiving the command\r\n$/);
  } finally {
    client.socket.destroy();
    await server.stop();
  }
});

Deno.test("IMAP: input sent while a command runs is not read past 64 KiB", async () => {
  // NOOP is held for 3 s by a chaos delay; meanwhile the client sends a 32 MiB APPEND.
  const server = await serverWith(
    {},
    '{"protocol":"imap","command":"NOOP","action":"delay","delayMs":3000,"times":1}',
  );
  const client = await connect(server.ports.imap);
  try {
    await waitFor(() => client.text.startsWith("* OK"), "the greeting");
    client.socket.write("a1 LOGIN u p\r\n");
    await waitFor(() => client.text.includes("a1 OK"), "the login");
    client.socket.write("a2 NOOP\r\n");
    await sleep(100);
    // An APPEND over the size limit: refused and drained once read, never kept.
    client.socket.write(`a3 APPEND INBOX {${32 * 1024 * 1024}+}\r\n`);
    const block = new Uint8Array(1024 * 1024).fill(0x61);
    for (let i = 0; i < 32; i++) client.socket.write(block);
    // The kernel's socket buffers take a few MiB; a server that reads on takes it all.
    await sleep(1500);
    const unsent = client.socket.writableLength;
    assert.ok(
      unsent > 16 * 1024 * 1024,
      `the server kept reading during the command: only ${unsent} octets left unsent`,
    );
    // After the command the server reads again and answers what was sent.
    await waitFor(() => client.text.includes("a2 OK"), "the delayed NOOP", 10_000);
    await waitFor(() => client.socket.writableLength === 0, "the rest to be read", 20_000);
    await waitFor(() => client.text.includes("a3 BAD [TOOBIG]"), "the APPEND's refusal");
  } finally {
    client.socket.destroy();
    await server.stop();
  }
});
