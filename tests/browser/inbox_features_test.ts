/**
 * The web inbox's everyday features in headless chromium (issue 19, item 7): newest first
 * with live mail on top, an address per message that survives a reload, read/unread as IMAP
 * sees it (both ways), the query box (the server's `q=`), remote images blocked with a
 * placeholder until shown, the HTML source tab and image thumbnails. Screenshots at desktop
 * and phone widths, light and dark, go to `test-artifacts/screenshots/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Frame, Page } from "playwright-core";
import { sendMail } from "../process.ts";
import { RawImap } from "../raw_imap.ts";
import { type Api, PNG_BASE64, withApi } from "../http/helpers.ts";
import { browserTest, SCREENSHOTS, waitForTrue, withChromium } from "./chromium.ts";

async function openInbox(page: Page, api: Api, hash = ""): Promise<void> {
  page.setDefaultTimeout(10_000);
  await page.goto(api.base + "/" + hash);
  await page.locator("#status", { hasText: "live" }).waitFor();
}

/** The subjects of the listed messages, top to bottom. */
function subjects(page: Page): Promise<string[]> {
  return page.locator("#messages li .subj").allTextContents();
}

/** The flags IMAP reports for a UID of alice's INBOX, as FETCH writes them. */
async function imapFlags(imap: RawImap, uid: number): Promise<string> {
  const lines = await imap.command(`UID FETCH ${uid} (FLAGS)`);
  const fetch = lines.find((line) => line.includes("FETCH ("));
  assert.ok(fetch, lines.join("\n"));
  return fetch;
}

Deno.test({
  name: "browser inbox: newest first, an address per message, read/unread over IMAP, query box",
  ...browserTest,
}, async () => {
  await withApi(async (api) => {
    const start = Date.parse("2026-12-01T09:00:00Z");
    const mails = [["A old", "shop"], ["B middle", "bank"], ["C new", "shop"]];
    for (const [i, [subject, from]] of mails.entries()) {
      const body = { user: "alice", subject, from: `${from}@example.com`, text: subject };
      await api.inject({ ...body, date: start + i * 60_000 });
    }
    await withChromium(async (browser) => {
      const page = await browser.newPage();
      await openInbox(page, api);
      await page.locator("#messages li", { hasText: "A old" }).waitFor();
      assert.deepEqual(await subjects(page), [
        "alice · C new",
        "alice · B middle",
        "alice · A old",
      ]);
      // Live mail goes on top.
      const live =
        "From: news@example.com\r\nTo: alice@example.com\r\nSubject: D live\r\n\r\nhi\r\n";
      assert.match(await sendMail(api.server.ports.smtp, "alice@example.com", live), /^250 /);
      await page.locator("#messages li", { hasText: "D live" }).waitFor();
      assert.equal((await subjects(page))[0], "alice · D live");

      // Opening a message gives it an address; a reload keeps it open, as does a link.
      await page.locator("#messages li", { hasText: "B middle" }).click();
      await page.locator("#m-subject", { hasText: "B middle" }).waitFor();
      assert.equal(new URL(page.url()).hash, "#/alice/INBOX/2");
      await page.reload();
      await page.locator("#m-subject", { hasText: "B middle" }).waitFor();
      assert.equal(
        await page.locator("#messages li[aria-selected=true]").textContent(),
        await page.locator("#messages li", { hasText: "B middle" }).textContent(),
      );
      const linked = await browser.newPage();
      await openInbox(linked, api, "#/alice/INBOX/1");
      await linked.locator("#m-subject", { hasText: "A old" }).waitFor();
      // Back returns to the message before; closing goes back to the list's address.
      await linked.locator("#messages li", { hasText: "C new" }).click();
      await linked.locator("#m-subject", { hasText: "C new" }).waitFor();
      await linked.goBack();
      await linked.locator("#m-subject", { hasText: "A old" }).waitFor();
      await linked.close();

      // Mark read: IMAP sees \Seen; mark unread: it is gone. And the other way round.
      const imap = await RawImap.connect(api.server.ports.imap);
      try {
        assert.match((await imap.command("LOGIN alice any")).at(-1)!, /OK/);
        assert.match((await imap.command("SELECT INBOX")).at(-1)!, /OK/);
        assert.doesNotMatch(await imapFlags(imap, 2), /\\Seen/);
        await page.locator("#seen", { hasText: "Mark read" }).click();
        await page.locator("#seen", { hasText: "Mark unread" }).waitFor();
        assert.match(await imapFlags(imap, 2), /\\Seen/);
        await page.keyboard.press("u");
        await page.locator("#seen", { hasText: "Mark read" }).waitFor();
        assert.doesNotMatch(await imapFlags(imap, 2), /\\Seen/);
        assert.match((await imap.command("UID STORE 1 +FLAGS (\\Seen)")).at(-1)!, /OK/);
        await page.locator("#messages li:not(.unseen)", { hasText: "A old" }).waitFor();
      } finally {
        imap.close();
      }

      // The query box speaks q=: the same terms as the API.
      await page.locator("#search").fill("from:shop is:unread");
      await page.locator("#messages li", { hasText: "A old" }).waitFor({ state: "detached" });
      assert.deepEqual(await subjects(page), ["alice · C new"]);
      await page.locator("#search").fill('"B middle"');
      await page.locator("#messages li", { hasText: "B middle" }).waitFor();
      assert.deepEqual(await subjects(page), ["alice · B middle"]);
      // A bad query says why, in the status line, and marks the box.
      await page.locator("#search").fill("is:starred");
      await page.locator("#status", { hasText: "Unknown query term" }).waitFor();
      assert.equal(await page.locator("#search").getAttribute("aria-invalid"), "true");
      await page.locator("#search").fill("");
      await page.locator("#messages li", { hasText: "D live" }).waitFor();
      assert.equal(await page.locator("#messages li").count(), 4);
    });
  });
});

