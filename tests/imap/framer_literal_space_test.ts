import assert from "node:assert/strict";
import { ImapFramer } from "../../lib/imap/framer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The framer with a command that announced a `size`-byte literal, nothing else buffered. */
function awaitingLiteral(size: number, nonSync = true): ImapFramer {
  const framer = new ImapFramer({ maxLineLength: 8192, maxLiteralSize: 1 << 20 });
  framer.push(enc.encode(`a APPEND INBOX {${size}${nonSync ? "+" : ""}}\r\n`));
  if (!nonSync) {
    assert.equal(framer.next()?.type, "literal-request");
    framer.acceptLiteral();
  }
  assert.equal(framer.next(), null);
  return framer;
}

Deno.test("framer: literal bytes read into literalSpace are taken in place", () => {
  const framer = awaitingLiteral(10);
  const space = framer.literalSpace(4);
  assert.ok(space);
  assert.equal(space.length, 10);
  space.set(enc.encode("0123"));
  framer.push(space.subarray(0, 4));
  assert.equal(framer.next(), null);
  const rest = framer.literalSpace(4);
  assert.ok(rest);
  assert.equal(rest.length, 6);
  rest.set(enc.encode("456789"));
  framer.push(rest);
  // Less than asked for is left: the next read goes to the transport's own buffer.
  assert.equal(framer.literalSpace(1), null);
  framer.push(enc.encode("\r\nb NOOP\r\n"));
  const event = framer.next();
  assert.equal(event?.type, "command");
  if (event?.type !== "command") return;
  assert.equal(dec.decode(event.command.literals[0]), "0123456789");
  // The literal is the very buffer the bytes were read into: no copy was made.
  assert.equal(event.command.literals[0].buffer, space.buffer);
  assert.deepEqual(framer.next()?.type, "command");
});

Deno.test("framer: literalSpace only while the literal is all that is pending", () => {
  const framer = new ImapFramer({ maxLineLength: 8192, maxLiteralSize: 1 << 20 });
  assert.equal(framer.literalSpace(1), null, "no literal");
  framer.push(enc.encode("a APPEND INBOX {8}\r\n"));
  assert.equal(framer.next()?.type, "literal-request");
  assert.equal(framer.literalSpace(1), null, "not accepted yet");
  framer.acceptLiteral();
  assert.equal(framer.literalSpace(9), null, "smaller than asked");
  framer.push(enc.encode("ab"));
  assert.equal(framer.literalSpace(1), null, "other bytes are buffered first");
  framer.next();
  assert.equal(framer.literalSpace(6)?.length, 6);
});

Deno.test("framer: a stale view of the literal space is copied, not taken in place", () => {
  const framer = awaitingLiteral(6);
  const space = framer.literalSpace(1)!;
  space.set(enc.encode("abcdef"));
  // Pushed out of place (not where the literal's unfilled part starts): read as input.
  framer.push(space.subarray(2, 4));
  framer.push(enc.encode("wxyz\r\n"));
  const event = framer.next();
  assert.equal(event?.type, "command");
  if (event?.type !== "command") return;
  assert.equal(dec.decode(event.command.literals[0]), "cdwxyz");
});
