/**
 * URLAUTH keys across RENAME and DELETE, over a real socket (RFC 4467 3, 6.1; RFC 9051
 * 6.3.6). A mailbox access key belongs to the mailbox, as Dovecot 2.3 keeps it (a private
 * attribute of the mailbox, checked against Dovecot 2.3.19): it moves with RENAME, children
 * and RENAME INBOX included (there it goes with the messages to the new name), and goes with
 * DELETE. So a URL made for the old name stops resolving, one for the new name is signed
 * with the key made before the rename, and a mailbox created later under the old name has a
 * key of its own: a URL signed with the old key never opens its messages. The tests sign
 * URLs with a key read from the store to show which key a mailbox has; in SQLite the moved
 * keys survive a restart.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { urlAuthToken } from "../../lib/imap/urlauth.ts";
import { startElektromail } from "../../lib/server.ts";
import type { Store } from "../../lib/store/mod.ts";
import { withTimeout } from "../interop/imap_helpers.ts";
import { RawImap } from "./raw_client.ts";

const MESSAGE = new TextEncoder().encode("Subject: a\r\n\r\nhello\r\n");
const FETCHED = "fetched";

function rump(mailbox: string, uid: number): string {
  return `imap://alice@localhost/${mailbox}/;UID=${uid};URLAUTH=anonymous`;
}

/** The full URL of `rump` signed with `key`, as GENURLAUTH would sign it with that key. */
function signed(rumpUrl: string, key: Uint8Array): string {
  return `${rumpUrl}:internal:${urlAuthToken(rumpUrl, key)}`;
}

function keyOf(store: Store, mailbox: string): Uint8Array {
  const key = store.mailboxAccessKey("alice", mailbox, false);
  assert.ok(key, `${mailbox} has a key`);
  return key;
}

/** One IMAP session of alice with numbered tags. */
class Alice {
  #tag = 0;
  constructor(readonly client: RawImap) {}

