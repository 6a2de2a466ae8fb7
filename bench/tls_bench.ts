/**
 * What TLS costs: startup (plain, `--tls` with a generated certificate, `TLS_CERT` given,
 * a certificate kept beside the database), memory after startup, certificate generation in
 * process, and per-connection latency of a plain SMTP session, implicit TLS (SMTPS) and
 * STARTTLS.
 *
 * ```sh
 * deno run -A bench/tls_bench.ts                       # defaults below
 * deno run -A bench/tls_bench.ts --runs 9 --connections 500
 * ```
 *
 * Startup is the time from spawning `deno run -A main.ts` to its complete banner (every
 * listener bound, the certificate ready), median of `--runs`. Connections are sequential,
 * one at a time, each: connect (and handshake), read the 220 greeting, EHLO, QUIT; STARTTLS
 * adds STARTTLS, the handshake and a second EHLO. The client is Deno (rustls) with
 * TCP_NODELAY; `--nagle` leaves Nagle on, as `Deno.connectTls` does, which adds the
 * server's delayed ACK (~40 ms on Linux) to every handshake.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateSelfSigned } from "../lib/net/self_signed.ts";
import { spawnServer } from "./spawn.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    connections: { type: "string", default: "300" },
    nagle: { type: "boolean", default: false },
  },
});
const NAGLE = values.nagle;
const RUNS = Number(values.runs);
const CONNECTIONS = Number(values.connections);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function startup(env: Record<string, string>): Promise<{ ms: number; rss: number }> {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const server = await spawnServer(env);
    times.push(performance.now() - start);
    if (Deno.build.os === "linux") rss.push(rssMb(server.pid));
    await server.stop();
  }
  return { ms: median(times), rss: rss.length ? median(rss) : NaN };
}

/** Reads one SMTP reply (through its last line). */
async function reply(conn: Deno.Conn, buffer: Uint8Array): Promise<string> {
  let text = "";
  while (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(text)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`closed after ${JSON.stringify(text)}`);
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

async function command(conn: Deno.Conn, buffer: Uint8Array, line: string): Promise<string> {
  await conn.write(encoder.encode(line + "\r\n"));
  return await reply(conn, buffer);
}

type Mode = "plain" | "smtps" | "starttls";

async function session(mode: Mode, port: number, ca: string): Promise<void> {
  const buffer = new Uint8Array(4096);
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  // Without TCP_NODELAY the client's TLS Finished waits for the server's delayed ACK:
  // +40 ms per handshake on Linux, a client-side effect (--nagle shows it).
  tcp.setNoDelay(!NAGLE);
  let conn: Deno.Conn = mode === "smtps"
    ? await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] })
    : tcp;
  try {
    await reply(conn, buffer);
    await command(conn, buffer, "EHLO bench");
    if (mode === "starttls") {
      await command(conn, buffer, "STARTTLS");
      conn = await Deno.startTls(conn as Deno.TcpConn, { hostname: "localhost", caCerts: [ca] });
      await command(conn, buffer, "EHLO bench");
    }
    await command(conn, buffer, "QUIT");
  } finally {
    conn.close();
  }
}

async function connections(mode: Mode, port: number, ca: string) {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < CONNECTIONS; i++) {
    const t = performance.now();
    await session(mode, port, ca);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    median: median(latencies),
    p95: percentile(latencies, 0.95),
    perSecond: CONNECTIONS / seconds,
  };
}

const rows: Array<[string, string]> = [];
const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-bench-" });
try {
  // Certificate generation in this process: the first includes WebCrypto's first use.
  let t = performance.now();
  const pair = await generateSelfSigned({ dns: ["localhost"], ips: ["127.0.0.1", "::1"] });
  rows.push([
    "generate certificate, first",
    `${(performance.now() - t).toFixed(1)} ms`,
  ]);
  const warm: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    await generateSelfSigned({ dns: ["localhost"], ips: ["127.0.0.1", "::1"] });
    warm.push(performance.now() - t);
  }
  rows.push(["generate certificate, warm median of 20", `${median(warm).toFixed(1)} ms`]);
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);

  const variants: Array<[string, Record<string, string>]> = [
    ["plain (no TLS)", {}],
    ["--tls, certificate generated", { ELEKTROMAIL_TLS: "yes" }],
    ["--tls, TLS_CERT/TLS_KEY given", { TLS_CERT: `${dir}/cert.pem`, TLS_KEY: `${dir}/key.pem` }],
    ["--tls, certificate kept beside --db", {
      ELEKTROMAIL_TLS: "yes",
      ELEKTROMAIL_DB: `${dir}/m.db`,
    }],
  ];
  for (const [name, env] of variants) {
    const { ms, rss } = await startup(env);
    rows.push([`startup to banner: ${name}`, `${ms.toFixed(0)} ms, RSS ${rss.toFixed(0)} MB`]);
  }

  // The server uses the pair generated above, so the client can trust it.
  const server = await spawnServer({
    TLS_CERT: `${dir}/cert.pem`,
    TLS_KEY: `${dir}/key.pem`,
    SMTPS_PORT: "0",
  });
  try {
    const ca = pair.cert;
    for (const mode of ["plain", "smtps", "starttls"] as const) {
      const port = mode === "smtps" ? server.ports.SMTPS : server.smtp;
      await connections(mode, port, ca); // warm-up
      const result = await connections(mode, port, ca);
      rows.push([
        `${CONNECTIONS} sequential SMTP sessions: ${mode}${NAGLE ? " (Nagle)" : ""}`,
        `median ${result.median.toFixed(2)} ms, p95 ${result.p95.toFixed(2)} ms, ${
          result.perSecond.toFixed(0)
        }/s`,
      ]);
    }
    rows.push(["server RSS after the sessions", `${rssMb(server.pid).toFixed(0)} MB`]);
  } finally {
    await server.stop();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const width = Math.max(...rows.map(([name]) => name.length));
console.log(`TLS benchmark (Deno ${Deno.version.deno}, ${Deno.build.target})`);
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
