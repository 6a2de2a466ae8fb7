/**
 * `elektromail healthcheck`: probes the listeners a configuration describes (the same flags
 * and variables as the server), for container HEALTHCHECKs and CI scripts, where curl may be
 * missing. SMTP must greet with 220, IMAP with `* OK`, POP3 with `+OK` (then it is sent
 * QUIT, which must answer `+OK`), the control plane's `/health` must answer 200; an
 * implicit-TLS port must accept a connection. With `--wait` it probes again
 * until all answer or the time runs out, for scripts that start the server in the background.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { ConfigError } from "./errors.ts";

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
  if (config.pop3Port !== null) probes.push(pop3(host, config.pop3Port, timeoutMs));
  if (config.tls?.smtpsPort != null) {
    probes.push(accepts("smtps", host, config.tls.smtpsPort, timeoutMs));
  }
  if (config.tls?.imapsPort != null) {
    probes.push(accepts("imaps", host, config.tls.imapsPort, timeoutMs));
  }
  if (config.tls?.pop3sPort != null) {
    probes.push(accepts("pop3s", host, config.tls.pop3sPort, timeoutMs));
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
  then?: (conn: Deno.Conn) => Promise<void>,
): Promise<ProbeResult> {
  return attempt(name, host, port, timeoutMs, async (signal, track) => {
    const conn = await Deno.connect({ hostname: host, port, signal });
    track(conn);
    const line = await readLine(conn);
    if (!expected.test(line)) throw new Error(`unexpected greeting: ${JSON.stringify(line)}`);
    await then?.(conn);
    return line;
  });
}

/**
 * POP3: the greeting must be `+OK`; then QUIT, answered `+OK`, so the server ends the
 * session as a client would (RFC 1939 5, 6) and the probe shows that it reads commands.
 */
function pop3(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return greeting("pop3", host, port, /^\+OK\b/, timeoutMs, async (conn) => {
    await conn.write(new TextEncoder().encode("QUIT\r\n"));
    const quit = await readLine(conn);
    if (!/^\+OK\b/.test(quit)) throw new Error(`unexpected QUIT reply: ${JSON.stringify(quit)}`);
  });
}

/** The first line the peer sends (at most 4 KiB read), without its line end. */
async function readLine(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(1024);
  while (!text.includes("\n") && text.length < 4096) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text.split(/\r?\n/)[0];
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

/** Default and largest `healthcheck --wait` time, in seconds. */
export const DEFAULT_WAIT_SECONDS = 60;
export const MAX_WAIT_SECONDS = 3600;

/** Pause between rounds of `--wait`: short, the server usually listens within a second. */
const RETRY_MS = 200;

/**
 * Probes until every listener answers or `waitMs` has passed (`healthcheck --wait`, so a
 * script can start the server in the background and go on once it listens). Resolves with
 * the last round's results and whether the time ran out.
 */
export async function probeUntil(
  config: Config,
  waitMs: number,
): Promise<{ results: ProbeResult[]; timedOut: boolean }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = deadline - Date.now();
    const results = await probe(config, Math.max(100, Math.min(PROBE_TIMEOUT_MS, left)));
    if (results.every((result) => result.ok)) return { results, timedOut: false };
    // A port of 0 will never answer: waiting cannot help.
    const hopeless = results.some((result) => result.address.endsWith(":0"));
    if (hopeless || Date.now() + RETRY_MS >= deadline) return { results, timedOut: !hopeless };
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/**
 * Reads `--wait` (the default time) or `--wait=SECONDS` out of the healthcheck's arguments;
 * the rest are the server's options. Null without the flag.
 */
export function readWaitFlag(args: readonly string[]): { waitMs: number | null; rest: string[] } {
  let waitMs: number | null = null;
  const rest: string[] = [];
  for (const arg of args) {
    if (arg === "--wait") {
      waitMs = DEFAULT_WAIT_SECONDS * 1000;
    } else if (arg.startsWith("--wait=")) {
      const text = arg.slice("--wait=".length);
      const seconds = /^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(text) ? Number(text) : NaN;
      if (!(seconds > 0 && seconds <= MAX_WAIT_SECONDS)) {
        throw new ConfigError(
          `--wait: expected seconds above 0, at most ${MAX_WAIT_SECONDS} (e.g. --wait=30), got "${text}"`,
        );
      }
      waitMs = Math.round(seconds * 1000);
    } else {
      rest.push(arg);
    }
  }
  return { waitMs, rest };
}
