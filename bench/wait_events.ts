/**
 * Wait latency and event-stream throughput of the HTTP control plane.
 *
 * ```sh
 * deno run -A bench/wait_events.ts [--waits 300] [--seconds 5] [--rate 1000] [--burst 10000]
 * ```
 *
 * The server runs as a subprocess (`deno run -A main.ts`, memory store). Three phases:
 *
 * 1. **Wait latency.** For each message a `GET /messages/wait?to=…+wN@…` is registered first
 *    (checked through `/health`), then the message goes over an open SMTP connection. The
 *    figure is the time from reading the SMTP `250` to having the waiter's whole JSON
 *    response, and from writing the final `.` to the same point. Measured twice: alone, and
 *    with `--idle` other waiters (half for other users, half without a user filter) idle.
 * 2. **Paced events.** One `/events?types=message.added` listener while 4 SMTP connections
 *    deliver `--rate` messages per second for `--seconds`: delivered vs received (lost must
 *    be 0) and the lag from each `250` to its event.
 * 3. **Burst events.** `--burst` messages as fast as 8 pipelining SMTP connections go: the
 *    delivery rate, the event rate the listener sees, and lost events.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openEvents, type SseStream } from "../tests/http/sse.ts";
import { SmtpClient } from "../tests/process.ts";
import { spawnServer } from "./spawn.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    waits: { type: "string", default: "300" },
    seconds: { type: "string", default: "5" },
    rate: { type: "string", default: "1000" },
    burst: { type: "string", default: "10000" },
    idle: { type: "string", default: "1000" },
  },
});
const WAITS = Number(values.waits);
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const BURST = Number(values.burst);
const IDLE = Number(values.idle);

function message(to: string, subject: string): string {
  return `From: bench@example.com\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n` +
    "A short body, as transactional mail is.\r\n.\r\n";
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  return `median ${f(percentile(sorted, 0.5))} ms, p90 ${f(percentile(sorted, 0.9))}, ` +
    `p99 ${f(percentile(sorted, 0.99))}, min ${f(sorted[0])}, max ${f(sorted[sorted.length - 1])}`;
}

async function smtpConnection(port: number): Promise<SmtpClient> {
  const { client } = await SmtpClient.connect(port);
  await client.command("EHLO bench");
  return client;
}

/** One transaction, pipelined: MAIL, RCPT and DATA in one write. Returns when 250 is read. */
async function send(client: SmtpClient, to: string, subject: string): Promise<number> {
  await client.write(`MAIL FROM:<bench@example.com>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
  for (let i = 0; i < 3; i++) {
    const reply = await client.readReply();
    if (!/^(250|354)/.test(reply)) throw new Error(`${to}: ${reply}`);
  }
  await client.write(message(to, subject));
  const reply = await client.readReply();
  if (!reply.startsWith("250")) throw new Error(`${to}: ${reply}`);
  return performance.now();
}

/** The resident set of a process, from /proc (Linux). */
function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Polls `/health` until `n` requests wait (a stuck count is an error, not a hang). */
async function waitingCount(http: string, n: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  while ((await (await fetch(`${http}/health`)).json()).waiting !== n) {
    if (performance.now() > deadline) throw new Error(`never saw ${n} waiting requests`);
  }
}

async function waitLatency(http: string, smtpPort: number, idle: number): Promise<void> {
  const client = await smtpConnection(smtpPort);
  const after250: number[] = [];
  const afterDot: number[] = [];
  let before = 0;
  for (let i = 0; i < WAITS + 20; i++) {
    const to = `bench+w${idle}-${i}@example.com`;
    const response = fetch(`${http}/messages/wait?to=${encodeURIComponent(to)}&timeout=10`)
      .then(async (r) => {
        if (r.status !== 200) throw new Error(`wait ${i}: ${r.status}`);
        await r.json();
        return performance.now();
      });
    await waitingCount(http, idle + 1);
    await client.write(`MAIL FROM:<bench@example.com>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
    for (let k = 0; k < 3; k++) await client.readReply();
    before = performance.now();
    await client.write(message(to, `w${i}`));
    const reply = await client.readReply();
    const t250 = performance.now();
    if (!reply.startsWith("250")) throw new Error(reply);
    const answered = await response;
    if (i < 20) continue; // warm-up
    after250.push(answered - t250);
    afterDot.push(answered - before);
  }
  client.close();
  const early = after250.filter((x) => x < 0).length;
  console.log(`wait latency, ${WAITS} waits, one at a time, ${idle} other waiters idle:`);
  console.log(`  SMTP 250 -> waiter response:  ${summary(after250)}`);
  console.log(`  (${early} of ${WAITS} responses were read before the 250)`);
  console.log(`  end of DATA -> waiter response: ${summary(afterDot)}`);
}

