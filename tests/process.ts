/**
 * Test helpers that run `main.ts` as a real subprocess and talk to it over raw TCP: for the
 * CLI tests and the SQLite crash test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startPermissions } from "../scripts/start_task.ts";

export const MAIN = new URL("../main.ts", import.meta.url).pathname;
/**
 * `deno run` with `deno task start`'s permissions, not `-A`: the program is tested with what it
 * is allowed when users run it.
 */
export const RUN = ["run", ...startPermissions()];
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const CONFIG_VARIABLE =
  /^(ELEKTROMAIL_|SMTP_PORT$|IMAP_PORT$|POP3_PORT$|POP3S_PORT$|HTTP_PORT$|BIND_ADDR$)/;

/**
 * This process's environment without any Elektromail setting, plus `extra`. POP3 picks a
 * free port unless `extra` or a flag says otherwise: parallel tests never share its default.
 */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !CONFIG_VARIABLE.test(name)),
  );
  return { ...env, NO_COLOR: "1", POP3_PORT: "0", ...extra };
}

/** A running `main.ts`. */
export interface ServerProcess {
  readonly child: Deno.ChildProcess;
  /** The startup banner (stderr up to and including the `logging` line). */
  readonly banner: string;
  /** Listener name (`SMTP`, `HTTP`, …) → port, parsed from the banner. */
  readonly ports: Record<string, number>;
  /** Everything read from stderr so far (the rest is collected until exit). */
  stderr(): string;
  /** Waits for the exit; returns the status and the whole stderr. */
  exit(): Promise<{ code: number; signal: Deno.Signal | null; stderr: string }>;
}

/** Runs `main.ts` with `args` and `env` until it exits; for invocations that do not serve. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...RUN, MAIN, ...args],
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Asserts a user mistake: exit 2, exactly one line on stderr matching `pattern`, no stack. */
export async function assertConfigFailure(
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<void> {
  const { code, stdout, stderr } = await runMain(args, env);
  const lines = stderr.trimEnd().split("\n");
  assert.equal(code, 2, `exit status for ${args.join(" ")} ${JSON.stringify(env)}: ${stderr}`);
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.match(lines[0], /^elektromail: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(stderr, /\bat .*\.ts:\d+|Error:/, "no stack trace");
  assert.equal(stdout, "");
}

/** How to start the server instead of `deno run` of main.ts with the start task's permissions. */
export interface SpawnOptions {
  /** Program and arguments before the server's own (a compiled binary, a URL run). */
  readonly command?: readonly string[];
  readonly cwd?: string;
}

/** Starts `main.ts` and waits for its banner. Throws with the stderr if it exits first. */
export async function spawnMain(
  args: string[],
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const [program, ...prefix] = options.command ?? [Deno.execPath(), ...RUN, MAIN];
  const child = new Deno.Command(program, {
    args: [...prefix, ...args],
    env: childEnv(env),
    clearEnv: true,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const reader = child.stderr.getReader();
  const timeout = setTimeout(() => child.kill("SIGKILL"), 15_000);
  while (!/\n[^\n]*logging[^\n]*\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(timeout);
      const status = await child.status;
      throw new Error(`main.ts exited (${status.code}) before its banner:\n${text}`);
    }
    text += decoder.decode(value, { stream: true });
  }
  clearTimeout(timeout);
  const banner = text;
  const ports: Record<string, number> = {};
  for (const match of banner.matchAll(/^\S*\s+([A-Z][A-Z0-9]*)\s+\S+:(\d+)$/gm)) {
    ports[match[1]] = Number(match[2]);
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return {
    child,
    banner,
    ports,
    stderr: () => text,
    exit: async () => {
      const status = await child.status;
      await rest;
      return { code: status.code, signal: status.signal, stderr: text };
    },
  };
}

/** A line-oriented SMTP client over raw TCP. */
export class SmtpClient {
  readonly #conn: Deno.TcpConn;
  #buffer = "";

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects and reads the greeting. */
  static async connect(port: number): Promise<{ client: SmtpClient; greeting: string }> {
    const client = new SmtpClient(await Deno.connect({ hostname: "127.0.0.1", port }));
    return { client, greeting: await client.readReply() };
  }

  /** Reads one complete reply (all `NNN-` lines and the final `NNN ` line); "" at EOF. */
  async readReply(): Promise<string> {
    const lines: string[] = [];
    for (;;) {
      const end = this.#buffer.indexOf("\r\n");
      if (end < 0) {
        const chunk = new Uint8Array(4096);
        const n = await this.#conn.read(chunk).catch(() => null);
        if (n === null) return lines.join("\r\n");
        this.#buffer += decoder.decode(chunk.subarray(0, n));
        continue;
      }
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      lines.push(line);
      if (!/^\d{3}-/.test(line)) return lines.join("\r\n");
    }
  }

  async write(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Sends one command line and returns the reply. */
  async command(line: string): Promise<string> {
    await this.write(line + "\r\n");
    return await this.readReply();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Sends one message (`body` must already use CRLF and need no dot-stuffing) and returns the
 * reply to the final dot.
 */
export async function sendMail(port: number, to: string, body: string): Promise<string> {
  const { client, greeting } = await SmtpClient.connect(port);
  try {
    if (!greeting.startsWith("220")) throw new Error(`greeting: ${greeting}`);
    for (const line of ["EHLO test", "MAIL FROM:<sender@example.com>", `RCPT TO:<${to}>`]) {
      const reply = await client.command(line);
      if (!reply.startsWith("250")) throw new Error(`${line}: ${reply}`);
    }
    const data = await client.command("DATA");
    if (!data.startsWith("354")) throw new Error(`DATA: ${data}`);
    await client.write(body + ".\r\n");
    const reply = await client.readReply();
    await client.command("QUIT").catch(() => "");
    return reply;
  } finally {
    client.close();
  }
}
