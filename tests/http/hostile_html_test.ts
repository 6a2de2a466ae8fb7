/**
 * Message HTML built to make a backtracking scanner quadratic (issue 11, item 2): the
 * sandboxed body view, `/links` and `/codes` must answer, and other clients (HTTP and SMTP)
 * must be served meanwhile. The server runs as a subprocess so a freeze fails the test at
 * the hang guard instead of stalling the test runner.
 *
 * @module
 */

import assert from "node:assert/strict";
import { servedWhileBusy, withServerProcess } from "./subprocess.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };

/** Each hostile body, and the endpoints that used to scan it with a backtracking regex. */
const CASES: ReadonlyArray<{ name: string; html: string; paths: readonly string[] }> = [
  { name: "<base ×128k", html: "<base ".repeat(128_000), paths: ["/html", "/links"] },
  { name: "< ×512k", html: "<".repeat(512_000), paths: ["/links", "/codes", "/html"] },
  { name: "<!-- ×128k", html: "<!--".repeat(128_000), paths: ["/links", "/codes"] },
  { name: "<script ×128k", html: "<script".repeat(128_000), paths: ["/codes", "/links"] },
  { name: "<a ×128k", html: "<a ".repeat(128_000), paths: ["/links"] },
  { name: "<meta ×128k", html: "<meta ".repeat(128_000), paths: ["/html"] },
];

Deno.test({
  name: "hostile html: body view, links and codes answer, and other clients are served",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      for (const [index, { name, html }] of CASES.entries()) {
        const response = await fetch(server.base + "/inject", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ user: "victim", subject: name, html }),
        });
        const body = await response.text();
        assert.equal(response.status, 201, body);
        assert.equal(JSON.parse(body).id, `victim:INBOX:${index + 1}`);
      }
      for (const [index, { name, paths }] of CASES.entries()) {
        for (const path of paths) {
          const id = encodeURIComponent(`victim:INBOX:${index + 1}`);
          const response = await servedWhileBusy(server, `/messages/${id}${path}`);
          assert.equal(response.status, 200, `${name} ${path}`);
          await response.body?.cancel();
        }
      }
    });
  },
});
