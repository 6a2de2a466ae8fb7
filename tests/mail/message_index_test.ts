import assert from "node:assert/strict";
import { MessageIndex } from "../../lib/mail/message_index.ts";

const raw = new TextEncoder().encode("Subject: memo\r\n\r\nbody\r\n");

Deno.test("MessageIndex.memo: computes each key once, keeps every key's value", () => {
  const index = new MessageIndex(raw);
  const keys = [Symbol("a"), Symbol("b"), Symbol("c"), Symbol("d")];
  let computed = 0;
  keys.forEach((key, n) => assert.equal(index.memo(key, () => (computed++, n)), n));
  keys.forEach((key, n) => assert.equal(index.memo(key, () => (computed++, -1)), n));
  assert.equal(computed, keys.length);
});

Deno.test("MessageIndex.memo: a value memoized while another is computed is kept", () => {
  const index = new MessageIndex(raw);
  const outer = Symbol("outer");
  const inner = Symbol("inner");
  const value = index.memo(outer, () => index.memo(inner, () => "inner") + "+outer");
  assert.equal(value, "inner+outer");
  assert.equal(index.memo(inner, () => "again"), "inner");
  assert.equal(index.memo(outer, () => "again"), "inner+outer");
});

Deno.test("MessageIndex.nul: whether the message holds a NUL byte, anywhere in it", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  assert.equal(new MessageIndex(raw).nul, false);
  assert.equal(new MessageIndex(encode("Subject: a\r\n\r\nbody\x00\r\n")).nul, true);
  assert.equal(new MessageIndex(encode("Subject: a\x00b\r\n\r\nbody\r\n")).nul, true);
  assert.equal(new MessageIndex(encode("\x00")).nul, true);
  assert.equal(new MessageIndex(new Uint8Array(0)).nul, false);
});
