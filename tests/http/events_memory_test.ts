/**
 * `/events` memory (issue 11 item 9): listeners that never read cannot make the server hold
 * more than the global event budget, and what they held is released when they go away.
 * Measured as RSS growth of a real server subprocess.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SmtpClient, spawnMain } from "../process.ts";

const encoder = new TextEncoder();
const LISTENERS = 40;
const EVENTS = 250;
const SUBJECT_BYTES = 100 * 1024;

/** VmRSS of a process, in MiB. */
function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

async function health(port: number): Promise<{ eventListeners: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return await response.json();
}

/** A `GET /events` over raw TCP whose response is never read. */
async function deafListener(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    encoder.encode(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: */*\r\n\r\n`),
  );
  return conn;
}

/** A message whose event is about 100 KB: a long folded Subject. */
function bigMessage(i: number): string {
  const line = "x".repeat(998);
  const folds = Math.ceil(SUBJECT_BYTES / 1000);
  const subject = Array.from({ length: folds }, () => line).join("\r\n ");
  return `From: a@example.com\r\nSubject: ${i} ${subject}\r\n\r\nbody\r\n`;
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Figures {
  before: number;
  loaded: number;
  after: number;
}

/**
 * Starts a server, connects `listeners` deaf listeners, delivers the events, closes the
 * listeners: RSS at each step.
 */
async function measure(listeners: number): Promise<Figures> {
  const server = await spawnMain(["--smtp-port", "0", "--imap-port", "0", "--http-port", "0"]);
  const pid = server.child.pid;
  const http = server.ports.HTTP;
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < listeners; i++) conns.push(await deafListener(http));
    await waitFor("the listeners", async () => (await health(http)).eventListeners === listeners);
    const before = rssMiB(pid);

    const { client } = await SmtpClient.connect(server.ports.SMTP);
    assert.match(await client.command("EHLO test"), /^250/);
    for (let i = 0; i < EVENTS; i++) {
      assert.match(await client.command("MAIL FROM:<a@example.com>"), /^250/);
      assert.match(await client.command("RCPT TO:<amy@example.com>"), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      await client.write(bigMessage(i) + ".\r\n");
      assert.match(await client.readReply(), /^250/);
    }
    await client.command("QUIT");
    client.close();
    // Let the fan-out settle before measuring.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const loaded = rssMiB(pid);

    for (const conn of conns.splice(0)) conn.close();
    await waitFor("the listeners to go", async () => (await health(http)).eventListeners === 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { before, loaded, after: rssMiB(pid) };
  } finally {
    for (const conn of conns) conn.close();
    server.child.kill("SIGTERM");
    await server.exit();
  }
}

Deno.test({
  name: "events memory: 40 deaf listeners and 250 events of 100 KB add no more than the budget",
  fn: async () => {
    // The same deliveries without listeners: what the mail itself costs.
    const alone = await measure(0);
    const heard = await measure(LISTENERS);
    const show = (f: Figures) =>
      `before ${f.before.toFixed(0)}, loaded ${f.loaded.toFixed(0)}, ` +
      `after close ${f.after.toFixed(0)} MiB`;
    const figures = `RSS without listeners: ${show(alone)}; with ${LISTENERS}: ${show(heard)}`;
    console.log(`events memory: ${figures}`);
    const extraLoaded = (heard.loaded - heard.before) - (alone.loaded - alone.before);
    const extraAfter = (heard.after - heard.before) - (alone.after - alone.before);
    // The listeners may cost the global budget (64 MiB), not one queue each (40 × 16 MiB).
    assert.ok(extraLoaded < 100, `listeners added ${extraLoaded.toFixed(0)} MiB: ${figures}`);
    assert.ok(extraAfter < 100, `still held after close ${extraAfter.toFixed(0)} MiB: ${figures}`);
  },
});
