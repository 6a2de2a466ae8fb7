/**
 * The HTML tokenizer behind links, codes and the defused body view: known answers for the
 * shapes that matter (quoted `>` in attributes, comments, raw text elements, a tag left open
 * at the end), and the same tokens however the input is cut.
 *
 * @module
 */

import assert from "node:assert/strict";
import { asciiLower, type HtmlToken, tokenizeHtml } from "../../lib/mail/html_tokens.ts";
import { extractLinks, htmlToText } from "../../lib/mail/links.ts";
import { defuse } from "../../lib/http/web/html_body.ts";

function describe(html: string): string[] {
  return [...tokenizeHtml(html)].map((token: HtmlToken) => {
    const source = html.slice(token.start, token.end);
    switch (token.kind) {
      case "text":
        return `${token.raw ? "raw" : "text"} ${source}`;
      case "start":
        return `<${token.name}${token.attributes.map(([k, v]) => ` ${k}=${v}`).join("")}>`;
      case "end":
        return `</${token.name}>`;
      case "comment":
        return `comment ${source}`;
    }
  });
}

Deno.test("html tokens: tags, quoted attributes, comments, raw text, stray <", () => {
  assert.deepEqual(
    describe(
      `a < b <P Class="x>y" data-n=1 checked/>t<!-- c --><script>if (a<b) "</p>"</SCRIPT >` +
        `<!doctype html></P><!---->z`,
    ),
    [
      "text a < b ",
      "<p class=x>y data-n=1 checked=>",
      "text t",
      "comment <!-- c -->",
      "<script>",
      'raw if (a<b) "</p>"',
      "</script>",
      "comment <!doctype html>",
      "</p>",
      "comment <!---->",
      "text z",
    ],
  );
  // A tag or quoted value left open at the end is dropped, as browsers drop it.
  assert.deepEqual(describe(`x<a href="y`), ["text x"]);
  assert.deepEqual(describe(`x<a`), ["text x"]);
  assert.deepEqual(describe(`x<`), ["text x<"]);
  assert.deepEqual(describe(`<!-- open`), ["comment <!-- open"]);
  assert.deepEqual(describe(`<title>a<b>`), ["<title>", "raw a<b>"]);
  assert.equal(asciiLower("ÄİA"), "Äİa", "offsets kept");
});

Deno.test("html tokens: defuse finds tags a regex would miss, and leaves text alone", () => {
  assert.equal(
    defuse(`<meta x=">" http-equiv=" Refresh" content="0;url=http://x/"><p>a</p>`),
    "<p>a</p>",
  );
  assert.equal(
    defuse(`<BASE href=x><script>"<base href=y>"</script>`),
    `<script>"<base href=y>"</script>`,
  );
  assert.equal(
    defuse(`<meta charset=utf-8><p>&lt;base&gt;</p>`),
    `<meta charset=utf-8><p>&lt;base&gt;</p>`,
  );
});

Deno.test("html tokens: links and text follow the document, not the markup's look", () => {
  assert.deepEqual(
    extractLinks(
      null,
      `<!-- <a href="https://hidden.example/">x</a> --><a href=https://a.example/1>one<a ` +
        `href='https://a.example/2'>two</A><area href="https://a.example/3"><abbr>no</abbr>`,
    ).map(({ url, text }) => [url, text]),
    [["https://a.example/1", "one"], ["https://a.example/2", "two"], ["https://a.example/3", null]],
  );
  assert.equal(
    htmlToText("<head><title>T</title><style>p{}</style></head><body>Hi<br class=x>there</body>")
      .trim(),
    "Hi\nthere",
  );
});

Deno.test("html tokens: every prefix of a document tokenizes within its bounds", () => {
  // Not a streaming tokenizer: each prefix is a whole document, so no token may reach past
  // its end and every prefix tokenizes without error.
  const html = `<a href="x">1</a><!--c--><script>s</script><p>t`;
  for (let cut = 0; cut <= html.length; cut++) {
    for (const token of tokenizeHtml(html.slice(0, cut))) assert.ok(token.end <= cut);
  }
});
