/**
 * lib/delivery.ts `deliver` with a message as SMTP received it (the trace head as text, the
 * data as parts): the stored bytes are the envelope fields, the head and the parts in order,
 * the head in UTF-8 whether ASCII (written char by char) or not (through the encoder).
 */

import assert from "node:assert/strict";
import { deliver } from "../lib/delivery.ts";
import { openMemoryStore } from "../lib/store/memory.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

for (const from of ["sender@example.org", "jörg@exämple.org"]) {
  Deno.test(`deliver: the stored bytes of a received message, sender ${from}`, () => {
    const store = openMemoryStore();
    const parts = [enc.encode("Subject: h"), enc.encode("é\r\n\r\nbody\r\n")];
    const size = parts[0].length + parts[1].length;
    const head = "Received: from client ([127.0.0.1])\r\n";
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
