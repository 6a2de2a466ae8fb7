/**
 * Issue 11, item 10: the control plane answers only its own machine. A request whose Host
 * is not loopback, the configured hostname, the bind address or an allowed host is refused
 * (DNS rebinding); a state-changing request from another origin is refused (any web page
 * could POST /reset); the SSE and wait routes are covered too. curl-like clients (no
 * Origin) and same-origin requests keep working. Host is sent over raw TCP: fetch does not
 * let a caller set it.
 *
 * @module
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import { concatBytes } from "../../lib/bytes.ts";
import { resolveConfig } from "../../lib/config.ts";
import { assertConfigFailure } from "../process.ts";
import { type Api, messagePath, withApi } from "./helpers.ts";

const decoder = new TextDecoder();

/** One HTTP/1.1 request over raw TCP; the status and the body (Connection: close). */
async function raw(
  api: Api,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  const port = api.server.ports.http!;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [`${method} ${path} HTTP/1.1`, "Connection: close"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n" + body));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    // The first chunk is enough for these small answers, and an event stream never ends.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      const text = decoder.decode(concatBytes(chunks));
      if (/^HTTP\/1\.1 (?!200)/.test(text) && text.includes("\r\n\r\n{") && text.endsWith("}\n")) {
        break;
      }
      if (/^HTTP\/1\.1 200/.test(text) && text.includes("\r\n\r\n")) break;
    }
    const text = decoder.decode(concatBytes(chunks));
    return { status: Number(text.slice(9, 12)), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    conn.close();
  }
}

Deno.test("access: a foreign Host is refused on every route, SSE and waits included", async () => {
  await withApi(async (api) => {
    await api.inject({ user: "amy", subject: "secret", text: "private" });
    const port = api.server.ports.http;
    const paths = [
      "/messages",
      messagePath("amy:INBOX:1"),
      messagePath("amy:INBOX:1", "/raw"),
      "/health",
      "/events",
      "/messages/wait?user=amy&timeout=5",
      "/",
      "/nope",
    ];
    for (
      const host of [`evil.example:${port}`, "evil.example", `192.168.1.10:${port}`, "[::2]", "x:y"]
    ) {
      for (const path of paths) {
        const response = await raw(api, "GET", path, { Host: host });
        assert.equal(response.status, 403, `${host} ${path}`);
        assert.doesNotMatch(response.body, /secret|private/);
        assert.match(
          JSON.parse(response.body).error,
          /^Host ".*" is not allowed.*ELEKTROMAIL_HTTP_ALLOWED_HOSTS/,
        );
      }
      assert.equal((await raw(api, "POST", "/reset", { Host: host })).status, 403);
    }
    assert.equal((await api.request("/messages")).json.length, 1, "nothing was reset");
    for (
      const host of [
        `localhost:${port}`,
        "LOCALHOST",
        `app.localhost:${port}`,
        `127.0.0.1:${port}`,
        "127.4.5.6",
        `[::1]:${port}`,
        "localhost.",
      ]
    ) {
      const response = await raw(api, "GET", "/messages", { Host: host });
      assert.equal(response.status, 200, host);
      assert.match(response.body, /secret/);
    }
  });
});

Deno.test("access: the hostname, the bind address and allowed hosts are answered", async () => {
  await withApi(async (api) => {
    for (const host of ["mail.test", "MAIL.test:8025", "127.0.0.1"]) {
      assert.equal((await raw(api, "GET", "/health", { Host: host })).status, 200, host);
    }
    for (const host of ["elektromail:8025", "b.corp.example", "corp.example", "10.1.2.3"]) {
      assert.equal((await raw(api, "GET", "/health", { Host: host })).status, 200, host);
    }
    for (const host of ["other:8025", "corp.example.evil", "xcorp.example"]) {
      assert.equal((await raw(api, "GET", "/health", { Host: host })).status, 403, host);
    }
  }, { hostname: "mail.test", httpAllowedHosts: ["elektromail", ".corp.example", "10.1.2.3"] });
  await withApi(async (api) => {
    assert.equal((await raw(api, "GET", "/health", { Host: "anything.example" })).status, 200);
  }, { httpAllowedHosts: ["*"] });
});