/** An HTML message with a remote image, a PNG attachment and an SVG one. */
function richMessage(beacon: number): string {
  const part = (headers: string[], body: string) => ["--p", ...headers, "", body].join("\r\n");
  return [
    "From: Newsletter <news@example.com>",
    "To: alice@example.com",
    "Subject: With pictures",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="p"',
    "",
    part(
      ["Content-Type: text/html; charset=utf-8"],
      `<html><body><h1 id="hello">Hello</h1><p>Our logo:</p>` +
        `<img id="logo" src="http://127.0.0.1:${beacon}/logo.png" width="120" height="40" ` +
        `alt="logo"><p>Bye</p></body></html>`,
    ),
    part(
      [
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="dot.png"',
      ],
      PNG_BASE64,
    ),
    part(
      ["Content-Type: image/svg+xml", 'Content-Disposition: attachment; filename="v.svg"'],
      `<svg xmlns="http://www.w3.org/2000/svg"/>`,
    ),
    "--p--",
    "",
  ].join("\r\n");
}

/** The frame of the message's HTML body. */
async function bodyFrame(page: Page, remote: boolean): Promise<Frame> {
  const frame = page.frameLocator("#panel iframe");
  await frame.locator("#hello").waitFor();
  const found = page.frames().find((f) =>
    f.url().includes("/html") && f.url().includes("images=remote") === remote
  );
  assert.ok(found, `the body's frame (remote images ${remote ? "shown" : "blocked"})`);
  return found;
}

Deno.test({
  name: "browser inbox: remote images blocked then shown, HTML source, thumbnails; screenshots",
  ...browserTest,
}, async () => {
  const hits: string[] = [];
  const png = Uint8Array.from(atob(PNG_BASE64), (c) => c.charCodeAt(0));
  const beacon = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    hits.push(new URL(req.url).pathname);
    return new Response(png, { headers: { "content-type": "image/png" } });
  });
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  try {
    await withApi(async (api) => {
      assert.equal(
        (await api.inject({ user: "alice", raw: richMessage(beacon.addr.port) })).status,
        201,
      );
      await api.inject({ user: "alice", subject: "Plain html", html: "<p id=hello>hi</p>" });
      await withChromium(async (browser) => {
        const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
        for (const [size, viewport] of Object.entries(sizes)) {
          for (const colorScheme of ["light", "dark"] as const) {
            const where = `${size} ${colorScheme}`;
            const context = await browser.newContext({ viewport, colorScheme });
            const page = await context.newPage();
            await openInbox(page, api, "#/alice/INBOX/1");
            await page.locator("#m-subject", { hasText: "With pictures" }).waitFor();
            // Blocked: a placeholder that renders (not a broken icon), and no request.
            const blocked = await bodyFrame(page, false);
            await page.locator(".images-bar", { hasText: "1 remote image blocked" }).waitFor();
            assert.match(
              String(await blocked.evaluate("document.images[0].src")),
              /^data:image\/svg/,
            );
            assert.equal(await blocked.evaluate("document.images[0].naturalWidth"), 160, where);
            assert.equal(await blocked.evaluate("document.images[0].width"), 120, "size kept");
            assert.deepEqual(hits, [], `nothing loaded before asking (${where})`);
            assert.equal(
              await page.evaluate("document.documentElement.scrollWidth > innerWidth"),
              false,
              `no sideways scroll (${where})`,
            );
            await page.screenshot({
              path: `${SCREENSHOTS}${size}-${colorScheme}-images-blocked.png`,
            });

            // Shown, for this message only.
            await page.locator("#remote-images", { hasText: "Show remote images" }).click();
            const shown = await bodyFrame(page, true);
            await page.locator(".images-bar", { hasText: "1 remote image shown" }).waitFor();
            await waitForTrue(shown, "document.images[0].complete");
            assert.equal(await shown.evaluate("document.images[0].naturalWidth"), 1, where);
            assert.deepEqual(hits, ["/logo.png"], where);
            hits.length = 0;
            await page.screenshot({
              path: `${SCREENSHOTS}${size}-${colorScheme}-images-shown.png`,
            });

            // The HTML source, as text.
            await page.keyboard.press("7");
            await page.locator("#panel pre.source", { hasText: '<img id="logo"' }).waitFor();
            // Thumbnails for images that cannot script; not for the SVG.
            await page.keyboard.press("5");
            const thumb = page.locator("#panel .thumb img");
            await thumb.waitFor();
            assert.equal(await thumb.count(), 1, "one thumbnail");
            assert.equal(await thumb.getAttribute("alt"), "dot.png");
            await waitForTrue(page, "document.querySelector('#panel .thumb img').complete");
            assert.equal(
              await page.evaluate("document.querySelector('#panel .thumb img').naturalWidth"),
              1,
            );
            await page.locator("#panel li", { hasText: "v.svg" }).waitFor();
            await page.screenshot({ path: `${SCREENSHOTS}${size}-${colorScheme}-attachments.png` });

            // Another message has no remote images: no bar.
            await page.goto(api.base + "/#/alice/INBOX/2");
            await page.locator("#m-subject", { hasText: "Plain html" }).waitFor();
            await page.keyboard.press("1");
            await page.frameLocator("#panel iframe").locator("#hello").waitFor();
            assert.equal(await page.locator(".images-bar").isVisible(), false);
            await context.close();
          }
        }
      });
    });
  } finally {
    await beacon.shutdown();
  }
  console.log(`web inbox screenshots: ${SCREENSHOTS}`);
});
