/**
 * The README's Cookbook, run as written where it can be (issue 19, item 9): the Playwright
 * test against a small sign-up app (headless chromium through playwright-core, with the few
 * `@playwright/test` pieces the snippet uses stood in for), the pytest fixture and test with
 * `python3 -m pytest`, and the curl lines of the parallel-tests recipe. The GitHub Actions job
 * and the compose service cannot run here: their inputs, outputs, variables and ports are
 * checked against `action.yml`, the `Dockerfile` and the settings.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sendMail } from "../process.ts";
import { type Api, withApi } from "../http/helpers.ts";
import { browserTest, IN_CI, withChromium } from "../browser/chromium.ts";
import { SETTINGS } from "../../lib/settings.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const COOKBOOK = README.split("\n## Cookbook\n")[1]?.split("\n## ")[0] ?? "";

/** The fenced blocks of `language` under the Cookbook heading that starts with `heading`. */
function blocks(heading: string, language: string): string[] {
  const section = COOKBOOK.split(`\n### ${heading}`)[1]?.split("\n### ")[0];
  assert.ok(section, `Cookbook section "${heading}"`);
  return section.split("```" + language + "\n").slice(1).map((part) => part.split("```")[0]);
}

/**
 * A sign-up app as the Playwright snippet expects: a form labelled "Email", a "Sign up"
 * button, a confirmation mail with a `/confirm` link, and "Email confirmed" behind it.
 */
