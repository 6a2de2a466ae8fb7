/**
 * The SQLite store's mail file (lib/store/mail_file.ts): new message bytes appended to
 * `<database>.mail`, their `blobs` rows saying where; copies share them; a rolled-back append
 * leaves dead bytes and no row; a reset empties the file; at open a missing file is an error,
 * a short one (bytes lost in a power loss) drops the messages past its end, and one with more
 * dead bytes than live ones is compacted, crash-safely (lib/store/sqlite_mail_file.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { startCheckpointWorker } from "../../lib/store/sqlite_checkpoint_worker.ts";
import { sampleMessage } from "./contract.ts";
import { tempDb } from "./temp_db.ts";

/** The `blobs` rows of the database at `path`, by id: the length of `data` and the span. */
function blobRows(path: string): Array<[number, number, number | null, number | null]> {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(
      "SELECT id, length(data) AS data, file_offset, file_length FROM blobs ORDER BY id",
    ).all().map((row) => [
      Number(row.id),
      Number(row.data),
      row.file_offset === null ? null : Number(row.file_offset),
      row.file_length === null ? null : Number(row.file_length),
    ]);
  } finally {
    db.close();
  }
}

/** The size of the file at `path`, null if there is none. */
function fileSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

Deno.test("sqlite mail file: new bytes are appended to it, copies share them, a reopen reads them", async () => {
  await using db = await tempDb("mailfile");
  const first = sampleMessage("first");
  const second = new TextEncoder().encode(
    `Subject: second\r\n\r\n${"a longer body than the first one's\r\n".repeat(300)}`,
  );
  let store = openSqliteStore(db.path);
  try {
    store.append("u", "INBOX", first);
    store.append("u", "INBOX", second);
    store.createMailbox("u", "Copies");
    store.copyMessages("u", "INBOX", [2], "Copies");
  } finally {
    store.close();
  }
  // Two rows for three messages; their bytes one after the other in the file, not in the rows.
  assert.deepEqual(blobRows(db.path), [
    [1, 0, 0, first.length],
    [2, 0, first.length, second.length],
  ]);
  const file = Deno.readFileSync(`${db.path}.mail`);
  assert.equal(file.length, first.length + second.length);
  assert.deepEqual(file.subarray(0, first.length), first);
  assert.deepEqual(file.subarray(first.length), second);

  store = openSqliteStore(db.path);
  try {
    assert.deepEqual(store.getRaw("u", "INBOX", 1), first);
    assert.deepEqual(store.getRaw("u", "INBOX", 2), second);
    assert.deepEqual(store.getRaw("u", "Copies", 1), second);
    // A read's bytes are the caller's to give back, not a view of another read's.
    const a = store.getRaw("u", "INBOX", 2)!;
    store.releaseRaw!(a);
    assert.equal(a.length, 0, "given back");
    assert.deepEqual(store.getRaw("u", "Copies", 1), second);
  } finally {
    store.close();
  }
});

Deno.test("sqlite mail file: a rolled-back append leaves dead bytes and no row; the next goes after them", async () => {
  await using db = await tempDb("mailfile");
  const store = openSqliteStore(db.path);
  try {
    store.append("u", "INBOX", sampleMessage("kept"));
    const kept = Deno.statSync(`${db.path}.mail`).size;
    // Another writer takes UID 3, so the second insert of the call breaks UNIQUE (mailbox_id,
    // uid) after both messages' bytes were appended.
    const other = new DatabaseSync(db.path);
    other.exec(
      "INSERT INTO blobs (id, data) VALUES (999, x'41');" +
        "INSERT INTO messages (mailbox_id, uid, internal_date, size, flags, summary, blob_id)" +
        " SELECT id, 3, 0, 1, '[]', (SELECT summary FROM messages LIMIT 1), 999" +
        " FROM mailboxes WHERE name = 'INBOX'",
    );
    other.close();
    assert.throws(
      () =>
        store.appendMessages("u", "INBOX", [
          { raw: sampleMessage("one") },
          { raw: sampleMessage("two") },
        ]),
      /UNIQUE/,
    );
    const dead = Deno.statSync(`${db.path}.mail`).size;
    assert.ok(dead > kept, "the failed call's bytes stay in the file");
    assert.deepEqual(blobRows(db.path).map(([id]) => id), [1, 999], "but no row names them");
    store.createMailbox("u", "Other");
    const next = store.append("u", "Other", sampleMessage("next"));
    assert.deepEqual(store.getRaw("u", "Other", next.uid), sampleMessage("next"));
    assert.equal(blobRows(db.path).at(-1)?.[2], dead, "appended after the dead bytes");
  } finally {
    store.close();
  }
});

