/**
 * A server started as `deno task start` runs it (the bundle, the program's V8 flags) never
 * touches Deno's Node timers through its start, its warm-up (with its private SMTP listener and
 * session), its idle collection, nor a first SMTP message and IMAP session: their first use
 * costs ~1 MB of idle memory (lib/net/timer.ts). A preload (tests/harness/timer_globals_probe.ts)
 * reports every read of the globals that load them, and how much the heap grows when it loads
 * them itself once the server is idle: it grows only if nothing had loaded them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";
import { bundle, BUNDLE_DIR } from "../scripts/bundle.ts";
import { sendMail, spawnMain } from "./process.ts";
import { RawImap } from "./raw_imap.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const PROBE = new URL("./harness/timer_globals_probe.ts", import.meta.url).pathname;
/** Far less than the ~0.9 MB Node's timers add to the heap when they load. */
const LOADED_ALREADY_BYTES = 400_000;

/** Waits until `stderr()` matches `pattern` (the server is busy starting: seconds at most). */
async function waitFor(stderr: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = stderr().match(pattern);
    if (match) return match;
    assert.ok(Date.now() < deadline, `no ${pattern} in:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const store of ["memory", "sqlite"] as const) {
  Deno.test({
    name:
      `deno task start's server (${store}): its start, warm-up, idle collection and first clients never touch Node's timers`,
    ignore: Deno.build.os === "windows",
    sanitizeResources: false,
    sanitizeOps: false,
  }, async () => {
    await bundle();
    const dir = store === "sqlite" ? await Deno.makeTempDir({ prefix: "start-timers-" }) : null;
    // Configured by the environment, as most runs are: flags load node:util's `parseArgs`,
    // which loads Node's timers (main.ts).
    const ports = { SMTP_PORT: "0", IMAP_PORT: "0", POP3_PORT: "0", HTTP_PORT: "0" };
    const server = await spawnMain(
      [],
      dir ? { ...ports, ELEKTROMAIL_DB: `${dir}/mail.db` } : ports,
      {
        command: [
          Deno.execPath(),
          "run",
          "--no-config",
          "-A",
          V8_FLAGS_ARGUMENT,
          `--preload=${PROBE}`,
          `${BUNDLE_DIR}/main.js`,
        ],
        cwd: ROOT,
      },
    );
    try {
      const [, grown] = await waitFor(server.stderr, /^timer-probe idle (\d+)$/m);
      const { SMTP: smtp, IMAP: imap } = server.ports;
      const reply = await sendMail(smtp, "bob@example.com", "Subject: hi\r\n\r\nhello\r\n");
      assert.match(reply, /^250/);
      const client = await RawImap.connect(imap);
      await client.command("LOGIN bob any");
      await client.command("SELECT INBOX");
      await client.command("FETCH 1 (ENVELOPE BODYSTRUCTURE)");
      await client.command("LOGOUT");
      // The index warmer's wait and the sessions' end.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const reads = server.stderr().match(/^timer-probe (read|no exposed).*(\n {4}at .*)*/gm);
      assert.equal(reads, null, reads?.join("\n"));
      assert.ok(
        Number(grown) > LOADED_ALREADY_BYTES,
        `Node's timers were loaded before the server was idle (the heap grew ${grown} bytes)`,
      );
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  });
}
