/**
 * Issue 11 item 14: one database, one server. A second server on the same `ELEKTROMAIL_DB`
 * used to start, fail its deliveries and wipe the first one's mail on `/reset`; now it is
 * refused at startup with one line naming the path and exit status 2, in another process
 * and in the same one, and the lock goes away with the process that held it, even killed.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { testConfig } from "../../lib/config.ts";
import { startElektromail, StartError } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { sendMail, spawnMain } from "../process.ts";
import { RawImap } from "../raw_imap.ts";
import { sampleMessage } from "./contract.ts";
import { tempDb } from "./temp_db.ts";

const message = "From: a@example.com\r\nTo: lock@example.com\r\nSubject: Lock\r\n\r\nbody\r\n";

async function inboxCount(port: number): Promise<string> {
  const imap = await RawImap.connect(port);
  try {
    await imap.command("LOGIN lock x");
    return (await imap.command("SELECT INBOX")).find((line) => / EXISTS$/.test(line)) ?? "";
  } finally {
    imap.close();
  }
}

Deno.test({
  name: "sqlite lock: a second server process on the same database exits 2 with one line",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using db = await tempDb("lock");
    const args = ["--db", db.path, "--smtp-port", "0", "--imap-port", "0"];
    const first = await spawnMain(args);
    try {
      assert.match(await sendMail(first.ports.SMTP, "lock@example.com", message), /^250 /);
      const second = await spawnMain(args).catch((error: Error) => error);
      if (!(second instanceof Error)) {
        second.child.kill("SIGKILL");
        await second.exit();
        assert.fail("a second server started on the same database");
      }
      const [head, ...stderr] = second.message.split("\n").filter((line) => line !== "");
      assert.match(head, /exited \(2\) before its banner/);
      assert.equal(stderr.length, 1, `one line, got:\n${stderr.join("\n")}`);
      assert.equal(
        stderr[0],
        `elektromail: ELEKTROMAIL_DB (--db): cannot open ${db.path}: another server is using it (${db.path}.lock is locked)`,
      );
      // The first server is untouched and keeps its mail.
      assert.match(await sendMail(first.ports.SMTP, "lock@example.com", message), /^250 /);
      assert.equal(await inboxCount(first.ports.IMAP), "* 2 EXISTS");

      // Killed, the first server leaves no lock behind: a new one starts and has the mail.
      first.child.kill("SIGKILL");
      await first.exit();
      const third = await spawnMain(args);
      try {
        assert.equal(await inboxCount(third.ports.IMAP), "* 2 EXISTS");
      } finally {
        third.child.kill("SIGTERM");
        assert.equal((await third.exit()).code, 0);
      }
    } finally {
      try {
        first.child.kill("SIGKILL");
      } catch {
        // already killed above
      }
      await first.exit();
    }
  },
});

Deno.test("sqlite lock: a second startElektromail in the same process fails cleanly", async () => {
  await using db = await tempDb("lock");
  const config = { ...testConfig(), dbPath: db.path };
  const first = await startElektromail(config);
  try {
    await assert.rejects(
      () => startElektromail(config),
      (error: Error) => {
        assert.ok(error instanceof StartError, `${error.name}: ${error.message}`);
        assert.equal(
          error.message,
          `ELEKTROMAIL_DB (--db): cannot open ${db.path}: another server is using it (${db.path}.lock is locked)`,
        );
        return true;
      },
    );
    assert.throws(() => openSqliteStore(db.path), /another server is using it/);
    // The first server still delivers, and the database can still be read alongside it.
    first.store.append("lock", "INBOX", sampleMessage("still here"));
    const raw = new DatabaseSync(db.path);
    try {
      assert.equal(raw.prepare("SELECT count(*) AS n FROM messages").get()?.n, 1);
      assert.equal(raw.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
    } finally {
      raw.close();
    }
  } finally {
    await first.stop();
  }
  // Stopped, the server releases the database.
  const again = await startElektromail(config);
  await again.stop();
});
