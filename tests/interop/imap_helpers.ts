/**
 * Helpers for the IMAP interop tests: a server on port 0 per test, an imapflow client for
 * it, and Python scripts run against it (their stdout is one JSON document).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";

const decoder = new TextDecoder();

/** Runs `fn` against a fresh server (no HTTP) and stops it afterwards. */
export async function withServer(fn: (server: Elektromail) => Promise<void>): Promise<void> {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** An imapflow client for `user` (any password), not yet connected. */
export function imapflowClient(server: Elektromail, user = "alice"): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port: server.ports.imap!,
    secure: false,
    auth: { user, pass: "any" },
    logger: false,
    disableAutoIdle: true,
  });
}

/** Rejects when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out: ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * Runs Python imaplib logged in as `user` (password "pw") on the server's IMAP port: `body`
 * runs with `m` the connection and `out` a dict, which is printed as the JSON result after
 * LOGOUT.
 */
export function imaplibSession(
  server: Elektromail,
  user: string,
  body: string,
): Promise<Record<string, unknown>> {
  const script = [
    "import imaplib, json, sys",
    "out = {}",
    'm = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
    `m.login("${user}", "pw")`,
    body.trim(),
    "m.logout()",
    "print(json.dumps(out))",
  ].join("\n");
  return python(script, server.ports.imap!);
}

/** Runs a Python script with the IMAP port as `sys.argv[1]`; returns its JSON output. */
export async function python(script: string, port: number): Promise<Record<string, unknown>> {
  const output = await new Deno.Command("python3", {
    args: ["-c", script, String(port)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = decoder.decode(output.stderr);
  assert.equal(output.code, 0, `python3 failed:\n${err}`);
  return JSON.parse(decoder.decode(output.stdout));
}