Deno.test("sqlite mail file: a reset empties it once committed; an expunge leaves the bytes until the store is empty at open", async () => {
  await using db = await tempDb("mailfile");
  const size = () => Deno.statSync(`${db.path}.mail`).size;
  let store = openSqliteStore(db.path);
  try {
    store.append("u", "INBOX", sampleMessage("one"));
    store.append("u", "INBOX", sampleMessage("two"));
    const full = size();
    store.expunge("u", "INBOX", [1], true);
    assert.equal(size(), full, "an expunge leaves the bytes (dead space, as mdbox's)");
    assert.deepEqual(store.getRaw("u", "INBOX", 2), sampleMessage("two"));
    store.reset();
    assert.equal(size(), 0);
    const again = store.append("u", "INBOX", sampleMessage("again"));
    assert.deepEqual(store.getRaw("u", "INBOX", again.uid), sampleMessage("again"));
    assert.deepEqual(blobRows(db.path).map(([, , offset]) => offset), [0]);
    store.expunge("u", "INBOX", [again.uid], true);
    assert.equal(size(), sampleMessage("again").length);
  } finally {
    store.close();
  }
  store = openSqliteStore(db.path);
  store.close();
  assert.equal(size(), 0, "no row names a byte of it: emptied at open");
});

Deno.test("sqlite mail file: missing at open is an error; short, the messages past its end are dropped with a warning", async () => {
  await using db = await tempDb("mailfile");
  const raws = ["one", "two", "three"].map((text) => sampleMessage(text));
  let store = openSqliteStore(db.path);
  try {
    for (const raw of raws) store.append("u", "INBOX", raw);
    store.copyMessages("u", "INBOX", [3], "INBOX");
  } finally {
    store.close();
  }
  // A power loss wrote back the rows but not the last message's bytes, nor the second's end.
  Deno.truncateSync(`${db.path}.mail`, raws[0].length + raws[1].length - 1);
  const warnings: string[] = [];
  store = openSqliteStore(db.path, { warn: (message) => warnings.push(message) });
  try {
    assert.deepEqual(store.listMessages("u", "INBOX").map((meta) => meta.uid), [1]);
    assert.deepEqual(store.getRaw("u", "INBOX", 1), raws[0]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /: 3 stored messages dropped: their bytes were lost from/);
    assert.match(warnings[0], new RegExp(`ends at byte ${raws[0].length + raws[1].length - 1}`));
    // New bytes go after what the file has; the store goes on.
    const next = store.append("u", "INBOX", sampleMessage("next"));
    assert.deepEqual(store.getRaw("u", "INBOX", next.uid), sampleMessage("next"));
  } finally {
    store.close();
  }
  assert.deepEqual(blobRows(db.path).map(([id]) => id), [1, 2], "the lost blobs' rows went too");

  Deno.removeSync(`${db.path}.mail`);
  assert.throws(
    () => openSqliteStore(db.path),
    /mail file .*\.mail is missing \(it holds the bytes of 2 stored messages\)/,
  );
  // The failed open left the database unlocked and unchanged.
  assert.deepEqual(blobRows(db.path).map(([id]) => id), [1, 2]);
});

Deno.test("sqlite mail file: none for an in-memory database or with blobsInDatabase; the checkpoint worker is told its path", async () => {
  await using db = await tempDb("mailfile");
  const told: Array<string | undefined> = [];
  for (const blobsInDatabase of [false, true]) {
    const path = `${db.path}.${blobsInDatabase}`;
    const store = openSqliteStore(path, {
      blobsInDatabase,
      checkpointWorkerAtOpen: true,
      checkpointWorker: (file, mailPath) => (told.push(mailPath), startCheckpointWorker(file)),
    });
    try {
      store.append("u", "INBOX", sampleMessage("x"));
      assert.deepEqual(store.getRaw("u", "INBOX", 1), sampleMessage("x"));
    } finally {
      store.close();
    }
    assert.equal(blobRows(path)[0][1], blobsInDatabase ? sampleMessage("x").length : 0);
    assert.equal(fileSize(`${path}.mail`), blobsInDatabase ? null : sampleMessage("x").length);
  }
  assert.deepEqual(told, [`${db.path}.false.mail`, undefined]);
  const memory = openSqliteStore(":memory:");
  try {
    memory.append("u", "INBOX", sampleMessage("in memory"));
    assert.deepEqual(memory.getRaw("u", "INBOX", 1), sampleMessage("in memory"));
  } finally {
    memory.close();
  }
  assert.equal(fileSize(":memory:.mail"), null);
});

/** The rows of `mail_compaction` in the database at `path`. */
function compactionRows(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM mail_compaction").get()!.n);
  } finally {
    db.close();
  }
}

/** Stores four messages, copies the last, expunges the first three (large) and closes. */
function storeMostlyDead(path: string): Uint8Array {
  const big = (text: string) =>
    new TextEncoder().encode(`Subject: ${text}\r\n\r\n${`${text} `.repeat(2000)}\r\n`);
  const kept = sampleMessage("kept");
  const store = openSqliteStore(path);
  try {
    for (const raw of [big("one"), big("two"), big("three"), kept]) store.append("u", "INBOX", raw);
    store.createMailbox("u", "Copies");
    store.copyMessages("u", "INBOX", [4], "Copies");
    store.expunge("u", "INBOX", [1, 2, 3], true);
  } finally {
    store.close();
  }
  return kept;
}

