/**
 * MULTIAPPEND's atomicity in SQLite (RFC 3502 6.3.11: "all or none"): when the third insert
 * of one `appendMessages` call fails, the first two are rolled back, in the database (a
 * reopened file shows nothing of the call) and in the store's memory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { sampleMessage } from "./contract.ts";

Deno.test("sqlite: appendMessages whose third insert fails leaves nothing, also after reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-multi-" });
  const path = `${dir}/mail.db`;
  try {
    const store = openSqliteStore(path);
    try {
      store.append("u", "INBOX", sampleMessage("kept"));
      // Another writer takes UID 4, so the store's third insert (UIDs 2, 3, 4) breaks the
      // UNIQUE (mailbox_id, uid) constraint after two rows went in.
      const other = new DatabaseSync(path);
      other.exec(
        "INSERT INTO blobs (id, data) VALUES (999, x'41');" +
          "INSERT INTO messages (mailbox_id, uid, internal_date, size, flags, summary, blob_id)" +
          " SELECT id, 4, 0, 1, '[]', (SELECT summary FROM messages LIMIT 1), 999" +
          " FROM mailboxes WHERE name = 'INBOX'",
      );
      other.close();
      const events: string[] = [];
      store.subscribe((event) => events.push(event.type));
      assert.throws(
        () =>
          store.appendMessages("u", "INBOX", [
            { raw: sampleMessage("one") },
            { raw: sampleMessage("two") },
            { raw: sampleMessage("three") },
          ]),
        /UNIQUE/,
      );
      assert.deepEqual(events, [], "no events for a change that did not happen");
      const subjects = store.listMessages("u", "INBOX").map((m) => m.summary.subject);
      assert.ok(!subjects.includes("one") && !subjects.includes("two"), `memory: ${subjects}`);
    } finally {
      store.close();
    }
    const db = new DatabaseSync(path);
    try {
      const rows = db.prepare("SELECT uid FROM messages ORDER BY uid").all().map((r) => r.uid);
      assert.deepEqual(rows, [1, 4], "only the message before and the other writer's row");
      const blobs = db.prepare("SELECT count(*) AS n FROM blobs").get()!.n;
      assert.equal(blobs, 2, "no blob of the failed call was kept");
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
