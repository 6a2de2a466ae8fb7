/**
 * A server subprocess for the hostile-input tests: a request that freezes the event loop or
 * balloons memory must not freeze or balloon the test runner, so the server runs as its own
 * process; a second client checks it still answers (a hang guard, never a speed assertion)
 * and its resident memory is read from `/proc`.
 *
 * @module
 */

import { sendMail, spawnMain } from "../process.ts";

/** A running server subprocess with its HTTP base URL and SMTP port. */
export interface ServerUnderTest {
  readonly base: string;
  readonly smtp: number;
  readonly pid: number;
  /** Resident and peak resident memory of the server, in MiB (Linux `/proc`). */
  memory(): Promise<{ rss: number; peak: number }>;
}

/** Starts `main.ts` on free ports with HTTP on, runs `fn`, and always kills the process. */
export async function withServerProcess(
  fn: (server: ServerUnderTest) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const process = await spawnMain(
    ["--smtp-port", "0", "--imap-port", "0", "--http-port", "0"],
    env,
  );
  const pid = process.child.pid;
  try {
    await fn({
      base: `http://127.0.0.1:${process.ports.HTTP}`,
      smtp: process.ports.SMTP,
      pid,
      memory: async () => {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        const kib = (name: string) =>
          Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)![1]);
        return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
      },
    });
  } finally {
    // SIGKILL: a server frozen by the input under test would not stop on SIGTERM in time.
    process.child.kill("SIGKILL");
    await process.exit();
  }
}

/** Settles with `promise`, or rejects once `seconds` pass (a hang guard). */
export async function withinSeconds<T>(
  promise: Promise<T>,
  seconds: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${seconds} s (the server is frozen)`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds a second client may wait while a hostile request is being served. */
export const GUARD_SECONDS = 10;

/**
 * Sends the hostile request, and while the server works on it checks that another HTTP
 * client and an SMTP delivery are both served within {@linkcode GUARD_SECONDS}; then the
 * hostile request itself must be answered within the guard too. Returns its response.
 */
export async function servedWhileBusy(
  server: ServerUnderTest,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const controller = new AbortController();
  const hostile = fetch(server.base + path, { ...init, signal: controller.signal });
  hostile.catch(() => {});
  try {
    // Let the server start on it before the other clients arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const health = await withinSeconds(
      fetch(server.base + "/health", { signal: AbortSignal.timeout(GUARD_SECONDS * 1000) }),
      GUARD_SECONDS,
      `GET /health while ${path} is served`,
    );
    await health.body?.cancel();
    const reply = await withinSeconds(
      sendMail(server.smtp, "other@example.com", "Subject: meanwhile\r\n\r\nhello\r\n"),
      GUARD_SECONDS,
      `an SMTP delivery while ${path} is served`,
    );
    if (!reply.startsWith("250")) throw new Error(`SMTP delivery refused: ${reply}`);
    return await withinSeconds(hostile, GUARD_SECONDS, path);
  } catch (error) {
    controller.abort();
    throw error;
  }
}
