/**
 * FETCH PREVIEW's text (RFC 8970 3.1): which body, white space, quoted lines, and the 256
 * character cut (code points, never half a surrogate pair). Protocol forms are in
 * tests/rfc9051/preview.txt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { MAX_PREVIEW_CHARS, preview, previewLine } from "../../lib/mail/preview.ts";

const of = (text: string) => {
  const raw = new TextEncoder().encode(text);
  return preview(new MessageIndex(raw), () => raw);
};

Deno.test("preview: white space collapsed, quoted lines dropped, controls removed", () => {
  assert.equal(previewLine("  a\r\n\tb  \u00a0 c\u0007d \n"), "a b cd");
  assert.equal(previewLine("Hi\n> quoted\n>> more\nbye", true), "Hi bye");
  assert.equal(previewLine("Hi\n> kept", false), "Hi > kept");
});

Deno.test("preview: cut after 256 characters, a surrogate pair whole", () => {
  const long = "é".repeat(300);
  assert.equal([...previewLine(long)].length, MAX_PREVIEW_CHARS);
  const emoji = "😀".repeat(300);
  const cut = previewLine(emoji);
  assert.equal([...cut].length, MAX_PREVIEW_CHARS);
  assert.equal(cut, "😀".repeat(MAX_PREVIEW_CHARS));
  // A space is never the last character kept.
  assert.equal(previewLine("a".repeat(255) + " b"), "a".repeat(255));
});

Deno.test("preview: the plain body first, else HTML without markup; attachments skipped", () => {
  assert.equal(
    of(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nnot this\r\n" +
        "--b\r\nContent-Type: text/html\r\n\r\n<p>Hi <script>x()</script>&lt;there&gt;</p>\r\n--b--\r\n",
    ),
    "Hi <there>",
  );
  assert.equal(
    of(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
        "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner text\r\n--b--\r\n",
    ),
    "",
  );
  assert.equal(of("Subject: none\r\n\r\n"), "");
});
