/**
 * The index warmer: every new message's ENVELOPE, BODYSTRUCTURE and SEARCH header fields are
 * in its index memo, equal to what FETCH and SEARCH would compute themselves, at delivery
 * when cheap, else after deliveries pause (nothing runs before the pause); the queue is
 * bounded; reset and close drop what waits.
 */

import assert from "node:assert/strict";
import { cachedBodyStructure } from "../../lib/imap/bodystructure.ts";
import { cachedEnvelope } from "../../lib/imap/envelope.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import { startIndexWarmer } from "../../lib/imap/warm.ts";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { queuedTimers } from "../../lib/net/timer.ts";
import { searchHeaders, searchText } from "../../lib/mail/search_text.ts";
import { openMemoryStore, openSqliteStore, type Store } from "../../lib/store/mod.ts";
import { countFreed } from "../store/freed_count.ts";

const encoder = new TextEncoder();

function message(n: number): Uint8Array {
  return encoder.encode(
    `From: "Sender ${n}" <s${n}@example.com>\r\nTo: u@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe_${n}?=\r\n` +
      `Date: Wed, 25 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=A4se number ${n}\r\n--b\r\n` +
      `Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `AAECAw==\r\n--b--\r\n`,
  );
}

async function settled(warmer: { pending(): number }): Promise<void> {
  const deadline = Date.now() + 5_000; // a guard against hangs only
  while (warmer.pending() > 0) {
    assert.ok(Date.now() < deadline, "the warmer never drained");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Reads the warmed entries through a view whose byte loader counts; 0 loads means all were kept. */
function readWarm(store: Store, uid: number) {
  const index = store.getIndex("u", "INBOX", uid)!;
  let loads = 0;
  const raw = () => {
    loads++;
    return store.getRaw("u", "INBOX", uid)!;
  };
  const view = new MessageView(raw, () => index);
  const values = {
    envelope: cachedEnvelope(view),
    bodystructure: cachedBodyStructure(view, true, false),
    headers: searchHeaders(index),
  };
  // The SEARCH text is matched in the stored bytes (not kept), so it is read after the count.
  const text = searchText(index, () => store.getRaw("u", "INBOX", uid)!);
  return { loads, values: { ...values, text: { header: text.header, body: text.body } } };
}

/** The same values computed from scratch, as FETCH and SEARCH do on a cold message. */
function fresh(store: Store, uid: number) {
  const bytes = store.getRaw("u", "INBOX", uid)!;
  const index = new MessageIndex(bytes);
  const view = new MessageView(bytes, () => index);
  return {
    envelope: cachedEnvelope(view),
    bodystructure: cachedBodyStructure(view, true, false),
    headers: searchHeaders(index),
    text: (({ header, body }) => ({ header, body }))(searchText(index, () => bytes)),
  };
}

for (
  const [kind, open] of [["memory", openMemoryStore], [
    "sqlite",
    () => openSqliteStore(":memory:"),
  ]] as const
) {
  Deno.test(`warmer (${kind}): at delivery, new messages need no bytes for ENVELOPE, BODYSTRUCTURE or SEARCH headers`, () => {
    const store = open();
    const warmer = startIndexWarmer(store);
    try {
      store.ensureUser("u");
      for (let n = 1; n <= 5; n++) store.append("u", "INBOX", message(n));
      assert.equal(warmer.pending(), 0, "not indexed in the delivery's turn");
      for (let uid = 1; uid <= 5; uid++) {
        const { loads, values } = readWarm(store, uid);
        assert.equal(loads, 0, `message ${uid} was not warmed`);
        assert.deepEqual(values, fresh(store, uid));
      }
    } finally {
      warmer.close();
      store.close();
    }
  });

  Deno.test(`warmer (${kind}): after a pause, new messages need no bytes for ENVELOPE, BODYSTRUCTURE or SEARCH headers`, async () => {
    const store = open();
    const freed = kind === "sqlite" ? countFreed(store) : () => 0;
    const warmer = startIndexWarmer(store, { quietMs: 1, deliveryBytes: 0 });
    try {
      store.ensureUser("u");
      for (let n = 1; n <= 5; n++) store.append("u", "INBOX", message(n));
      assert.equal(warmer.pending(), 5);
      await settled(warmer);
      // SQLite reads the bytes anew (all but the last append's, which the store still holds),
      // for the index and for the warmed entries, and they go back at once: what was kept are
      // copies, checked below.
      if (kind === "sqlite") assert.ok(freed() >= 8, `freed ${freed()} messages' bytes`);
      for (let uid = 1; uid <= 5; uid++) {
        const { loads, values } = readWarm(store, uid);
        assert.equal(loads, 0, `message ${uid} was not warmed`);
        assert.deepEqual(values, fresh(store, uid));
        assert.match(values.text.body, new RegExp(`käse number ${uid}`));
      }
    } finally {
      warmer.close();
      store.close();
    }
  });
}

