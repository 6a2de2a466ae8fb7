/**
 * The web inbox in a real headless browser (Debian's chromium driven by playwright-core):
 * mail sent over SMTP appears without a reload, the keyboard works, a flag change redraws the
 * open message's header but not its body, and a hostile HTML body
 * can neither run script nor load anything remote — checked by a local HTTP server that
 * must see no request, both inside the page's sandboxed iframe and when the body's URL is
 * opened on its own.
 *
 * Without chromium the tests are skipped with a note, except in CI (`CI` set), where a
 * missing browser is a failure: `.ci/run` installs it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { sendMail } from "../process.ts";
import { type Api, messagePath, withApi } from "../http/helpers.ts";
import { available, browserTest, CHROMIUM, IN_CI, withChromium } from "./chromium.ts";

if (!available && !IN_CI) {
  console.warn(
    `browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}

/** A local HTTP server that records every request: the hostile body must never reach it. */
function startBeacon() {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits.push(new URL(request.url).pathname);
    return new Response("x", { headers: { "access-control-allow-origin": "*" } });
  });
  return { hits, port: server.addr.port, close: () => server.shutdown() };
}

function hostileHtml(beacon: number): string {
  const url = `http://127.0.0.1:${beacon}`;
  return [
    `<html><head><meta http-equiv="refresh" content="1;url=${url}/refresh">`,
    `<link rel="stylesheet" href="${url}/style.css"><title>mail</title></head>`,
    `<body style="background:url(${url}/background.png)">`,
    `<script>document.title = "pwned"; document.body.setAttribute("data-pwned", "script");`,
    `parent.document.title = "pwned"; fetch("${url}/fetch");</script>`,
    `<img src="x" onerror="document.title='pwned'; document.body.setAttribute('data-pwned', 'onerror'); new Image().src='${url}/onerror'">`,
    `<img src="${url}/remote.png" alt="remote">`,
    `<iframe src="${url}/frame"></iframe>`,
    `<object data="${url}/object"></object>`,
    `<p id="safe">Hostile body, harmless here</p>`,
    `</body></html>`,
  ].join("\n");
}

