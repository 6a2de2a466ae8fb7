/**
 * Issue 11, item 7: POST /inject must not amplify. 20 MB of text used to peak at 887 MB
 * (quoted-printable built character by character), three at once at 1.8 GB, and a 29 MB
 * text over the message size limit was refused only after composing it (4 s, 1.1 GB).
 * Each case runs on a fresh server subprocess whose peak resident memory (VmHWM) is read
 * from /proc; the bounds are several times what the work needs, and far below the old
 * peaks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ServerUnderTest, withinSeconds, withServerProcess } from "./subprocess.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };
const MB = 1024 * 1024;

function injectText(server: ServerUnderTest, megabytes: number): Promise<Response> {
  return fetch(server.base + "/inject", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "big", text: "x".repeat(megabytes * MB) }),
  });
}

/** The growth of the server's peak memory over its resident memory before `work`, in MiB. */
async function peakGrowth(server: ServerUnderTest, work: () => Promise<void>): Promise<number> {
  const before = await server.memory();
  await work();
  const after = await server.memory();
  return Math.round(after.peak - before.rss);
}

Deno.test({
  name: "inject memory: 20 MB of text stays near its own size",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      const growth = await peakGrowth(server, async () => {
        const response = await withinSeconds(injectText(server, 20), 60, "POST /inject 20 MB");
        assert.equal(response.status, 201, await response.text());
      });
      console.log(`20 MB inject: peak grew by ${growth} MiB`);
      assert.ok(growth < 400, `peak grew by ${growth} MiB`);
    });
  },
});

Deno.test({
  name: "inject memory: three 20 MB injects at once are bounded (some may wait with 503)",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      const statuses: number[] = [];
      const growth = await peakGrowth(server, async () => {
        const responses = await withinSeconds(
          Promise.all([injectText(server, 20), injectText(server, 20), injectText(server, 20)]),
          90,
          "three POST /inject of 20 MB",
        );
        for (const response of responses) {
          statuses.push(response.status);
          const body = await response.json();
          if (response.status === 503) {
            assert.match(body.error, /request bodies/);
            assert.equal(response.headers.get("retry-after"), "1");
          }
        }
      });
      console.log(`three 20 MB injects: ${statuses.join(", ")}; peak grew by ${growth} MiB`);
      assert.ok(statuses.every((status) => status === 201 || status === 503), String(statuses));
      assert.ok(statuses.includes(201));
      assert.ok(growth < 800, `peak grew by ${growth} MiB`);
    });
  },
});

Deno.test({
  name: "inject memory: a text over the message size limit is refused before composing",
  ...slow,
  fn: async () => {
    await withServerProcess(async (server) => {
      let status = 0;
      let error = "";
      const growth = await peakGrowth(server, async () => {
        const response = await withinSeconds(injectText(server, 29), 60, "POST /inject 29 MB");
        status = response.status;
        error = (await response.json()).error;
      });
      console.log(`29 MB inject: ${status}; peak grew by ${growth} MiB`);
      assert.equal(status, 413);
      assert.match(error, /larger than 26214400/);
      assert.ok(growth < 400, `peak grew by ${growth} MiB`);
    });
  },
});
