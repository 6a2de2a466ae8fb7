/**
 * Shared by the command-line SMTP client tests (msmtp_test.ts, swaks_test.ts): finding the
 * client and skipping its tests without it (except in CI), a server on port 0 with users,
 * TLS and a small size limit plus its certificate as a PEM file, running a program with a
 * hang guard, and reading back what the server stored after its trace headers.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_LIMITS,
  DEFAULT_TLS,
  parseUsers,
  testConfig,
  type TlsConfig,
} from "../../lib/config.ts";
import { generateSelfSigned } from "../../lib/net/self_signed.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { splitReceived } from "../harness/smtp_received.ts";

const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";

/** alice has a configured address; both have passwords, so only these credentials log in. */
const USERS = "alice:alice@corp.example:secret,bob:hunter2";
export const MAX_MESSAGE_SIZE = 32 * 1024;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();
const decoder = new TextDecoder();

/** A command-line client under test: where it is and whether it is there. */
export interface Client {
  readonly name: string;
  readonly path: string;
  readonly available: boolean;
}

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Finds `name` at `$variable` or `/usr/bin/<name>`; warns that its tests are skipped when it
 * is missing, except in CI, where `clientTest` fails instead.
 */
export function findClient(name: string, variable: string): Client {
  const path = Deno.env.get(variable) ?? `/usr/bin/${name}`;
  const available = installed(path);
  if (!available && !IN_CI) {
    console.warn(
      `${name} tests skipped: no ${name} at ${path} (apt-get install ${name}, or set ${variable})`,
    );
  }
  return { name, path, available };
}

/** A test of `client`, named after it; skipped without the client, failed without it in CI. */
export function clientTest(client: Client, name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `${client.name}: ${name}`,
    ignore: !client.available && !IN_CI,
    fn: async () => {
      assert.ok(client.available, `${client.name} is required in CI (${client.path})`);
      await fn();
    },
  });
}

/** One test's world: a server with users, TLS and a small size limit, and a scratch folder. */
export interface World {
  readonly server: Elektromail;
  readonly dir: string;
  /** The server's certificate (`server.tls.cert`) as a PEM file the clients trust. */
  readonly caFile: string;
  /** A certificate for the same names that the server does not use. */
  readonly otherCaFile: string;
  readonly smtp: number;
  readonly smtps: number;
}

/** Runs `fn` against a fresh world (TLS settings overridable) and tears it down afterwards. */
export async function withWorld(
  fn: (world: World) => Promise<void>,
  tls: Partial<TlsConfig> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-smtp-client-" });
  const server = await startElektromail(testConfig({
    users: parseUsers(USERS),
    tls: { ...DEFAULT_TLS, smtpsPort: 0, ...tls },
    limits: { ...DEFAULT_LIMITS, maxMessageSize: MAX_MESSAGE_SIZE },
  }));
  try {
    assert.ok(server.tls, "TLS is on");
    const caFile = `${dir}/elektromail.pem`;
    await Deno.writeTextFile(caFile, server.tls.cert);
    const otherCaFile = `${dir}/other.pem`;
    const other = await generateSelfSigned({ dns: ["localhost"], ips: ["127.0.0.1"] });
    await Deno.writeTextFile(otherCaFile, other.cert);
    await fn({
      server,
      dir,
      caFile,
      otherCaFile,
      smtp: server.ports.smtp,
      smtps: server.ports.smtps!,
    });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A finished client run: exit status and everything it printed. */
export interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs `program` to its end (killed after 30 s), with `stdin` written to it if given. */
export async function run(program: string, args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000), // a hang guard, not a timing assertion
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    // A client that gives up early (a refused login) may not read all of its input.
    await writer.write(utf8.encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const output = await child.output();
  const text = decoder.decode(output.stdout) + decoder.decode(output.stderr);
  assert.equal(output.signal, null, `${program} was killed (hang guard):\n${text}`);
  return { code: output.code, output: text };
}

/**
 * A user's INBOX message: its Return-Path and Delivered-To lines, its Received header and
 * the rest as Latin-1 (one char a byte).
 */
export function stored(
  server: Elektromail,
  user: string,
  uid = 1,
): { envelope: string; received: string; body: string } {
  const raw = server.store.getRaw(user, "INBOX", uid);
  assert.ok(raw, `${user}'s INBOX has UID ${uid}`);
  const { envelope, received, body } = splitReceived(raw);
  return { envelope, received, body: latin1.decode(body) };
}

/** How many messages `user`'s INBOX holds (0 when it has none yet). */
export function inboxCount(server: Elektromail, user: string): number {
  return server.store.getMailbox(user, "INBOX")
    ? server.store.listMessages(user, "INBOX").length
    : 0;
}

/** What the server must store after the trace headers: the UTF-8 bytes, one char a byte. */
export function bytesOf(message: string): string {
  return latin1.decode(utf8.encode(message));
}

/** A message that needs nothing added by msmtp: From, Date and Message-ID are there. */
export function message(subject: string, body: string, headers: string[] = []): string {
  return [
    "From: App <app@example.com>",
    ...(headers.length > 0 ? headers : ["To: someone@example.com"]),
    `Subject: ${subject}`,
    "Date: Thu, 03 Dec 2026 08:00:23 +0000",
    `Message-ID: <${subject.replace(/\W+/g, ".")}@example.com>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
  ].join("\r\n");
}

/** Lines a client must dot-stuff and the server unstuff, 8-bit text, a line over 998 octets. */
export const TRICKY_BODY = [
  "Grüße aus Köln ✓",
  ".",
  "..two dots",
  ".leading dot",
  "x".repeat(1500),
  "",
  "last line",
  "",
].join("\r\n");