Deno.test("access: state changes from another origin are refused, same origin and curl pass", async () => {
  await withApi(async (api) => {
    await api.inject({ user: "amy", text: "keep me" });
    const json = { "content-type": "application/json" };
    const attempts: Array<[string, string, string]> = [
      ["POST", "/reset", ""],
      ["POST", "/inject", JSON.stringify({ user: "amy", text: "planted" })],
      ["POST", "/chaos", JSON.stringify({ protocol: "smtp", command: "RCPT", code: 451 })],
      ["DELETE", "/chaos", ""],
      ["DELETE", messagePath("amy:INBOX:1"), ""],
    ];
    const foreign: Array<Record<string, string>> = [
      { Origin: "http://evil.example" },
      { Origin: `http://localhost:${api.server.ports.http! + 1}` },
      { Origin: "null" },
      { "Sec-Fetch-Site": "cross-site" },
    ];
    for (const headers of foreign) {
      for (const [method, path, body] of attempts) {
        const response = await api.request(path, {
          method,
          headers: { ...headers, ...(body ? json : {}) },
          ...(body ? { body } : {}),
        });
        assert.equal(response.status, 403, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.match(response.json.error, /not allowed/);
      }
    }
    assert.equal((await api.request("/messages")).json.length, 1, "nothing changed");
    assert.equal((await api.request("/chaos")).json.rules.length, 0);
    // Reads from another origin are left to the browser's same-origin policy (no CORS).
    const read = await api.request("/messages", { headers: { Origin: "http://evil.example" } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("access-control-allow-origin"), null);
    // The web inbox's own requests and curl's (no Origin) change state.
    const same = await api.request("/reset", {
      method: "POST",
      headers: { Origin: api.base, "Sec-Fetch-Site": "same-origin" },
    });
    assert.equal(same.status, 200);
    assert.equal((await api.request("/reset", { method: "POST" })).status, 200);
  });
});

Deno.test("access: ELEKTROMAIL_HTTP_ALLOWED_HOSTS and --http-allowed-hosts", async () => {
  const serve = (args: string[], env: Record<string, string>) => {
    const result = resolveConfig(args, env);
    assert.equal(result.action, "serve");
    return result.action === "serve" ? result.config.httpAllowedHosts : [];
  };
  assert.deepEqual(serve([], {}), []);
  assert.deepEqual(
    serve([], { ELEKTROMAIL_HTTP_ALLOWED_HOSTS: " Mail.Test, .corp.example,[fd00::1]" }),
    [
      "mail.test",
      ".corp.example",
      "[fd00::1]",
    ],
  );
  assert.deepEqual(serve(["--http-allowed-hosts", "*"], { ELEKTROMAIL_HTTP_ALLOWED_HOSTS: "a" }), [
    "*",
  ]);
  await assertConfigFailure(
    ["--http-allowed-hosts", "a.example:8025"],
    {},
    /--http-allowed-hosts: "a\.example:8025" is not a host name or address/,
  );
});

/** One HTTP/2 request over cleartext (prior knowledge, as `curl --http2-prior-knowledge`). */
async function h2c(
  api: Api,
  headers: Record<string, string>,
  body?: string,
): Promise<number> {
  const client = http2.connect(api.base);
  try {
    return await new Promise<number>((resolve, reject) => {
      const request = client.request(headers);
      request.on("response", (response) => resolve(Number(response[":status"])));
      request.on("error", reject);
      request.resume();
      request.end(body);
    });
  } finally {
    client.close();
  }
}

Deno.test("access: over HTTP/2 cleartext the authority is checked as Host is", async () => {
  await withApi(async (api) => {
    const port = new URL(api.base).port;
    // No Host header in HTTP/2: the authority is what the request names.
    assert.equal(await h2c(api, { ":path": "/users", ":authority": "evil.example" }), 403);
    assert.equal(await h2c(api, { ":path": "/users", ":authority": `127.0.0.1:${port}` }), 200);
    const rule = JSON.stringify({ protocol: "smtp", command: "MAIL", reply: "451 4.3.0 x" });
    const post = (authority: string, origin: string) =>
      h2c(api, {
        ":method": "POST",
        ":path": "/chaos",
        ":authority": authority,
        origin,
        "content-type": "application/json",
      }, rule);
    // A foreign authority, with its own origin to match: refused, nothing created.
    assert.equal(await post("evil.example", "http://evil.example"), 403);
    assert.equal(await post(`localhost:${port}`, "http://evil.example"), 403);
    const rules = await api.request("/chaos");
    assert.deepEqual((rules.json as { rules: unknown[] }).rules, []);
  });
});