/** Counts message.added events until `expected` arrived or the stream is idle for 3 s. */
async function collect(
  stream: SseStream,
  expected: number,
  onEvent: (subject: string, at: number) => void,
): Promise<number> {
  let received = 0;
  while (received < expected) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 3000));
    const event = await Promise.race([stream.next(), idle]);
    clearTimeout(timer);
    if (!event) break;
    if (event.event !== "message.added") continue;
    received++;
    onEvent(event.json.message.subject, performance.now());
  }
  return received;
}

async function pacedEvents(http: string, smtpPort: number): Promise<void> {
  const total = RATE * SECONDS;
  const connections = 4;
  const stream = await openEvents(`${http}/events?types=message.added`);
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  const receiving = collect(stream, total, (subject, at) => {
    const t = sentAt.get(subject);
    if (t !== undefined) lags.push(at - t);
  });
  const clients = await Promise.all(
    Array.from({ length: connections }, () => smtpConnection(smtpPort)),
  );
  const interval = 1000 / RATE;
  const start = performance.now() + 20;
  await Promise.all(clients.map(async (client, c) => {
    for (let k = c; k < total; k += connections) {
      const due = start + k * interval;
      const now = performance.now();
      if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      const subject = `p${k}`;
      const t250 = await send(client, `bench+p${k}@example.com`, subject);
      sentAt.set(subject, t250);
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  const received = await receiving;
  clients.forEach((client) => client.close());
  await stream.close();
  console.log(
    `events, paced: ${total} deliveries at ${RATE}/s asked over ${connections} SMTP connections`,
  );
  console.log(
    `  delivered ${total} in ${elapsed.toFixed(2)} s (${(total / elapsed).toFixed(0)}/s), ` +
      `received ${received}, lost ${total - received}`,
  );
  console.log(
    `  SMTP 250 -> event received: ${summary(lags)} (events before their 250: ${
      lags.filter((x) => x < 0).length
    })`,
  );
}

async function burstEvents(http: string, smtpPort: number): Promise<void> {
  const connections = 8;
  const stream = await openEvents(`${http}/events?types=message.added`);
  let lastEvent = 0;
  const receiving = collect(stream, BURST, (_subject, at) => (lastEvent = at));
  const clients = await Promise.all(
    Array.from({ length: connections }, () => smtpConnection(smtpPort)),
  );
  const start = performance.now();
  await Promise.all(clients.map(async (client, c) => {
    for (let k = c; k < BURST; k += connections) {
      await send(client, `bench+b${k}@example.com`, `b${k}`);
    }
  }));
  const delivered = performance.now();
  const received = await receiving;
  clients.forEach((client) => client.close());
  await stream.close();
  const deliverySeconds = (delivered - start) / 1000;
  const eventSeconds = (lastEvent - start) / 1000;
  console.log(`events, burst: ${BURST} deliveries as fast as ${connections} SMTP connections go`);
  console.log(
    `  delivered in ${deliverySeconds.toFixed(2)} s (${(BURST / deliverySeconds).toFixed(0)}/s); ` +
      `received ${received} events by ${eventSeconds.toFixed(2)} s ` +
      `(${(received / eventSeconds).toFixed(0)}/s), lost ${BURST - received}`,
  );
}

const server = await spawnServer({ HTTP_PORT: "0" });
try {
  const http = `http://127.0.0.1:${server.ports.HTTP}`;
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, server pid ${server.pid}`,
  );
  await waitLatency(http, server.smtp, 0);
  // Idle waiters that never match, each on its own raw connection (fetch's pool would queue
  // them): half indexed under other users, half checked on every delivery (no user filter).
  const rssBefore = rssKiB(server.pid);
  const idle = await Promise.all(Array.from({ length: IDLE }, async (_, i) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.HTTP });
    const query = i % 2 ? `user=idle${i}` : `subject=never${i}`;
    await conn.write(
      new TextEncoder().encode(
        `GET /messages/wait?${query}&timeout=300 HTTP/1.1\r\nHost: b\r\n\r\n`,
      ),
    );
    return conn;
  }));
  await waitingCount(http, IDLE);
  const perWaiter = (rssKiB(server.pid) - rssBefore) * 1024 / IDLE;
  console.log(
    `${IDLE} idle waiters: server RSS +${
      ((rssKiB(server.pid) - rssBefore) / 1024).toFixed(1)
    } MiB ` +
      `(~${(perWaiter / 1024).toFixed(1)} KiB each, HTTP connection included)`,
  );
  await waitLatency(http, server.smtp, IDLE);
  idle.forEach((conn) => conn.close());
  await fetch(`${http}/reset`, { method: "POST" }).then((r) => r.body?.cancel());
  await pacedEvents(http, server.smtp);
  await fetch(`${http}/reset`, { method: "POST" }).then((r) => r.body?.cancel());
  await burstEvents(http, server.smtp);
} finally {
  await server.stop();
}