  async ok(command: string): Promise<string[]> {
    const tag = `a${++this.#tag}`;
    const lines = await this.client.command(`${tag} ${command}`);
    assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`), `${command}: ${lines.join(" | ")}`);
    return lines;
  }

  async generate(rumpUrl: string): Promise<string> {
    const lines = await this.ok(`GENURLAUTH ${rumpUrl} INTERNAL`);
    return lines[0].slice("* GENURLAUTH ".length);
  }

  /** `FETCHED` when the URL resolves, else the reason Elektromail gives. */
  async fetch(url: string): Promise<string> {
    const lines = await this.ok(`URLFETCH ${url}`);
    if (lines[0].startsWith(`* URLFETCH ${url} {`)) return FETCHED;
    assert.equal(lines[0], `* URLFETCH ${url} NIL`);
    return lines[1].slice(lines[1].lastIndexOf('": ') + 3);
  }
}

async function asAlice(port: number, fn: (alice: Alice) => Promise<void>): Promise<void> {
  const { client } = await RawImap.connect(port);
  try {
    await withTimeout(
      (async () => {
        const alice = new Alice(client);
        await alice.ok("LOGIN alice x");
        await fn(alice);
      })(),
      "urlauth rename",
      20_000,
    );
  } finally {
    client.close();
  }
}

Deno.test("URLAUTH: the key moves with RENAME; the old name, recreated, gets a new one", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const { store } = server;
  try {
    store.ensureUser("alice");
    store.createMailbox("alice", "A");
    store.append("alice", "A", MESSAGE);
    store.append("alice", "A", MESSAGE);
    await asAlice(server.ports.imap!, async (alice) => {
      const before = await alice.generate(rump("A", 1));
      assert.equal(await alice.fetch(before), FETCHED);
      const keyA = keyOf(store, "A");
      await alice.ok("RENAME A B");
      assert.equal(await alice.fetch(before), "Invalid URLAUTH: Mailbox doesn't exist: A.");
      // Signed with A's key though B never had GENURLAUTH: the key moved.
      assert.equal(await alice.fetch(signed(rump("B", 2), keyA)), FETCHED);
      const after = await alice.generate(rump("B", 1));
      assert.equal(after, signed(rump("B", 1), keyA), "GENURLAUTH uses the key made before");
      assert.equal(await alice.fetch(after), FETCHED);
      // A new mailbox under the old name: its own key, so nothing signed with A's opens it.
      await alice.ok("CREATE A");
      const [{ uid }] = [store.append("alice", "A", MESSAGE)];
      assert.equal(await alice.fetch(before), "URLAUTH verification failed.");
      assert.equal(await alice.fetch(signed(rump("A", uid), keyA)), "URLAUTH verification failed.");
      const fresh = await alice.generate(rump("A", uid));
      assert.equal(await alice.fetch(fresh), FETCHED);
      assert.notDeepEqual(keyOf(store, "A"), keyA);
      // RESETKEY of the new name resets the moved key.
      await alice.ok("RESETKEY B");
      assert.equal(await alice.fetch(after), "URLAUTH verification failed.");
      assert.equal(await alice.fetch(fresh), FETCHED, "A's own key is untouched");
    });
  } finally {
    await server.stop();
  }
});

Deno.test("URLAUTH: children's keys move with their parent; DELETE then CREATE is a new key", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const { store } = server;
  try {
    store.ensureUser("alice");
    store.createMailbox("alice", "P/Q");
    store.append("alice", "P/Q", MESSAGE);
    store.append("alice", "P", MESSAGE);
    await asAlice(server.ports.imap!, async (alice) => {
      await alice.generate(rump("P/Q", 1));
      await alice.generate(rump("P", 1));
      const keyQ = keyOf(store, "P/Q");
      const keyP = keyOf(store, "P");
      await alice.ok("RENAME P R");
      assert.equal(await alice.fetch(signed(rump("R/Q", 1), keyQ)), FETCHED);
      assert.equal(await alice.fetch(signed(rump("R", 1), keyP)), FETCHED);
      assert.equal(store.mailboxAccessKey("alice", "P", false), null);
      assert.equal(store.mailboxAccessKey("alice", "P/Q", false), null);
      // A child renamed onto its parent's old name takes its own key there, not the parent's.
      await alice.ok("DELETE R");
      await alice.ok("RENAME R/Q R");
      assert.deepEqual(keyOf(store, "R"), keyQ);
      // R carried UID 1: the message was renumbered (DESIGN.md: UIDs never reused under a name).
      const [{ uid: moved }] = store.listMessages("alice", "R");
      const url = await alice.generate(rump("R", moved));
      assert.equal(url, signed(rump("R", moved), keyQ));
      await alice.ok("DELETE R");
      await alice.ok("CREATE R");
      const { uid } = store.append("alice", "R", MESSAGE);
      assert.equal(await alice.fetch(url), "URLAUTH verification failed.");
      assert.equal(await alice.fetch(signed(rump("R", uid), keyQ)), "URLAUTH verification failed.");
      assert.equal(store.mailboxAccessKey("alice", "R", false), null, "none until GENURLAUTH");
    });
  } finally {
    await server.stop();
  }
});

Deno.test("URLAUTH: RENAME INBOX takes INBOX's key to the new mailbox with the messages", async () => {
  const server = await startElektromail(testConfig({ httpPort: null }));
  const { store } = server;
  try {
    store.ensureUser("alice");
    store.append("alice", "INBOX", MESSAGE);
    await asAlice(server.ports.imap!, async (alice) => {
      const before = await alice.generate(rump("INBOX", 1));
      const inbox = keyOf(store, "INBOX");
      await alice.ok("RENAME INBOX Old");
      assert.equal(await alice.fetch(before), "URLAUTH verification failed.");
      assert.equal(store.mailboxAccessKey("alice", "INBOX", false), null);
      const [{ uid }] = store.listMessages("alice", "Old");
      assert.equal(await alice.fetch(signed(rump("Old", uid), inbox)), FETCHED);
      const { uid: next } = store.append("alice", "INBOX", MESSAGE);
      assert.equal(
        await alice.fetch(signed(rump("INBOX", next), inbox)),
        "URLAUTH verification failed.",
      );
      assert.equal(await alice.fetch(await alice.generate(rump("INBOX", next))), FETCHED);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("URLAUTH: in SQLite a renamed mailbox's key survives a restart under its new name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-urlauth-" });
  const config = testConfig({ httpPort: null, dbPath: `${dir}/mail.db` });
  try {
    let url = "";
    let keyA: Uint8Array;
    let server = await startElektromail(config);
    try {
      server.store.ensureUser("alice");
      server.store.createMailbox("alice", "A");
      server.store.append("alice", "A", MESSAGE);
      await asAlice(server.ports.imap!, async (alice) => {
        await alice.generate(rump("A", 1));
        keyA = keyOf(server.store, "A");
        await alice.ok("RENAME A B");
        await alice.ok("CREATE A");
        url = await alice.generate(rump("B", 1));
      });
    } finally {
      await server.stop();
    }
    server = await startElektromail(config);
    try {
      assert.deepEqual(keyOf(server.store, "B"), keyA!);
      assert.equal(server.store.mailboxAccessKey("alice", "A", false), null);
      await asAlice(server.ports.imap!, async (alice) => {
        assert.equal(await alice.fetch(url), FETCHED);
      });
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
