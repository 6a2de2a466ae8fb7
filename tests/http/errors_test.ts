import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../lib/config.ts";
import { messagePath, withApi } from "./helpers.ts";

const post = (body: BodyInit, type = "application/json"): RequestInit => ({
  method: "POST",
  headers: { "content-type": type },
  body,
});

Deno.test("http: unknown paths are 404, wrong methods 405 with Allow", async () => {
  await withApi(async (api) => {
    for (const path of ["/index.html", "/nope", "/messages/x/y", "/messages/a:INBOX:1/parts"]) {
      const response = await api.request(path);
      assert.equal(response.status, 404, path);
      assert.match(response.json.error, /^Not found/);
    }
    const cases: Array<[string, string, string]> = [
      ["/health", "POST", "GET, HEAD"],
      ["/inject", "GET", "POST"],
      ["/reset", "GET", "POST"],
      ["/messages", "PUT", "GET, DELETE, HEAD"],
      [messagePath("a:INBOX:1"), "PUT", "GET, DELETE, HEAD"],
      [messagePath("a:INBOX:1", "/raw"), "DELETE", "GET, HEAD"],
    ];
    for (const [path, method, allow] of cases) {
      const response = await api.request(path, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), allow);
      assert.match(response.json.error, /not allowed/);
    }
  });
});

Deno.test("http: unknown, malformed and badly encoded ids are 404 or 400", async () => {
  await withApi(async (api) => {
    await api.inject({ user: "amy", text: "x" });
    for (const id of ["amy:INBOX:2", "amy:Nope:1", "zed:INBOX:1", "garbage", "amy:INBOX:0"]) {
      for (const suffix of ["", "/raw", "/parts/1"]) {
        const response = await api.request(messagePath(id, suffix));
        assert.equal(response.status, 404, id + suffix);
        assert.match(response.json.error, /No message/);
      }
      const deleted = await api.request(messagePath(id), { method: "DELETE" });
      assert.equal(deleted.status, 404);
    }
    const bad = await api.request("/messages/%E0%A4%A");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /decode/);
  });
});

Deno.test("http: bad filters are 400", async () => {
  await withApi(async (api) => {
    for (const query of ["?usr=x", "?user=a%20b", "?mailbox=", "?user=a:b"]) {
      const response = await api.request("/messages" + query);
      assert.equal(response.status, 400, query);
      assert.equal(typeof response.json.error, "string");
    }
  });
});

Deno.test("http: bad inject bodies are 400 with a message", async () => {
  await withApi(async (api) => {
    const bodies: Array<[string, RegExp]> = [
      ["{not json", /Cannot parse JSON/],
      ["[1,2]", /JSON object/],
      ["null", /JSON object/],
      ["", /Cannot parse JSON/],
      [JSON.stringify({ text: "no recipient" }), /give "to" or "user"/],
      [JSON.stringify({ to: 5 }), /"to" must be/],
      [JSON.stringify({ to: ["ok@x.test", 1] }), /"to" must be/],
      [JSON.stringify({ to: "@x.test" }), /Cannot route/],
      [JSON.stringify({ user: "has space" }), /user name/],
      [JSON.stringify({ user: "u", txt: "typo" }), /Unknown field "txt"/],
      [JSON.stringify({ user: "u", subject: 1 }), /"subject" must be a string/],
      [JSON.stringify({ user: "u", headers: ["x"] }), /"headers" must be/],
      [JSON.stringify({ user: "u", headers: { "X-A": "a\r\nBcc: evil@x" } }), /line breaks/],
      [JSON.stringify({ user: "u", headers: { "Bad Name": "v" } }), /Invalid header name/],
      [JSON.stringify({ user: "u", headers: { "Content-Type": "x/y" } }), /use "raw"/],
      [JSON.stringify({ user: "u", date: "yesterday-ish" }), /"date"/],
      [JSON.stringify({ user: "u", flags: "\\Seen" }), /"flags"/],
      [JSON.stringify({ user: "u", flags: ["\\Recent"] }), /Invalid flag/],
      [JSON.stringify({ user: "u", mailbox: "a//b" }), /mailbox name/],
      [
        JSON.stringify({ user: "u", raw: "Subject: x\n\nbody", text: "also" }),
        /cannot be combined/,
      ],
      [JSON.stringify({ raw: "Subject: no recipients\n\nbody" }), /give "to" or "user"/],
    ];
    for (const [body, error] of bodies) {
      const response = await api.request("/inject", post(body));
      assert.equal(response.status, 400, body);
      assert.match(response.json.error, error, body);
    }
    assert.deepEqual((await api.request("/messages")).json, [], "nothing was stored");
  });
});

