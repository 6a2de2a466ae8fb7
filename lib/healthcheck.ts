/**
 * `elektromail healthcheck`: probes the listeners a configuration describes (the same flags
 * and variables as the server), for container HEALTHCHECKs and CI scripts, where curl may be
 * missing. SMTP must greet with 220, IMAP with `* OK`, the control plane's `/health` must
 * answer 200; an implicit-TLS port must accept a connection.
 *
 * @module
 */

import type { Config } from "./config.ts";

/** One probe's outcome. */
export interface ProbeResult {
  readonly name: string;
  readonly address: string;
  readonly ok: boolean;
  /** What answered, or why it failed. */
  readonly detail: string;
}

const PROBE_TIMEOUT_MS = 5000;
const decoder = new TextDecoder();

/**
 * Probes every listener of `config` at once; a port of 0 cannot be probed and fails.
 *
 * @example
 * ```ts
 * const results = await probe(config);
 * const healthy = results.every((r) => r.ok);
 * ```
 */
export function probe(config: Config, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult[]> {
  const host = probeHost(config.bindAddr);
  const probes: Array<Promise<ProbeResult>> = [
    greeting("smtp", host, config.smtpPort, /^220[ -]/, timeoutMs),
    greeting("imap", host, config.imapPort, /^\* (OK|PREAUTH)\b/, timeoutMs),
  ];
  if (config.tls?.smtpsPort != null) {
    probes.push(accepts("smtps", host, config.tls.smtpsPort, timeoutMs));
  }
  if (config.tls?.imapsPort != null) {
    probes.push(accepts("imaps", host, config.tls.imapsPort, timeoutMs));
  }
  if (config.httpPort !== null) probes.push(health(host, config.httpPort, timeoutMs));
  return Promise.all(probes);
}

/** A wildcard bind address is probed on loopback. */
export function probeHost(bindAddr: string): string {
  if (bindAddr === "0.0.0.0") return "127.0.0.1";
  if (bindAddr === "::") return "::1";
  return bindAddr;
}

function addressOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Runs `fn` with a deadline; a timeout or an error becomes a failed result. */
async function attempt(
  name: string,
  host: string,
  port: number,
  timeoutMs: number,
  fn: (signal: AbortSignal, track: (conn: Deno.Conn) => void) => Promise<string>,
): Promise<ProbeResult> {
  const address = addressOf(host, port);
  if (port === 0) {
    return { name, address, ok: false, detail: "port 0 (chosen at start): give the bound port" };
  }
  const controller = new AbortController();
  let conn: Deno.Conn | null = null;
  const timer = setTimeout(() => {
    controller.abort();
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }, timeoutMs);
  try {
    const detail = await fn(controller.signal, (c) => (conn = c));
    return { name, address, ok: true, detail };
  } catch (error) {
    const detail = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : (error as Error).message;
    return { name, address, ok: false, detail };
  } finally {
    clearTimeout(timer);
    try {
      (conn as Deno.Conn | null)?.close();
    } catch {
      // already closed
    }
  }
}

/** Connects and reads the first line; it must match `expected`. */
function greeting(
  name: string,
  host: string,
  port: number,
  expected: RegExp,
  timeoutMs: number,
): Promise<ProbeResult> {
  return attempt(name, host, port, timeoutMs, async (signal, track) => {
    const conn = await Deno.connect({ hostname: host, port, signal });
    track(conn);
    let text = "";
    const buffer = new Uint8Array(1024);
    while (!text.includes("\n") && text.length < 4096) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
    const line = text.split(/\r?\n/)[0];
    if (!expected.test(line)) throw new Error(`unexpected greeting: ${JSON.stringify(line)}`);
    return line;
  });
}

/** Connects only: an implicit-TLS port's greeting needs a handshake with a trusted cert. */
function accepts(name: string, host: string, port: number, timeoutMs: number) {
  return attempt(name, host, port, timeoutMs, async (signal, track) => {
    track(await Deno.connect({ hostname: host, port, signal }));
    return "accepts connections";
  });
}

function health(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const url = `http://${addressOf(host, port)}/health`;
  return attempt("http", host, port, timeoutMs, async (signal) => {
    const response = await fetch(url, { signal });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET /health: ${response.status} ${body.trim()}`);
    return `GET /health: ${response.status}`;
  });
}
