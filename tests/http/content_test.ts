/**
 * Issue 11, item 11: message content served as it is (parts and raw messages) is sandboxed:
 * `Content-Security-Policy: sandbox; default-src 'none'`, `nosniff`, and a download
 * (`Content-Disposition: attachment`) unless the part is an image that cannot script. A
 * mailed text/html or SVG part used to be served inline on the control plane's origin,
 * where its script could read every message. The browser-level check is in
 * `tests/browser/content_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hostileParts, messagePath, withApi } from "./helpers.ts";

const CONTENT_CSP = "sandbox; default-src 'none'";

Deno.test("content: every part and the raw message are sandboxed; only safe images inline", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({ user: "amy", raw: hostileParts("alert(1)") });
    assert.equal(injected.status, 201);
    const expected: Array<[string, string, RegExp]> = [
      ["1", "text/plain", /^attachment$/],
      ["2", "text/html", /^attachment$/],
      ["3", "image/svg+xml", /^attachment$/],
      ["4", "image/png", /^inline; filename="dot\.png"/],
      ["5", "application/pdf", /^attachment$/],
    ];
    for (const [part, type, disposition] of expected) {
      const response = await api.request(messagePath("amy:INBOX:1", `/parts/${part}`));
      assert.equal(response.status, 200, part);
      assert.equal(response.headers.get("content-type"), type, part);
      assert.equal(response.headers.get("content-security-policy"), CONTENT_CSP, part);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", part);
      assert.match(response.headers.get("content-disposition") ?? "", disposition, part);
    }
    const raw = await api.request(messagePath("amy:INBOX:1", "/raw"));
    assert.equal(raw.headers.get("content-type"), "message/rfc822");
    assert.equal(raw.headers.get("content-security-policy"), CONTENT_CSP);
    assert.equal(raw.headers.get("x-content-type-options"), "nosniff");
    assert.equal(
      raw.headers.get("content-disposition"),
      `attachment; filename="amy_INBOX_1.eml"; filename*=UTF-8''amy_INBOX_1.eml`,
    );
    assert.match(new TextDecoder().decode(raw.bytes), /^From: mallory/m, "the bytes as stored");
  });
});
