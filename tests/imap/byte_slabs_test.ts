/**
 * ENVELOPE and BODYSTRUCTURE values cut from shared slabs (lib/imap/byte_slabs.ts) are the
 * bytes a writer of its own makes, stay intact while later values are written after them,
 * and values too large for a slab get an array of their own.
 */

import assert from "node:assert/strict";
import { cachedBodyStructure, encodeBodyStructure } from "../../lib/imap/bodystructure.ts";
import { ByteSlabs } from "../../lib/imap/byte_slabs.ts";
import { cachedEnvelope, type Encoded, encodeEnvelope } from "../../lib/imap/envelope.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import { parseMime } from "../../lib/mail/mime.ts";

const enc = new TextEncoder();
const asBytes = (value: Encoded) => typeof value === "string" ? enc.encode(value) : value;

function message(n: number): Uint8Array {
  // Sizes vary so values straddle slab ends; some subjects are 8-bit (a literal) or long.
  const subject = n % 7 === 0 ? "Gr\xfc\xdfe" : n % 50 === 0 ? "x".repeat(6000) : `m${n}`;
  const to = Array.from({ length: n % 40 }, (_, i) => `R ${i} <r${i}@example.com>`).join(", ");
  const text = `From: A <a@example.com>\r\nTo: ${to || "b@example.com"}\r\n` +
    `Subject: ${subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody ${n}\r\n`;
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

Deno.test("byte slabs: cut values equal their own-array encoding and stay intact", () => {
  const slabs = new ByteSlabs();
  const kept: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
  for (let n = 0; n < 600; n++) {
    const raw = message(n);
    const view = new MessageView(raw);
    kept.push([raw, cachedEnvelope(view, slabs), cachedBodyStructure(view, true, false, slabs)]);
  }
  let shared = 0;
  for (const [raw, envelope, body] of kept) {
    const root = parseMime(raw);
    assert.deepEqual(envelope, asBytes(encodeEnvelope(raw, root)));
    assert.deepEqual(
      body,
      asBytes(encodeBodyStructure(raw, root, { extended: true, messageGlobal: false })),
    );
    if (envelope.buffer === body.buffer) shared++;
  }
  // Most values share a slab; the 6,000-byte subjects do not fit one cut.
  assert.ok(shared > 500, `${shared} messages with both values in one slab`);
  assert.ok(kept.some(([, envelope]) => envelope.length > 6000 && envelope.byteOffset === 0));
});
