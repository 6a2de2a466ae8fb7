/**
 * The web inbox's resources and the endpoints it uses: the page and its assets (served by
 * the binary, no remote URL, strict CSP), the sandboxed HTML body endpoint, links and codes.
 * The browser-level checks are in `tests/browser/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { APP_JS } from "../../lib/http/web/app.ts";
import { HTML_BODY_CSP } from "../../lib/http/web/html_body.ts";
import { PAGE_HTML } from "../../lib/http/web/page.ts";
import { PAGE_CSP } from "../../lib/http/web/routes.ts";
import { STYLE_CSS } from "../../lib/http/web/style.ts";
import { messagePath, text, withApi } from "./helpers.ts";

Deno.test("web: the page, script and style sheet are served by the binary with a strict CSP", async () => {
  await withApi(async (api) => {
    const page = await api.request("/");
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("content-security-policy"), PAGE_CSP);
    assert.match(text(page.bytes), /<script src="\/app\.js" defer><\/script>/);
    const script = await api.request("/app.js");
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(text(script.bytes), APP_JS);
    const style = await api.request("/app.css");
    assert.equal(style.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal((await api.request("/", { method: "HEAD" })).status, 200);
  });
  // No CDN, no remote anything: the page works offline.
  for (const asset of [PAGE_HTML, APP_JS, STYLE_CSS]) {
    assert.doesNotMatch(asset, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  }
  assert.match(PAGE_CSP, /script-src 'self';/);
  assert.doesNotMatch(PAGE_CSP, /unsafe/);
  // The script is valid JavaScript (compiled, not run).
  new Function(APP_JS);
});

const HOSTILE = [
  '<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/x">',
  '<base href="http://127.0.0.1:9/"></head><body>',
  "<script>document.title = 'pwned'</script><img src=x onerror=\"document.title='pwned'\">",
  '<img src="cid:logo@example" alt=logo><p style="color:red">Hello</p></body></html>',
].join("");

function multipartWithImage(html: string): string {
  return [
    "From: app@example.com",
    "To: amy@example.com",
    "Subject: Hostile",
    "MIME-Version: 1.0",
    'Content-Type: multipart/related; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/html; charset=utf-8",
    "",
    html,
    "--b1",
    "Content-Type: image/png",
    "Content-Transfer-Encoding: base64",
    "Content-ID: <logo@example>",
    "",
    "iVBORw0KGgo=",
    "--b1--",
    "",
  ].join("\r\n");
}

Deno.test("web: the HTML body endpoint defuses the body and serves it with a no-script CSP", async () => {
  await withApi(async (api) => {
    await api.inject({ user: "amy", raw: multipartWithImage(HOSTILE) });
    const response = await api.request(messagePath("amy:INBOX:1", "/html"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("content-security-policy"), HTML_BODY_CSP);
    assert.match(HTML_BODY_CSP, /^default-src 'none'; img-src data:; style-src 'unsafe-inline';/);
    assert.match(HTML_BODY_CSP, /; sandbox$/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    const body = text(response.bytes);
    assert.doesNotMatch(body, /http-equiv/i, "meta refresh removed");
    assert.doesNotMatch(body, /<base/i, "base removed");
    assert.match(body, /<img src="data:image\/png;base64,iVBORw0KGgo=" alt=logo>/, "cid inlined");
    assert.match(body, /<p style="color:red">Hello<\/p>/, "the rest is left as it was");

    await api.inject({ user: "amy", text: "plain only" });
    const none = await api.request(messagePath("amy:INBOX:2", "/html"));
    assert.equal(none.status, 404);
    assert.match(none.json.error, /has no html body/);
    assert.equal((await api.request(messagePath("amy:INBOX:9", "/html"))).status, 404);
  });
});

Deno.test("web: links and codes of a message over HTTP", async () => {
  await withApi(async (api) => {
    await api.inject({
      to: "amy@example.com",
      subject: "Your login code",
      text: "Code: 246810\nOr open https://app.example.com/magic?t=xyz",
      html:
        '<p>Code: <b>246810</b></p><a href="https://app.example.com/magic?t=xyz&amp;s=1">Sign in</a>',
    });
    const links = await api.request(messagePath("amy:INBOX:1", "/links"));
    assert.equal(links.status, 200);
    assert.deepEqual(links.json, {
      id: "amy:INBOX:1",
      links: [
        { url: "https://app.example.com/magic?t=xyz&s=1", text: "Sign in", source: "html" },
        { url: "https://app.example.com/magic?t=xyz", text: null, source: "text" },
      ],
    });
    const codes = await api.request(messagePath("amy:INBOX:1", "/codes"));
    assert.deepEqual(codes.json, { id: "amy:INBOX:1", codes: ["246810"] });
    for (const suffix of ["/links", "/codes"]) {
      const missing = await api.request(messagePath("amy:INBOX:2", suffix));
      assert.equal(missing.status, 404);
      assert.match(missing.json.error, /^No message with id/);
    }
  });
});