function startSignupApp(smtpPort: number) {
  const tokens = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const html = (body: string) =>
      new Response(`<!doctype html><title>app</title>${body}`, {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    if (url.pathname === "/signup" && req.method === "GET") {
      return html(
        `<form method="post"><label for="e">Email</label><input id="e" name="email">` +
          `<button>Sign up</button></form>`,
      );
    }
    if (url.pathname === "/signup" && req.method === "POST") {
      const email = String((await req.formData()).get("email"));
      const token = crypto.randomUUID();
      tokens.add(token);
      const link = `${url.origin}/confirm?token=${token}`;
      const mail = `From: app@example.com\r\nTo: ${email}\r\nSubject: Please confirm your ` +
        `address\r\nContent-Type: text/html\r\n\r\n<p><a href="${link}">Confirm</a></p>\r\n`;
      const reply = await sendMail(smtpPort, email, mail);
      return html(reply.startsWith("250") ? "<p>Check your mail</p>" : `<p>${reply}</p>`);
    }
    if (url.pathname === "/confirm" && tokens.has(url.searchParams.get("token") ?? "")) {
      return html("<p>Email confirmed</p>");
    }
    return new Response("not found", { status: 404 });
  });
  return { base: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test({
  name: "cookbook: the Playwright sign-up test passes against a live server",
  ...browserTest,
}, async () => {
  const [snippet] = blocks("Playwright", "ts");
  const importLine = 'import { expect, test } from "@playwright/test";\n';
  assert.ok(snippet.includes(importLine));
  await withApi(async (api) => {
    const app = startSignupApp(api.server.ports.smtp);
    const dir = await Deno.makeTempDir({ prefix: "elektromail-cookbook-" });
    try {
      await withChromium(async (browser) => {
        const context = await browser.newContext({ baseURL: app.base });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        // What @playwright/test would provide: the test function, test.info(), expect.
        const shim = `
          const process = { env: { MAIL_API: ${JSON.stringify(api.base)} } };
          export const tests = [];
          const test = (name, fn) => tests.push({ name, fn });
          test.info = () => ({ testId: "8f3a2c1d-cookbook" });
          const expect = (actual) => ({
            toBe: (expected) => {
              if (actual !== expected) throw new Error(actual + " is not " + expected);
            },
            toBeVisible: () => actual.waitFor({ state: "visible" }),
          });
        `;
        const file = `${dir}/signup.spec.ts`;
        await Deno.writeTextFile(file, shim + snippet.replace(importLine, ""));
        const { tests } = await import(`file://${file}`);
        assert.equal(tests.length, 1);
        await tests[0].fn({ page, request: page.request });
        // It really went through the mail server, to the tagged address.
        const stored = await api.request("/messages?to=signup%2B8f3a2c1d-cookbook%40");
        assert.equal(stored.json.length, 1);
        assert.equal(stored.json[0].subject, "Please confirm your address");
        await context.close();
      });
    } finally {
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/**
 * The Python that has pytest: the one on PATH, else Debian's (`.ci/run` installs python3-pytest
 * with apt, which a pyenv or venv python3 first on PATH does not see).
 */
function pytestPython(): string | undefined {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const probe = new Deno.Command(python, {
        args: ["-c", "import pytest"],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (probe.success) return python;
    } catch {
      // Not installed: try the next.
    }
  }
  return undefined;
}

const python = pytestPython();
const hasPytest = python !== undefined;
if (!hasPytest && !IN_CI) console.warn("cookbook pytest test skipped: python3 -m pytest missing");

Deno.test({
  name: "cookbook: the pytest fixture and test pass against a live server",
  ignore: !hasPytest && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  assert.ok(hasPytest, "pytest is required in CI (.ci/run installs python3-pytest)");
  const files = blocks("pytest", "python");
  assert.equal(files.length, 2);
  await withApi(async (api: Api) => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-pytest-" });
    try {
      for (const source of files) {
        const name = source.split("\n")[0].replace(/^# /, "");
        assert.match(name, /^(conftest|test_\w+)\.py$/);
        await Deno.writeTextFile(`${dir}/${name}`, source);
      }
      const run = await new Deno.Command(python!, {
        args: ["-m", "pytest", "-q", "-p", "no:cacheprovider", dir],
        cwd: dir,
        env: { MAIL_API: api.base, SMTP_PORT: String(api.server.ports.smtp) },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, out);
      assert.match(out, /1 passed/);
      // The fixture's clean-up deleted that test's mail, and only it.
      assert.equal(api.server.store.listMessages("qa", "INBOX").length, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test({
  name: "cookbook: the parallel-tests curl lines wait for and delete one tag's mail",
  ignore: Deno.build.os === "windows",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const [script] = blocks("Parallel tests", "bash");
  await withApi(async (api) => {
    for (const to of ["qa+t17@example.com", "qa+t18@example.com"]) {
      const body = `From: app@example.com\r\nTo: ${to}\r\nSubject: for ${to}\r\n\r\nhi\r\n`;
      assert.match(await sendMail(api.server.ports.smtp, to, body), /^250 /);
    }
    const run = await new Deno.Command("bash", {
      args: ["-c", `set -e\n${script.replaceAll("127.0.0.1:8025", new URL(api.base).host)}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.match(out, /"subject": "for qa\+t17@example.com"/);
    assert.match(out, /"deleted": 1/);
    const left = api.server.store.listMessages("qa", "INBOX").map((m) => m.summary.subject);
    assert.deepEqual(left, ["for qa+t18@example.com"], "the other test's mail is untouched");
  });
});

Deno.test("cookbook: the Actions job and the compose service match action.yml, Dockerfile, settings", () => {
  const [job] = blocks("GitHub Actions", "yaml");
  const action = Deno.readTextFileSync(`${ROOT}action.yml`);
  const section = (name: string) => action.split(`\n${name}:\n`)[1].split(/\n\S/)[0];
  const declared = (text: string) => [...text.matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]);
  const inputs = declared(section("inputs"));
  const outputs = declared(section("outputs"));
  const step = job.split("- id: mail\n")[1].split("\n      - ")[0];
  const given = [...step.split("with:\n")[1].matchAll(/^ {10}([\w-]+):/gm)].map((m) => m[1]);
  assert.deepEqual(given, ["smtp-port", "http-port"]);
  for (const input of given) assert.ok(inputs.includes(input), `action input ${input}`);
  const used = [...job.matchAll(/steps\.mail\.outputs\.([\w-]+)/g)].map((m) => m[1]);
  assert.ok(used.length >= 3);
  for (const output of used) assert.ok(outputs.includes(output), `action output ${output}`);

  const [compose] = blocks("docker compose", "yaml");
  const dockerfile = Deno.readTextFileSync(`${ROOT}Dockerfile`);
  assert.match(dockerfile, /^HEALTHCHECK .*\n.*elektromail", "healthcheck"\]/m);
  const exposed = dockerfile.match(/^EXPOSE (.*)$/m)![1].split(" ");
  const mail = compose.split("  mail:\n")[1].split("\n  app:")[0];
  for (const [, port] of mail.matchAll(/"(\d+):\d+"/g)) assert.ok(exposed.includes(port), port);
  const variables = SETTINGS.map((setting) => setting.env);
  for (const [, name] of mail.matchAll(/^ {6}([A-Z_]+):/gm)) {
    assert.ok(variables.includes(name), `${name} is a setting`);
  }
  assert.match(compose, /condition: service_healthy/);
});
