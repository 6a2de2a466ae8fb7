/**
 * lib/delivery.ts `deliver` with a message as SMTP received it (the trace head as text, the
 * data as parts): the stored bytes are the envelope fields, the head and the parts in order,
 * the head in UTF-8 whether ASCII (written char by char) or not (through the encoder).
 */

import assert from "node:assert/strict";
import { deliver, SLAB_MESSAGE_MAX } from "../lib/delivery.ts";
import { ByteSlab } from "../lib/net/byte_slab.ts";
import { openMemoryStore } from "../lib/store/memory.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

// The envelope fields and the trace head are written one after the other: either may be the
// one that is not ASCII (a UTF-8 sender, an SMTPUTF8 client's name).
for (
  const [from, client] of [
    ["sender@example.org", "client"],
    ["jörg@exämple.org", "client"],
    ["sender@example.org", "clïent"],
    ["jörg@exämple.org", "clïent"],
  ]
) {
  Deno.test(`deliver: the stored bytes of a received message, ${from} from ${client}`, () => {
    const store = openMemoryStore();
    const parts = [enc.encode("Subject: h"), enc.encode("é\r\n\r\nbody\r\n")];
    const size = parts[0].length + parts[1].length;
    const head = `Received: from ${client} ([127.0.0.1])\r\n`;
    deliver(store, [{ user: "amy", address: "amy@example.test" }], { head, parts, size }, {
      envelopeFrom: from,
      envelopeHeaders: true,
    });
    const raw = store.getRaw("amy", "INBOX", 1)!;
    const expected = `Return-Path: <${from}>\r\nDelivered-To: amy@example.test\r\n${head}` +
      "Subject: hé\r\n\r\nbody\r\n";
    assert.equal(dec.decode(raw), expected);
    assert.equal(raw.length, enc.encode(expected).length);
    store.close();
  });
}

Deno.test("deliver: copies cut from a slab are the same bytes, each its own region", () => {
  const store = openMemoryStore();
  const slab = new ByteSlab(64 * 1024);
  const small = enc.encode("Subject: small\r\n\r\nbody\r\n");
  const large = enc.encode(`Subject: large\r\n\r\n${"x".repeat(SLAB_MESSAGE_MAX)}\r\n`);
  const head = "Received: from client ([127.0.0.1])\r\n";
  for (const data of [small, small, large]) {
    deliver(
      store,
      [{ user: "amy", address: "amy@example.test" }, { user: "bob", address: "bob@example.test" }],
      { head, parts: [data], size: data.length },
      { envelopeFrom: "sender@example.org", envelopeHeaders: true, slab },
    );
  }
  for (const [uid, data] of [[1, small], [2, small], [3, large]] as const) {
    for (const user of ["amy", "bob"]) {
      const raw = store.getRaw(user, "INBOX", uid)!;
      const expected =
        `Return-Path: <sender@example.org>\r\nDelivered-To: ${user}@example.test\r\n` +
        head + dec.decode(data);
      assert.equal(dec.decode(raw), expected);
    }
  }
  // The small copies share one slab, without overlapping; the large one has an array of its own.
  const copies = [1, 2].flatMap((uid) => ["amy", "bob"].map((u) => store.getRaw(u, "INBOX", uid)!));
  assert.ok(copies.every((raw) => raw.buffer === copies[0].buffer));
  const starts = copies.map((raw) => raw.byteOffset).sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i] >= starts[i - 1] + copies[0].length);
  const big = store.getRaw("amy", "INBOX", 3)!;
  assert.notEqual(big.buffer, copies[0].buffer);
  assert.equal(big.byteOffset, 0);
  store.close();
});
