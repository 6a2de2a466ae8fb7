/**
 * Issue 11 item 13, slowloris, against a whole server: slow clients that dribble bytes (each
 * byte re-armed the idle timer) held every connection slot and locked out new clients. Now a
 * client address holds at most its share of the slots (SMTP `421 4.7.0`, IMAP `* BYE`), and a
 * started command line or message data that does not arrive in time is cut off (SMTP
 * `421 4.4.2`). Each test asserts another client is served within seconds (a hang guard, not
 * a speed assertion).
 *
 * @module
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import { parseChaosText } from "../../lib/chaos/rules.ts";
import { DEFAULT_LIMITS, type Limits, testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { sendMail } from "../process.ts";
import { waitFor } from "../wait.ts";

const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw client from a given loopback address, keeping what it receives. */
interface Client {
  readonly socket: net.Socket;
  text: string;
  closed: boolean;
}

function connectFrom(localAddress: string, port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => resolve(client));
    const client: Client = { socket, text: "", closed: false };
    socket.on("data", (chunk: Uint8Array) => (client.text += decoder.decode(chunk)));
    socket.on("close", () => (client.closed = true));
    socket.once("error", reject);
    socket.on("error", () => {});
  });
}

/** Sends one byte every `everyMs` until the connection closes or `stop()` is called. */
function dribble(clients: Client[], everyMs: number): { stop(): Promise<void> } {
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      for (const client of clients) if (!client.closed) client.socket.write("X");
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

async function serverWith(limits: Partial<Limits>, chaos = ""): Promise<Elektromail> {
  return await startElektromail(testConfig({
    httpPort: null,
    limits: { ...DEFAULT_LIMITS, ...limits },
    chaos: chaos === "" ? [] : parseChaosText(chaos),
  }));
}

Deno.test("slowloris (SMTP): 200 dribbling connections from one address lock no one out", async () => {
  const server = await serverWith({});
  const slow: Client[] = [];
  const dribbling = dribble(slow, 1000);
  try {
    for (let i = 0; i < DEFAULT_LIMITS.maxConnections; i++) {
      slow.push(await connectFrom("127.0.0.2", server.ports.smtp));
    }
    // Past its share of the slots, the address is refused with the protocol's message.
    await waitFor(() => slow.filter((c) => c.closed).length === 50, "50 refusals");
    const refused = slow.filter((c) => c.closed);
    for (const client of refused) {
      assert.match(client.text, /^421 4\.7\.0 localhost Too many connections/, client.text);
    }
    // Another client is served at once.
    const other = await connectFrom("127.0.0.1", server.ports.smtp);
    await waitFor(() => other.text.includes("\r\n"), "the greeting of another client");
    assert.match(other.text, /^220 /, other.text);
    other.socket.destroy();
  } finally {
    await dribbling.stop();
    for (const client of slow) client.socket.destroy();
    await server.stop();
  }
});

Deno.test("slowloris (SMTP): a command line dribbled a byte at a time is cut off", async () => {
  const server = await serverWith({
    maxConnections: 4,
    maxConnectionsPerAddress: 4,
    receiveTimeoutMs: 500,
  });
  const slow: Client[] = [];
  const dribbling = dribble(slow, 100);
  try {
    for (let i = 0; i < 4; i++) slow.push(await connectFrom("127.0.0.1", server.ports.smtp));
    // Every slot is held now; within seconds the slow ones are cut off and a client gets in.
    let served = "";
    const deadline = Date.now() + 5000;
    while (!served.startsWith("220") && Date.now() < deadline) {
      const other = await connectFrom("127.0.0.1", server.ports.smtp);
      await waitFor(() => other.text.includes("\r\n") || other.closed, "a reply").catch(() => {});
      served = other.text;
      other.socket.destroy();
      if (!served.startsWith("220")) await sleep(100);
    }
    assert.match(served, /^220 /, `another client was served: ${served}`);
    await waitFor(() => slow.every((c) => c.closed), "the slow clients' close");
    for (const client of slow) {
      assert.match(client.text, /\r\n421 4\.4\.2 localhost Timeout receiving the command/);
    }
  } finally {
    await dribbling.stop();
    for (const client of slow) client.socket.destroy();
    await server.stop();
  }
});

Deno.test("slowloris (SMTP): message data must make progress, a chaos delay after it is fine", async () => {
  const server = await serverWith(
    { receiveTimeoutMs: 500 },
    '{"protocol":"smtp","command":"DATA","action":"delay","delayMs":1200,"times":1}',
  );
  try {
    // The end of data waits 1.2 s for the chaos delay: not the client's fault, not cut off.
    assert.match(
      await sendMail(server.ports.smtp, "ann@example.com", "Subject: a\r\n\r\nhi\r\n"),
      /^250 /,
    );
    // Whole lines of message data, one every 100 ms: line ends do not count in DATA.
    const client = await connectFrom("127.0.0.1", server.ports.smtp);
    client.socket.write("EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<ann@example.com>\r\n");
    await waitFor(() => /250 [^\r]*\r\n250 [^\r]*\r\n$/.test(client.text), "the RCPT reply");
    client.socket.write("DATA\r\n");
    await waitFor(() => client.text.includes("354 "), "the 354");
    for (let i = 0; i < 50 && !client.closed; i++) {
      client.socket.write("Some line of the message\r\n");
      await sleep(100);
    }
    assert.ok(client.closed, "cut off");
    assert.match(client.text, /\r\n421 4\.4\.2 localhost Timeout receiving the command or data/);
    // Only the first message was delivered.
    assert.equal(server.store.listMessages("ann", "INBOX").length, 1);
  } finally {
    await server.stop();
  }
});

Deno.test("slowloris (IMAP): one address holds at most its share of the slots", async () => {
  // 3/4 of 8, as resolveConfig makes it from --max-connections (testConfig takes limits as given).
  const server = await serverWith({ maxConnections: 8, maxConnectionsPerAddress: 6 });
  const held: Client[] = [];
  try {
    for (let i = 0; i < 6; i++) held.push(await connectFrom("127.0.0.2", server.ports.imap));
    await waitFor(() => held.every((c) => c.text.startsWith("* OK")), "six greetings");
    const refused = await connectFrom("127.0.0.2", server.ports.imap);
    await waitFor(() => refused.closed, "the refusal", 5000).catch(() => {});
    assert.equal(refused.text, "* BYE Too many connections, try again later\r\n");
    const other = await connectFrom("127.0.0.1", server.ports.imap);
    await waitFor(() => other.text.includes("\r\n"), "another address's greeting");
    assert.match(other.text, /^\* OK /);
    refused.socket.destroy();
    other.socket.destroy();
  } finally {
    for (const client of held) client.socket.destroy();
    await server.stop();
  }
});
