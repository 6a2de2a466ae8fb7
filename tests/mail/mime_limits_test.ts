/**
 * The MIME index's limits and compact form (issue 11 item 8): at most MAX_MIME_PARTS parts
 * per message, the last one that fits taking the rest of its multipart as one opaque body;
 * the index keeps a table of offsets and the header bytes, not an object per part.
 */

import assert from "node:assert/strict";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { findPart, MAX_MIME_PARTS, parseMime } from "../../lib/mail/mime.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function multipart(boundary: string, parts: string[], type = "mixed"): string {
  return `Content-Type: multipart/${type}; boundary=${boundary}\r\n\r\n` +
    parts.map((part) => `--${boundary}\r\n${part}\r\n`).join("") + `--${boundary}--\r\n`;
}

Deno.test("mime limits: past MAX_MIME_PARTS the last part that fits takes the rest", () => {
  const parts = Array.from({ length: MAX_MIME_PARTS + 500 }, (_, i) => `\r\npart ${i + 1}`);
  const raw = enc.encode("Subject: many\r\n" + multipart("b", parts));
  const root = parseMime(raw);
  // The root is a part too: MAX_MIME_PARTS - 1 children.
  assert.equal(root.children.length, MAX_MIME_PARTS - 1);
  assert.equal(
    dec.decode(raw.subarray(root.children[0].bodyStart, root.children[0].bodyEnd)),
    "part 1",
  );
  const last = root.children.at(-1)!;
  assert.equal(last.partNumber, String(MAX_MIME_PARTS - 1));
  assert.equal(last.bodyEnd, raw.length, "the overflow part runs to the end of its multipart");
  const body = dec.decode(raw.subarray(last.bodyStart, last.bodyEnd));
  assert.ok(body.startsWith(`part ${MAX_MIME_PARTS - 1}\r\n--b\r\n\r\npart ${MAX_MIME_PARTS}\r\n`));
  assert.ok(body.endsWith(`part ${MAX_MIME_PARTS + 500}\r\n--b--\r\n`));
  assert.equal(last.contentType.type, "text");
  assert.equal(findPart(root, String(MAX_MIME_PARTS)), undefined);
});

Deno.test("mime limits: a multipart or message/rfc822 past the cap is one opaque part", () => {
  const filler = Array.from({ length: MAX_MIME_PARTS - 4 }, () => "\r\nx");
  const nested = multipart("inner", ["\r\na", "\r\nb"]);
  const message = "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhello";
  // root (1) + filler + nested + message + tail = MAX_MIME_PARTS: the nested multipart and
  // the message fit, but their own parts do not.
  const raw = enc.encode(multipart("b", [...filler, nested, message, "\r\ntail"]));
  const root = parseMime(raw);
  assert.equal(root.children.length, MAX_MIME_PARTS - 1);
  const [inner, rfc822, tail] = root.children.slice(-3);
  assert.equal(inner.children.length, 0);
  assert.deepEqual([inner.contentType.type, inner.contentType.subtype], ["text", "plain"]);
  assert.deepEqual([rfc822.contentType.type, rfc822.contentType.subtype], ["message", "rfc822"]);
  assert.equal(rfc822.message, null);
  assert.equal(dec.decode(raw.subarray(tail.bodyStart, tail.bodyEnd)), "tail");

  // With one part less of filler, the message's entity fits and then one part of the
  // nested multipart, which takes the rest of it.
  const roomyRaw = enc.encode(multipart("b", [...filler.slice(1), message, nested]));
  const roomy = parseMime(roomyRaw);
  const encapsulated = roomy.children.at(-2)!.message;
  assert.ok(encapsulated);
  assert.equal(encapsulated.fields[0].value, "inner");
  const cut = roomy.children.at(-1)!;
  assert.equal(cut.children.length, 1);
  const rest = cut.children[0];
  assert.equal(rest.bodyEnd, cut.bodyEnd);
  assert.equal(
    dec.decode(roomyRaw.subarray(rest.bodyStart, rest.bodyEnd)),
    "a\r\n--inner\r\n\r\nb\r\n--inner--\r\n",
  );
});

Deno.test("mime limits: the index is a compact table, parts are views on it", () => {
  const parts = Array.from(
    { length: 900 },
    (_, i) => `Content-Type: text/plain; charset=utf-8\r\nContent-ID: <p${i}@x>\r\n\r\nbody ${i}`,
  );
  const raw = enc.encode("From: a@example.com\r\nSubject: table\r\n" + multipart("b", parts));
  const index = new MessageIndex(raw);
  assert.equal(index.parts.size, 901);
  // Offsets (32 bytes a part) plus the header bytes, which are all that is copied.
  let headerBytes = 0;
  const walk = (part: typeof index.root) => {
    headerBytes += part.headerEnd - part.headerStart;
    part.children.forEach(walk);
  };
  walk(index.root);
  assert.equal(index.parts.byteLength, headerBytes + 32 * 901);
  // A view reads its fields from the copy, with offsets into the raw message.
  const part = findPart(index.root, "900")!;
  assert.equal(part.contentId, "p899@x");
  assert.deepEqual(part.contentType.params, { charset: "utf-8" });
  const id = part.fields[1];
  assert.equal(dec.decode(raw.subarray(id.start, id.end)), "Content-ID: <p899@x>\r\n");
  assert.equal(dec.decode(raw.subarray(part.bodyStart, part.bodyEnd)), "body 899");
});
