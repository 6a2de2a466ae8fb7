/**
 * Helpers for the POP3 client tests: a server with TLS on (STLS on the POP3 port and an
 * implicit-TLS POP3S port) per test, messages put in a user's INBOX, the served certificate
 * in a file clients can trust, and running a client program with its output kept for the
 * failure message.
 *
 * A client that is not installed skips its tests with a note, except in CI (`CI` set), where
 * that is a failure: `.ci/run` installs fetchmail and getmail6.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_TLS, testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";

/** Whether `path` is an installed program; warns (outside CI) when it is not. */
export function installed(path: string, install: string): boolean {
  try {
    if (Deno.statSync(path).isFile) return true;
  } catch {
    // not installed
  }
  if (!IN_CI) console.warn(`tests skipped: no ${path} (apt-get install ${install})`);
  return IN_CI;
}

/** A test's server and a scratch directory holding `cert.pem`. */
export interface Pop3World {
  readonly server: Elektromail;
  readonly dir: string;
  readonly certFile: string;
  /** Appends each text (CRLF lines) to the user's INBOX. */
  deliver(user: string, ...texts: string[]): void;
  /** The user's INBOX message count. */
  count(user: string): number;
}

/** Runs `fn` against a fresh server with TLS (POP3S on a free port) and a temp directory. */
export async function withPop3(fn: (world: Pop3World) => Promise<void>): Promise<void> {
  const server = await startElektromail(
    testConfig({ httpPort: null, tls: { ...DEFAULT_TLS, pop3sPort: 0 } }),
  );
  const dir = await Deno.makeTempDir({ prefix: "elektromail-pop3-" });
  const certFile = `${dir}/cert.pem`;
  await Deno.writeTextFile(certFile, server.tls!.cert);
  const world: Pop3World = {
    server,
    dir,
    certFile,
    deliver(user, ...texts) {
      server.store.ensureUser(user);
      for (const text of texts) server.store.append(user, "INBOX", encoder.encode(text));
    },
    count: (user) => server.store.getMailbox(user, "INBOX")?.messages ?? 0,
  };
  try {
    await fn(world);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a program; returns its exit code and output (a hang guard kills it after 30 s). */
export async function run(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const output = await child.output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts an exit code, showing the program's output when it differs. */
export function assertExit(
  result: { code: number; stdout: string; stderr: string },
  codes: number[],
  what: string,
): void {
  assert.ok(
    codes.includes(result.code),
    `${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
  );
}

/** Three messages, one with a line that needs byte-stuffing. */
export const MESSAGES = [
  "From: app@example.com\r\nSubject: first\r\n\r\nHello one.\r\n",
  "From: app@example.com\r\nSubject: second\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n",
  "From: app@example.com\r\nSubject: third\r\n\r\n" + "x".repeat(70) + "\r\n",
];