Deno.test("warmer: indexAtDelivery says when a delivery is indexed in its turn; the rest waits for a pause", async () => {
  const store = openMemoryStore();
  let readers = false;
  const warmer = startIndexWarmer(store, { quietMs: 1, indexAtDelivery: () => readers });
  try {
    store.ensureUser("u");
    store.append("u", "INBOX", message(1));
    store.append("u", "INBOX", message(2));
    assert.equal(warmer.pending(), 2, "indexed at delivery with no reader");
    readers = true;
    store.append("u", "INBOX", message(3));
    assert.equal(warmer.pending(), 2, "not indexed at delivery with a reader");
    assert.equal(readWarm(store, 3).loads, 0);
    await settled(warmer);
    for (let uid = 1; uid <= 2; uid++) assert.equal(readWarm(store, uid).loads, 0);
  } finally {
    warmer.close();
    store.close();
  }
});

Deno.test("warmer: past the delivery budget or size, nothing is indexed while deliveries go on; then everything is", async () => {
  const store = openMemoryStore();
  const warmer = startIndexWarmer(store, { quietMs: 500, deliveryShare: 0 });
  try {
    store.ensureUser("u");
    for (let n = 1; n <= 4; n++) {
      store.append("u", "INBOX", message(n));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(warmer.pending(), 4, "indexing started before deliveries paused");
    await settled(warmer);
    assert.equal(readWarm(store, 4).loads, 0);
  } finally {
    warmer.close();
    store.close();
  }
});

Deno.test("warmer: client input holds the idle slices as deliveries do; then everything is indexed", async () => {
  const store = openMemoryStore();
  let inputs = 0;
  const warmer = startIndexWarmer(store, {
    quietMs: 150,
    deliveryBytes: 0,
    inputCount: () => inputs,
  });
  try {
    store.ensureUser("u");
    for (let n = 1; n <= 3; n++) store.append("u", "INBOX", message(n));
    // A client sending every 10 ms for 600 ms (four times the quiet time; a timer 150 ms late
    // would let a slice in): nothing runs.
    for (let i = 0; i < 60; i++) {
      inputs++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(warmer.pending(), 3, "indexing ran while a client was sending");
    await settled(warmer);
    assert.equal(readWarm(store, 3).loads, 0);
  } finally {
    warmer.close();
    store.close();
  }
});

Deno.test("warmer: the queue is bounded; expunged and reset messages are skipped without error", async () => {
  const store = openMemoryStore();
  const warmer = startIndexWarmer(store, { quietMs: 1, maxPending: 3, deliveryBytes: 0 });
  try {
    store.ensureUser("u");
    for (let n = 1; n <= 6; n++) store.append("u", "INBOX", message(n));
    assert.equal(warmer.pending(), 3);
    store.expunge("u", "INBOX", [5], true);
    await settled(warmer);
    assert.equal(readWarm(store, 6).loads, 0);
    assert.equal(readWarm(store, 4).loads, 0);
    assert.ok(readWarm(store, 1).loads > 0, "a message dropped from the queue was warmed");

    store.append("u", "INBOX", message(7));
    assert.equal(warmer.pending(), 1);
    store.reset();
    assert.equal(warmer.pending(), 0);
  } finally {
    warmer.close();
    store.close();
  }
});

Deno.test("warmer: close drops what waits and stops listening", () => {
  const store = openMemoryStore();
  const timers = queuedTimers();
  const warmer = startIndexWarmer(store, { quietMs: 1, deliveryBytes: 0 });
  store.ensureUser("u");
  store.append("u", "INBOX", message(1));
  assert.equal(queuedTimers(), timers + 1);
  warmer.close();
  assert.equal(warmer.pending(), 0);
  store.append("u", "INBOX", message(2));
  assert.equal(warmer.pending(), 0);
  store.close();
  assert.equal(queuedTimers(), timers, "a timer was left behind");
});

Deno.test("warmer: a store closed before the warmer is not an error", async () => {
  const store = openMemoryStore();
  const warmer = startIndexWarmer(store, { quietMs: 1, deliveryBytes: 0 });
  store.ensureUser("u");
  store.append("u", "INBOX", message(1));
  store.close();
  await settled(warmer);
  assert.equal(warmer.pending(), 0);
  warmer.close();
});