/** Opens the store at `path` with `options` and checks that both copies read `kept`. */
function assertKept(
  path: string,
  kept: Uint8Array,
  options: Parameters<typeof openSqliteStore>[1] = {},
): void {
  const store = openSqliteStore(path, options);
  try {
    assert.deepEqual(store.getRaw("u", "INBOX", 4), kept);
    assert.deepEqual(store.getRaw("u", "Copies", 1), kept);
  } finally {
    store.close();
  }
}

Deno.test("sqlite mail file: more dead bytes than live ones (and enough) are compacted away at open", async () => {
  await using db = await tempDb("mailfile");
  const kept = storeMostlyDead(db.path);
  const before = fileSize(`${db.path}.mail`)!;
  assert.ok(before > 3 * 8_000);
  // Under the default threshold (16 MiB of dead bytes): left as it is.
  assertKept(db.path, kept);
  assert.equal(fileSize(`${db.path}.mail`), before);
  assertKept(db.path, kept, { compactMinDeadBytes: 1 });
  assert.equal(fileSize(`${db.path}.mail`), kept.length, "the live bytes only");
  assert.deepEqual(blobRows(db.path).map(([, , offset]) => offset), [0]);
  assert.equal(fileSize(`${db.path}.mail.new`), null);
  assert.equal(compactionRows(db.path), 0);
  // Nothing dead left: a second open changes nothing.
  assertKept(db.path, kept, { compactMinDeadBytes: 1 });
  assert.equal(fileSize(`${db.path}.mail`), kept.length);
});

Deno.test("sqlite mail file: a compaction a crash cut short is finished or cleared at the next open", async () => {
  await using db = await tempDb("mailfile");
  const kept = storeMostlyDead(db.path);
  const mail = `${db.path}.mail`;
  const before = fileSize(mail);
  // Cut before its commit: the new file is a leftover, removed; the old one stays.
  Deno.writeFileSync(`${mail}.new`, new Uint8Array(100));
  assertKept(db.path, kept);
  assert.deepEqual([fileSize(`${mail}.new`), fileSize(mail)], [null, before]);

  assertKept(db.path, kept, { compactMinDeadBytes: 1 });
  const marked = () => {
    const raw = new DatabaseSync(db.path);
    raw.exec("INSERT INTO mail_compaction (pending) VALUES (1)");
    raw.close();
  };
  // Cut after its commit, before the rename: the new file is renamed over the old one.
  Deno.renameSync(mail, `${mail}.new`);
  Deno.writeFileSync(mail, new TextEncoder().encode("the old file's bytes ".repeat(500)));
  marked();
  assertKept(db.path, kept);
  assert.deepEqual([fileSize(`${mail}.new`), fileSize(mail)], [null, kept.length]);
  assert.equal(compactionRows(db.path), 0);
  // Cut after the rename, before the row went: the row goes.
  marked();
  assertKept(db.path, kept);
  assert.equal(compactionRows(db.path), 0);
  assert.equal(fileSize(mail), kept.length);
});

Deno.test("sqlite mail file: a compaction that cannot run leaves the file as it is, with a warning", async () => {
  await using db = await tempDb("mailfile");
  const kept = storeMostlyDead(db.path);
  const before = fileSize(`${db.path}.mail`);
  // A directory where the new file would go.
  Deno.mkdirSync(`${db.path}.mail.new`);
  Deno.writeFileSync(`${db.path}.mail.new/x`, new Uint8Array(1));
  const warnings: string[] = [];
  assertKept(db.path, kept, {
    compactMinDeadBytes: 1,
    warn: (message) => warnings.push(message),
  });
  assert.equal(fileSize(`${db.path}.mail`), before);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /\.mail: not compacted: /);
});

Deno.test("sqlite mail file: a message stored after a reset in the same commit keeps its bytes", async () => {
  await using db = await tempDb("mailfile");
  const store = openSqliteStore(db.path);
  try {
    store.append("u", "INBOX", sampleMessage("before"));
    const commit = store.shareCommit(() => {
      store.reset();
      store.append("u", "INBOX", sampleMessage("after"));
    });
    await new Promise<void>((resolve) => commit!.whenCommitted(() => resolve()));
    assert.deepEqual(store.getRaw("u", "INBOX", 1), sampleMessage("after"));
  } finally {
    store.close();
  }
  const reopened = openSqliteStore(db.path);
  try {
    assert.deepEqual(reopened.getRaw("u", "INBOX", 1), sampleMessage("after"));
  } finally {
    reopened.close();
  }
});
