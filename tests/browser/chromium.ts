/**
 * Headless chromium for the browser tests (Debian's `/usr/bin/chromium` driven by
 * playwright-core): whether it is there (a missing one is a skip with a note, except in CI),
 * how to launch it, and where screenshots go (`test-artifacts/screenshots/`, git-ignored).
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
export const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";

/** Whether chromium is installed. */
export const available = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Screenshots a human can look at after a run; kept out of git. */
export const SCREENSHOTS = new URL("../../test-artifacts/screenshots/", import.meta.url).pathname;

/** Options of a browser test: skipped without chromium outside CI. */
export const browserTest = {
  ignore: !available && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
};

/** Launches headless chromium, runs `fn`, and always closes it. */
export async function withChromium(fn: (browser: Browser) => Promise<void>): Promise<void> {
  if (!available) throw new Error(`chromium is required in CI (${CHROMIUM})`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI containers) chromium needs --no-sandbox: its own process sandbox, not the
    // iframe sandbox the tests check.
    args: Deno.uid?.() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

/**
 * Waits until `expression` is truthy in a page or frame. Playwright's `waitForFunction` polls
 * with `eval` inside the page once the first check fails, which the inbox's CSP (no
 * 'unsafe-eval') refuses; `evaluate` goes through the DevTools protocol, which CSP does not
 * govern.
 */
export async function waitForTrue(
  target: { evaluate(expression: string): Promise<unknown> },
  expression: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await target.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