Deno.test("http: JSON endpoints read only JSON types; text, forms and none are 415", async () => {
  await withApi(async (api) => {
    const body = JSON.stringify({ user: "ct", text: "x" });
    for (const type of ["application/json; charset=utf-8", "application/vnd.test+json"]) {
      assert.equal((await api.request("/inject", post(body, type))).status, 201, type);
    }
    // What a web page may send anywhere without a CORS preflight, and curl -d's default.
    for (
      const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
      ]
    ) {
      for (const path of ["/inject", "/chaos"]) {
        const init: RequestInit = {
          method: "POST",
          body,
          headers: type ? { "content-type": type } : {},
        };
        // fetch adds text/plain to a string body: a Blob without a type sends none.
        if (!type) init.body = new Blob([body]);
        const refused = await api.request(path, init);
        assert.equal(refused.status, 415, `${path} ${type}`);
        assert.match(refused.json.error, /expected Content-Type application\/json.*--json/);
      }
    }
    assert.equal((await api.request("/messages")).json.length, 2, "only the JSON ones stored");
  });
});

Deno.test("http: bodies over maxHttpBody are 413, by Content-Length and while streaming", async () => {
  const limits = { ...DEFAULT_LIMITS, maxHttpBody: 1024, maxMessageSize: 2000 };
  await withApi(async (api) => {
    const big = JSON.stringify({ user: "big", text: "x".repeat(2000) });
    const declared = await api.request("/inject", post(big));
    assert.equal(declared.status, 413);
    assert.match(declared.json.error, /larger than 1024/);

    // A chunked body has no Content-Length: the limit applies while reading.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * 1024) return controller.close();
        sent += 4096;
        controller.enqueue(new TextEncoder().encode(" ".repeat(4096)));
      },
    });
    const streamed = await api.request("/inject", post(stream));
    assert.equal(streamed.status, 413);

    const fits = await api.inject({ user: "big", text: "x".repeat(900) });
    assert.equal(fits.status, 201);
    assert.deepEqual((await api.request("/messages")).json.length, 1);
  }, { limits });
  // The message limit applies to injected messages too.
  await withApi(async (api) => {
    const response = await api.inject({ user: "big", text: "x".repeat(3000) });
    assert.equal(response.status, 413);
    assert.match(response.json.error, /Message is larger/);
  }, { limits: { ...DEFAULT_LIMITS, maxMessageSize: 2000 } });
});

Deno.test("http: HEAD /health answers with the status and no body", async () => {
  await withApi(async (api) => {
    const head = await api.request("/health", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
  });
});

Deno.test("http: request bodies in flight are bounded: past it 503 with Retry-After", async () => {
  const limits = {
    ...DEFAULT_LIMITS,
    maxHttpBody: 1024 * 1024,
    maxHttpBodiesInFlight: 1536 * 1024,
  };
  await withApi(async (api) => {
    // A chunked body that stays open: it counts as maxHttpBody until its request is done.
    let finish = () => {};
    const held = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"user":"slow","text":"'));
        finish = () => {
          finish = () => {};
          controller.enqueue(new TextEncoder().encode('x"}'));
          controller.close();
        };
      },
    });
    const first = api.request("/inject", post(held));
    try {
      const body = JSON.stringify({ user: "other", text: "y".repeat(600 * 1024) });
      // Until the held request's body is counted (a moment after it was sent; longer on a
      // loaded machine), the other one is taken: tried again until refused (10 s: a hang guard).
      let refused = await api.request("/inject", post(body));
      for (const giveUp = Date.now() + 10_000; refused.status === 201 && Date.now() < giveUp;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        refused = await api.request("/inject", post(body));
      }
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "1");
      assert.match(refused.json.error, /^Cannot take the request body now: .*request bodies/);
      // Small bodies and requests without one still pass.
      assert.equal((await api.inject({ user: "other", text: "small" })).status, 201);
      assert.equal((await api.request("/messages")).status, 200);
      finish();
      assert.equal((await first).status, 201);
      assert.equal((await api.request("/inject", post(body))).status, 201, "free again");
    } finally {
      // Never leave the held request open: the server's stop would wait for it.
      finish();
      await first.catch(() => {});
    }
  }, { limits });
});