function mime(to: string, subject: string, html: string): string {
  return [
    `From: Mallory <mallory@example.com>`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/alternative; boundary="xx"`,
    ``,
    `--xx`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    `Plain text of ${subject}`,
    `--xx`,
    `Content-Type: text/html; charset=utf-8`,
    ``,
    html,
    `--xx--`,
    ``,
  ].join("\r\n");
}

async function openInbox(
  browser: Browser,
  api: Api,
  before: (page: Page) => Promise<unknown> = () => Promise.resolve(),
): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  await before(page);
  await page.goto(api.base + "/");
  await page.locator("#status", { hasText: "live" }).waitFor();
  return page;
}

Deno.test({
  name: "browser: mail sent over SMTP appears live, and the keyboard drives the inbox",
  ...browserTest,
}, async () => {
  await withApi(async (api) => {
    await withChromium(async (browser) => {
      const page = await openInbox(browser, api);
      assert.equal(await page.locator("#messages li").count(), 0);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));

      const text =
        "From: app@example.com\r\nTo: amy+t1@example.com\r\nSubject: Live hello\r\n\r\n" +
        "Your code is 314159.\r\n";
      assert.match(await sendMail(api.server.ports.smtp, "amy+t1@example.com", text), /^250 /);
      // No reload: the list and the user list update from /events.
      await page.locator("#messages li", { hasText: "Live hello" }).waitFor();
      await page.locator("#users button", { hasText: "INBOX" }).first().waitFor();

      await sendMail(
        api.server.ports.smtp,
        "bob@example.com",
        mime("bob@example.com", "Second", "<p>Hi <b>Bob</b></p>"),
      );
      await page.locator("#messages li", { hasText: "Second" }).waitFor();

      // Newest first: j opens the newest, j again the older one; 2 shows the text; 6 the
      // links and codes.
      await page.locator("#messages").focus();
      await page.keyboard.press("j");
      await page.locator("#m-subject", { hasText: "Second" }).waitFor();
      await page.keyboard.press("j");
      await page.locator("#m-subject", { hasText: "Live hello" }).waitFor();
      await page.keyboard.press("2");
      await page.locator("#panel pre", { hasText: "Your code is 314159." }).waitFor();
      await page.keyboard.press("6");
      await page.locator("#panel .codes", { hasText: "314159" }).waitFor();
      // 3: the headers, after the SMTP envelope.
      await page.keyboard.press("3");
      await page.locator("#panel tr.envelope", { hasText: "sender@example.com" }).waitFor();
      await page.locator("#panel tr.envelope", { hasText: "amy+t1@example.com" }).waitFor();
      await page.locator("#panel tr", { hasText: "Delivered-To" }).waitFor();
      await page.keyboard.press("k");
      await page.locator("#m-subject", { hasText: "Second" }).waitFor();
      // Delete removes it from the store and the list.
      await page.keyboard.press("Delete");
      await page.locator("#messages li", { hasText: "Second" }).waitFor({ state: "detached" });
      assert.equal(api.server.store.listMessages("bob", "INBOX").length, 0);
      // The search box filters by content, from the server.
      await page.keyboard.press("/");
      await page.keyboard.type("314159");
      await page.locator("#messages li", { hasText: "Live hello" }).waitFor();
      assert.equal(await page.locator("#messages li").count(), 1);
      // A reset made elsewhere empties the page live.
      await api.request("/reset", { method: "POST" });
      await page.locator("#messages li").first().waitFor({ state: "detached" });
      assert.deepEqual(errors, []);
    });
  });
});

Deno.test({
  name: "browser: a hostile HTML body runs no script and loads nothing remote",
  ...browserTest,
}, async () => {
  const beacon = startBeacon();
  try {
    await withApi(async (api) => {
      await withChromium(async (browser) => {
        const page = await openInbox(browser, api);
        await sendMail(
          api.server.ports.smtp,
          "amy@example.com",
          mime("amy@example.com", "Hostile", hostileHtml(beacon.port)),
        );
        await page.locator("#messages li", { hasText: "Hostile" }).click();
        const frameElement = page.locator("#panel iframe");
        await frameElement.waitFor();
        assert.equal(await frameElement.getAttribute("sandbox"), "");
        const frame = page.frameLocator("#panel iframe");
        await frame.locator("#safe", { hasText: "harmless here" }).waitFor();
        assert.equal(await frame.locator("body").getAttribute("data-pwned"), null);
        assert.equal(await page.title(), "Elektromail");

        // The body's own URL, opened on its own: the CSP alone must hold.
        const direct = await browser.newPage();
        await direct.goto(api.base + messagePath("amy:INBOX:1", "/html"));
        await direct.locator("#safe").waitFor();
        assert.equal(await direct.locator("body").getAttribute("data-pwned"), null);
        assert.equal(await direct.title(), "mail");
        // Longer than the meta refresh's 1 s, so a refresh would have happened by now.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(await direct.locator("#safe").count(), 1, "still the same document");
        assert.deepEqual(beacon.hits, [], "no request reached the beacon");
      });
    });
  } finally {
    await beacon.close();
  }
});

Deno.test({
  name: "browser: marking the open message read updates its header and keeps its HTML body",
  ...browserTest,
}, async () => {
  await withApi(async (api) => {
    await withChromium(async (browser) => {
      const page = await openInbox(browser, api);
      await sendMail(
        api.server.ports.smtp,
        "amy@example.com",
        mime("amy@example.com", "Long letter", '<p id="top">Top</p><p>Dear Amy</p>'),
      );
      await page.locator("#messages li", { hasText: "Long letter" }).click();
      const frameElement = page.locator("#panel iframe");
      await page.frameLocator("#panel iframe").locator("#top").waitFor();
      // A mark on the element itself: a panel drawn again would be a new iframe without it.
      await frameElement.evaluate((node) => node.setAttribute("data-kept", "yes"));
      await page.locator("#seen", { hasText: "Mark read" }).waitFor();

      // The button, then an IMAP-side change seen through /events: each redraws the header.
      await page.locator("#seen").click();
      await page.locator("#seen", { hasText: "Mark unread" }).waitFor();
      await page.locator("#m-meta dd", { hasText: "\\Seen" }).waitFor();
      api.server.store.setFlags("amy", "INBOX", [1], "add", ["\\Flagged"]);
      await page.locator("#m-meta dd", { hasText: "\\Flagged" }).waitFor();

      assert.equal(await frameElement.count(), 1);
      assert.equal(await frameElement.getAttribute("data-kept"), "yes", "the same iframe");
      assert.deepEqual(
        [...api.server.store.getMessage("amy", "INBOX", 1)?.flags ?? []].sort(),
        ["\\Flagged", "\\Seen"],
      );
    });
  });
});

Deno.test({
  name:
    "browser: a list answer older than live changes neither drops new mail nor restores expunged",
  ...browserTest,
}, async () => {
  await withApi(async (api) => {
    await sendMail(
      api.server.ports.smtp,
      "amy@example.com",
      mime("amy@example.com", "Old news", "<p>Bye</p>"),
    );
    await withChromium(async (browser) => {
      // The list requests the page makes are held; their answers are taken at once and given
      // only after mail has come and gone live over /events: a slow list answer.
      const held: Array<() => Promise<void>> = [];
      let holding = true;
      const page = await openInbox(
        browser,
        api,
        (page) =>
          page.route((url) => url.pathname === "/messages", async (route) => {
            if (!holding) return route.continue();
            const stale = await route.fetch();
            held.push(() => route.fulfill({ response: stale }));
          }),
      );
      await sendMail(
        api.server.ports.smtp,
        "amy@example.com",
        mime("amy@example.com", "Fresh news", "<p>Hello</p>"),
      );
      await page.locator("#messages li", { hasText: "Fresh news" }).waitFor();
      assert.deepEqual(api.server.store.expunge("amy", "INBOX", [1], true), [1]);
      assert.ok(held.length > 0, "a list request was held");
      holding = false;
      for (const release of held.splice(0)) await release();
      await waitForListSettled(page);
      assert.equal(await page.locator("#messages li", { hasText: "Fresh news" }).count(), 1);
      assert.equal(await page.locator("#messages li", { hasText: "Old news" }).count(), 0);
    });
  });
});

/** Two animation frames after the last list answer was handled. */
async function waitForListSettled(page: Page): Promise<void> {
  await page.evaluate(
    "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => " +
      "setTimeout(resolve, 50))))",
  );
}
