/**
 * `latin1`: each byte becomes the code point of the same value, short inputs and those past
 * one `String.fromCharCode` call's chunk alike.
 */

import assert from "node:assert/strict";
import { latin1 } from "../../lib/imap/chars.ts";

/** The expected string, one char at a time. */
function charByChar(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

Deno.test("latin1 maps every byte value to its own code point", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = latin1(all);
  assert.equal(text.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i);
  assert.equal(latin1(new Uint8Array(0)), "");
  assert.equal(latin1(new TextEncoder().encode("a1 APPEND")), "a1 APPEND");
});

Deno.test("latin1 reads inputs of several chunks whole and in order", () => {
  for (const length of [8191, 8192, 8193, 20_000]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 13)) & 0xff);
    assert.equal(latin1(bytes), charByChar(bytes), `length ${length}`);
    // A view into a larger buffer reads only its own bytes.
    const view = bytes.subarray(3, length - 3);
    assert.equal(latin1(view), charByChar(view), `view of length ${length}`);
  }
});
