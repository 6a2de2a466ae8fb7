/**
 * The one outbound SMTP path of the product: a release (MailHog's and Mailpit's "send this
 * captured message on to a real server") hands a stored message to another SMTP server.
 * A test server must not become a way to reach other machines, so the target is a loopback
 * host unless the configuration names it (`ELEKTROMAIL_RELEASE_HOSTS`, or the Mailpit relay
 * `ELEKTROMAIL_RELEASE_RELAY`).
 *
 * The client is the plain RFC 5321 transaction: greeting, EHLO, optional AUTH (PLAIN or
 * CRAM-MD5, as MailHog offers), MAIL, RCPT per recipient, DATA with dot-stuffing, QUIT. No
 * STARTTLS: the targets are loopback or configured test relays.
 *
 * @module
 */

import { isLoopback } from "../guard.ts";
import { HttpError } from "../json.ts";
import { dotStuff, replyReader } from "../../smtp/client.ts";

/** What one release sends, and where. */
export interface RelayRequest {
  readonly host: string;
  readonly port: number;
  /** Our name in EHLO. */
  readonly helo: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly data: Uint8Array;
  /** AUTH before MAIL when set. */
  readonly auth?: {
    readonly mechanism: "PLAIN" | "CRAM-MD5";
    readonly username: string;
    readonly password: string;
  };
}

/** The whole transaction may take this long (a hang guard, not a speed promise). */
const RELAY_TIMEOUT_MS = 30_000;

/** Thrown when the target refuses or fails: the reply or the network error, for the caller. */
export class RelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelayError";
  }
}

/**
 * Whether a release may connect to `host`: a loopback name or address, or one the
 * configuration allows (an exact name, `.domain` for it and its subdomains, `*` for any).
 */
export function releaseHostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  const bracketed = name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
  if (isLoopback(bracketed)) return true;
  return allowed.some((entry) =>
    entry === "*" || entry === bracketed ||
    (entry.startsWith(".") && (bracketed === entry.slice(1) || bracketed.endsWith(entry)))
  );
}

/** Throws a 400 naming the setting when `host` is not a release target. */
export function checkReleaseHost(host: string, allowed: readonly string[]): void {
  if (!releaseHostAllowed(host, allowed)) {
    throw new HttpError(
      400,
      `Cannot release to "${host}": only loopback hosts are allowed ` +
        `(add others with ELEKTROMAIL_RELEASE_HOSTS or --release-hosts)`,
    );
  }
}

/** Sends one message; resolves when the target accepted it (250 after DATA). */
export async function relay(request: RelayRequest): Promise<void> {
  let conn: Deno.TcpConn;
  try {
    const hostname = request.host.replace(/^\[|\]$/g, "");
    conn = await Deno.connect({ hostname, port: request.port });
  } catch (error) {
    throw new RelayError(`Cannot connect to ${request.host}:${request.port}: ${error}`);
  }
  const timer = setTimeout(() => conn.close(), RELAY_TIMEOUT_MS);
  try {
    await transaction(conn, request);
  } catch (error) {
    if (error instanceof RelayError) throw error;
    throw new RelayError(`Relay to ${request.host}:${request.port} failed: ${error}`);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer or the peer
    }
  }
}

async function transaction(conn: Deno.TcpConn, request: RelayRequest): Promise<void> {
  const replies = replyReader(conn, (message) => new RelayError(message));
  const encoder = new TextEncoder();
  const write = async (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
  };
  /** Sends a line (or nothing) and reads the reply; throws unless its code is `expect`. */
  const step = async (line: string | null, expect: number): Promise<string> => {
    if (line !== null) await write(encoder.encode(line + "\r\n"));
    const reply = await replies();
    if (Number(reply.slice(0, 3)) !== expect) {
      const shown = line?.startsWith("AUTH") ? "AUTH" : line ?? "greeting";
      throw new RelayError(`${shown}: ${reply.replaceAll("\r\n", " ").trim()}`);
    }
    return reply;
  };
  await step(null, 220);
  await step(`EHLO ${request.helo}`, 250);
  if (request.auth) await authenticate(step, request.auth);
  await step(`MAIL FROM:<${request.from}>`, 250);
  for (const to of request.to) await step(`RCPT TO:<${to}>`, 250);
  await step("DATA", 354);
  await write(dotStuff(request.data));
  await step(null, 250);
  await step("QUIT", 221).catch(() => {});
}

type Step = (line: string | null, expect: number) => Promise<string>;

async function authenticate(step: Step, auth: NonNullable<RelayRequest["auth"]>): Promise<void> {
  const base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  if (auth.mechanism === "PLAIN") {
    await step(`AUTH PLAIN ${base64(`\0${auth.username}\0${auth.password}`)}`, 235);
    return;
  }
  const challenge = (await step("AUTH CRAM-MD5", 334)).slice(4).trim();
  // Loaded only here: the one use of MD5 (Web Crypto has none).
  const { createHmac } = await import("node:crypto");
  const digest = createHmac("md5", auth.password).update(atob(challenge), "latin1")
    .digest("hex");
  await step(base64(`${auth.username} ${digest}`), 235);
}
