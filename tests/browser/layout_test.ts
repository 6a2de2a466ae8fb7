/**
 * The web inbox's layout in headless chromium, at a desktop and a phone width, in light and
 * dark mode: no message open means no message buttons; at 390 px nothing scrolls sideways,
 * the header's controls stay on screen, and an open message takes the screen with a back
 * button to the list. Screenshots of each are written to test-artifacts/screenshots/ (git-ignored) as
 * test artifacts for a human to look at; nothing asserts on pixels.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { sendMail } from "../process.ts";
import { withApi } from "../http/helpers.ts";
import { SCREENSHOTS } from "./chromium.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";
const available = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Whether the page scrolls sideways: its content is wider than the viewport. */
function sideways(page: Page): Promise<boolean> {
  // A string: the test is type-checked without the DOM library.
  return page.evaluate<boolean>(
    "document.documentElement.scrollWidth > document.documentElement.clientWidth",
  );
}

/** The right edge of an element, in CSS pixels. */
async function rightEdge(page: Page, selector: string): Promise<number> {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is laid out`);
  return box.x + box.width;
}

Deno.test({
  name: "browser layout: desktop and phone, light and dark; buttons only with a message",
  ignore: !available && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  assert.ok(available, `chromium is required in CI (${CHROMIUM})`);
  // Kept after the run for a human to look at (git-ignored).
  const shots = SCREENSHOTS.replace(/\/$/, "");
  await Deno.mkdir(shots, { recursive: true });
  await withApi(async (api) => {
    const text = "From: Shop <shop@example.com>\r\nTo: amy@example.com\r\n" +
      "Subject: Your order with a fairly long subject line that must wrap on a phone\r\n\r\n" +
      "Thanks for the order. Your code is 271828.\r\n";
    assert.match(await sendMail(api.server.ports.smtp, "amy@example.com", text), /^250 /);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: Deno.uid?.() === 0 ? ["--no-sandbox"] : [],
    });
    try {
      for (const [size, viewport] of Object.entries(SIZES)) {
        for (const colorScheme of ["light", "dark"] as const) {
          const context = await browser.newContext({ viewport, colorScheme });
          const page = await context.newPage();
          page.setDefaultTimeout(10_000);
          const where = `${size} ${colorScheme}`;
          await page.goto(api.base + "/");
          await page.locator("#status", { hasText: "live" }).waitFor();
          const row = page.locator("#messages li", { hasText: "Your order" });
          await row.waitFor();

          // No message open: no download link, no delete button, no back button.
          for (const id of ["#m-raw", "#delete", "#back", "#message"]) {
            assert.equal(await page.locator(id).isVisible(), false, `${id} hidden (${where})`);
          }
          assert.equal(await sideways(page), false, `no sideways scroll, list (${where})`);
          for (const id of ["#reset", "#help-toggle", "#search"]) {
            assert.ok(await page.locator(id).isVisible(), `${id} visible (${where})`);
            assert.ok(await rightEdge(page, id) <= viewport.width, `${id} on screen (${where})`);
          }
          await page.screenshot({ path: `${shots}/${size}-${colorScheme}-list.png` });

          await row.click();
          await page.locator("#m-subject", { hasText: "Your order" }).waitFor();
          await page.locator("#delete").waitFor();
          assert.ok(await page.locator("#m-raw").isVisible(), `download shown (${where})`);
          assert.equal(await sideways(page), false, `no sideways scroll, message (${where})`);
          const view = await page.locator("#view").boundingBox();
          assert.ok(view, "the view is laid out");
          if (size === "phone") {
            // The message takes the screen; the list comes back with the back button.
            assert.ok(view.width >= viewport.width - 2, `view ${view.width}px wide (${where})`);
            assert.equal(await page.locator("#messages").isVisible(), false);
            await page.screenshot({ path: `${shots}/${size}-${colorScheme}-message.png` });
            await page.locator("#back").click();
            await row.waitFor();
            assert.equal(await page.locator("#message").isVisible(), false);
          } else {
            assert.ok(view.width >= 600, `view ${view.width}px wide (${where})`);
            assert.equal(await page.locator("#back").isVisible(), false, "no back on a desktop");
            await page.screenshot({ path: `${shots}/${size}-${colorScheme}-message.png` });
          }
          await context.close();
        }
      }
    } finally {
      await browser.close();
    }
  });
  console.log(`web inbox screenshots: ${shots}`);
});
