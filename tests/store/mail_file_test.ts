/**
 * The SQLite store's mail file (lib/store/mail_file.ts) on its own: bytes appended one after
 * the other and read back at any offset, in any order, between writes.
 */

import assert from "node:assert/strict";
import { MailFile } from "../../lib/store/mail_file.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("mail file: reads in order, back, after a write, after a failed read: each its own bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-mail-file-" });
  const file = new MailFile(`${dir}/m.db.mail`, true);
  try {
    const spans = new Map<string, [number, number]>();
    const add = (text: string) => {
      const bytes = encoder.encode(text);
      spans.set(text, [file.append(bytes), bytes.length]);
    };
    const read = (text: string) => decoder.decode(file.read(...spans.get(text)!));
    for (const text of ["first message", "second, longer message", "third"]) add(text);
    // One after the other (no seek between them), then back to the start.
    assert.equal(read("first message"), "first message");
    assert.equal(read("second, longer message"), "second, longer message");
    assert.equal(read("third"), "third");
    assert.equal(read("first message"), "first message");
    // A write moves the file's offset to its end: the next read must not start there.
    add("fourth");
    assert.equal(read("second, longer message"), "second, longer message");
    assert.equal(read("fourth"), "fourth");
    // A read past the end fails and leaves the offset unknown (not where "third" ended).
    assert.equal(read("third"), "third");
    assert.throws(() => file.read(file.size - 2, 10), /ends at/);
    assert.equal(read("fourth"), "fourth");
    assert.equal(file.read(3, 0).length, 0);
    assert.equal(read("first message"), "first message");
    file.truncate();
    add("after the truncation");
    assert.equal(read("after the truncation"), "after the truncation");
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});
