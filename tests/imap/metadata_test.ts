/**
 * METADATA (RFC 5464) limits over a real socket, and its entries in both stores: the entry
 * count limit (`NO [METADATA TOOMANY]`, RFC 5464 4.3) leaves the entries as they were, and
 * entries survive a restart of the SQLite store, move with RENAME and go with DELETE. The
 * protocol forms are in tests/rfc9051/metadata.txt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { MAX_METADATA_ENTRIES } from "../../lib/imap/commands/metadata.ts";
import { startElektromail } from "../../lib/server.ts";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import { RawImap } from "./raw_client.ts";
import { withTimeout } from "../interop/imap_helpers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => value && new TextDecoder().decode(value);

Deno.test("metadata: past the entry limit SETMETADATA is refused whole with TOOMANY", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  try {
    await withTimeout(
      (async () => {
        const { client } = await RawImap.connect(server.ports.imap);
        try {
          await client.write("a1 LOGIN alice x\r\n");
          await client.readUntilTagged("a1");
          const entries = (from: number, count: number) =>
            Array.from({ length: count }, (_, i) => `/private/e${from + i} "v"`).join(" ");
          await client.write(`a2 SETMETADATA "" (${entries(0, MAX_METADATA_ENTRIES - 1)})\r\n`);
          assert.match((await client.readUntilTagged("a2")).at(-1)!, /^a2 OK /);
          // Two more would pass the limit: neither is set. Replacing one is fine.
          await client.write(`a3 SETMETADATA "" (/private/new1 "v" /private/new2 "v")\r\n`);
          assert.equal(
            (await client.readUntilTagged("a3")).at(-1),
            `a3 NO [METADATA TOOMANY] At most ${MAX_METADATA_ENTRIES} entries per mailbox and for the server`,
          );
          await client.write(
            `a4 SETMETADATA "" (/private/new1 "v" /private/e0 NIL /private/e1 "w")\r\n`,
          );
          assert.match((await client.readUntilTagged("a4")).at(-1)!, /^a4 OK /);
          await client.write(`a5 GETMETADATA "" (/private/new1 /private/new2 /private/e0)\r\n`);
          const lines = await client.readUntilTagged("a5");
          assert.equal(lines[0], '* METADATA "" (/private/new1 {1}');
          assert.equal(lines[1], "v /private/new2 NIL /private/e0 NIL)");
          assert.equal(server.store.getMetadata("alice", null).size, MAX_METADATA_ENTRIES - 1);
        } finally {
          client.close();
        }
      })(),
      "metadata limits",
      10_000,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("metadata: both stores keep entries per mailbox, move them on RENAME, drop them on DELETE", () => {
  for (const store of [openMemoryStore(), openSqliteStore(":memory:")]) {
    try {
      store.ensureUser("u");
      store.createMailbox("u", "Work");
      store.setMetadata("u", null, [["/private/a", bytes("server")]]);
      store.setMetadata("u", "Work", [["/shared/b", bytes("box")], ["/shared/c", null]]);
      store.renameMailbox("u", "Work", "Job");
      assert.equal(text(store.getMetadata("u", "Job").get("/shared/b")), "box", store.kind);
      assert.equal(text(store.getMetadata("u", null).get("/private/a")), "server");
      // INBOX renamed: its entries stay with INBOX, the new mailbox has none.
      store.setMetadata("u", "INBOX", [["/shared/i", bytes("inbox")]]);
      store.renameMailbox("u", "INBOX", "Old");
      assert.equal(store.getMetadata("u", "Old").size, 0);
      assert.equal(text(store.getMetadata("u", "INBOX").get("/shared/i")), "inbox");
      store.deleteMailbox("u", "Job");
      store.createMailbox("u", "Job");
      assert.equal(store.getMetadata("u", "Job").size, 0, store.kind);
      assert.throws(() => store.getMetadata("u", "Nope"), /Cannot find mailbox/);
    } finally {
      store.close();
    }
  }
});

Deno.test("metadata: SQLite keeps entries across a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-metadata-" });
  try {
    const path = `${dir}/mail.db`;
    let store = openSqliteStore(path);
    store.ensureUser("u");
    store.setMetadata("u", null, [["/private/a", bytes("1")], [
      "/shared/z",
      new Uint8Array([0, 1]),
    ]]);
    store.setMetadata("u", "INBOX", [["/shared/b", bytes("2")]]);
    store.setMetadata("u", null, [["/private/a", null]]);
    store.close();
    store = openSqliteStore(path);
    try {
      assert.deepEqual([...store.getMetadata("u", null).keys()], ["/shared/z"]);
      assert.deepEqual([...store.getMetadata("u", null).get("/shared/z")!], [0, 1]);
      assert.equal(text(store.getMetadata("u", "INBOX").get("/shared/b")), "2");
      store.reset();
      store.ensureUser("u");
      assert.equal(store.getMetadata("u", null).size, 0);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
