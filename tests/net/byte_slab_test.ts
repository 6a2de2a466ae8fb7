import { deepStrictEqual, strictEqual as assertEquals } from "node:assert/strict";
import { ByteSlab } from "../../lib/net/byte_slab.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("byte slab: regions handed out are never handed out again", () => {
  const slab = new ByteSlab(16);
  const a = slab.ascii("250 OK\r\n")!;
  const b = slab.ascii("354 go\r\n")!;
  // The slab is full: the next region comes from a new one, the old views stay as they were.
  const c = slab.ascii("221 bye\r\n")!;
  assertEquals(text(a), "250 OK\r\n");
  assertEquals(text(b), "354 go\r\n");
  assertEquals(text(c), "221 bye\r\n");
  assertEquals(a.buffer, b.buffer);
  assertEquals(c.buffer === a.buffer, false);
});

Deno.test("byte slab: non-ASCII text is left to the encoder and takes nothing", () => {
  const slab = new ByteSlab(64);
  assertEquals(slab.ascii("250 Grüße\r\n"), null);
  assertEquals(slab.free, 64);
  const ok = slab.ascii("250 OK\r\n")!;
  assertEquals(text(ok), "250 OK\r\n");
  assertEquals(ok.byteOffset, 0);
});

Deno.test("byte slab: text longer than a slab gets an array of its own", () => {
  const slab = new ByteSlab(8);
  const long = slab.ascii("0123456789abcdef")!;
  assertEquals(text(long), "0123456789abcdef");
  assertEquals(long.buffer.byteLength, 16);
});

Deno.test("byte slab: space then take hands out what was read, the rest stays free", () => {
  const slab = new ByteSlab(32);
  const space = slab.space(16);
  space.set([1, 2, 3]);
  const first = slab.take(3);
  deepStrictEqual([...first], [1, 2, 3]);
  assertEquals(slab.free, 29);
  // Less left than asked for: a fresh slab, the first view untouched.
  const next = slab.space(30);
  next.fill(9);
  deepStrictEqual([...first], [1, 2, 3]);
  assertEquals(next.length, 32);
});
