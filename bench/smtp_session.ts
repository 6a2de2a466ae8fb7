/**
 * Sans-IO SMTP session throughput: transactions fed straight into `createSmtpSession` with
 * no sockets, to separate session + store cost from the network.
 *
 * ```sh
 * deno run -A bench/smtp_session.ts [memory|sqlite]
 * ```
 *
 * @module
 */

import process from "node:process";
import { testConfig } from "../lib/config.ts";
import { quietLogger } from "../lib/log.ts";
import { createSmtpSession } from "../lib/smtp/session.ts";
import { openMemoryStore, openSqliteStore } from "../lib/store/mod.ts";
const store = Deno.args[0] === "sqlite"
  ? openSqliteStore(await Deno.makeTempFile())
  : openMemoryStore();
const config = testConfig();
let q = 0;
const s = createSmtpSession({
  config,
  store,
  logger: quietLogger(),
  remote: "127.0.0.1:1",
  label: "x",
  nextQueueId: () => `EM${++q}`,
  now: Date.now,
}, { write() {}, close() {} });
s.start();
const enc = new TextEncoder();
s.receive(enc.encode("EHLO x\r\n"));
const filler = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n".repeat(
  26,
);
const N = 20000;
const chunks = Array.from(
  { length: N },
  (
    _,
    n,
  ) => [
    enc.encode(`MAIL FROM:<a@b.c>\r\nRCPT TO:<bench+${n % 16}@example.com>\r\nDATA\r\n`),
    enc.encode(`Subject: ${n}\r\n\r\n${filler}.\r\n`),
  ],
);
const cpu = process.cpuUsage();
const t = performance.now();
for (const [a, b] of chunks) {
  s.receive(a);
  s.receive(b);
}
const ms = performance.now() - t;
const { user, system } = process.cpuUsage(cpu);
console.log(
  `${Deno.args[0] ?? "memory"}: ${(N / ms * 1000).toFixed(0)} msgs/s sans-IO, CPU ${
    ((user + system) / N).toFixed(1)
  } µs/msg; ${store.listMessages("bench", "INBOX").length}`,
);
