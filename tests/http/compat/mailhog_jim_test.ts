/**
 * MailHog's Jim (`/api/v2/jim`, MailHog-Server `api/v2.go`, `docs/JIM.md`) as chaos rules,
 * and the v2 WebSocket MailHog's UI listens to (`/api/v2/websocket`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { SmtpClient } from "../../process.ts";
import { sendSmtp as send, withApi } from "../helpers.ts";

const json = (body: unknown) => ({
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("jim: invited, configured, sent home; each part is a chaos rule", async () => {
  await withApi(async (api) => {
    assert.equal((await api.request("/api/v2/jim")).status, 404);
    assert.equal((await api.request("/api/v2/jim", { method: "DELETE" })).status, 404);
    assert.equal((await api.request("/api/v2/jim", { method: "PUT", ...json({}) })).status, 404);

    // No body: MailHog's defaults.
    const invited = await api.request("/api/v2/jim", { method: "POST" });
    assert.equal(invited.status, 201);
    assert.equal(invited.bytes.length, 0);
    const defaults = await api.request("/mailhog/api/v2/jim");
    assert.equal(defaults.status, 200);
    assert.deepEqual(defaults.json, {
      DisconnectChance: 0.005,
      AcceptChance: 0.99,
      LinkSpeedAffect: 0.1,
      LinkSpeedMin: 1024,
      LinkSpeedMax: 10240,
      RejectSenderChance: 0.05,
      RejectRecipientChance: 0.05,
      RejectAuthChance: 0.05,
    });
    const rules = (await api.request("/chaos")).json.rules as Array<Record<string, unknown>>;
    const summary = rules.map((r) => [r.command, r.action, r.code, r.percent]);
    assert.deepEqual(summary, [
      ["RCPT", "fail", 550, null], // the marker, for jim@mailhog.invalid only
      ["CONNECT", "drop", null, 1],
      ["MAIL", "fail", 550, 5],
      ["RCPT", "fail", 550, 5],
      ["AUTH", "fail", 535, 5],
      ["EHLO", "drop", null, 0.5],
      ["AUTH", "drop", null, 0.5],
      ["MAIL", "drop", null, 0.5],
      ["RCPT", "drop", null, 0.5],
      ["DATA", "drop", null, 0.5],
    ]);
    // A second invitation is MailHog's 400.
    assert.equal((await api.request("/api/v2/jim", { method: "POST" })).status, 400);

    // PUT: what the body names, every other field 0 (docs/JIM.md); AcceptChance 0 refuses
    // every connection, as MailHog's Jim does.
    const put = await api.request("/api/v2/jim", {
      method: "PUT",
      ...json({ RejectSenderChance: 1, AcceptChance: 1 }),
    });
    assert.equal(put.status, 200);
    assert.deepEqual((await api.request("/api/v2/jim")).json, {
      DisconnectChance: 0,
      AcceptChance: 1,
      LinkSpeedAffect: 0,
      LinkSpeedMin: 0,
      LinkSpeedMax: 0,
      RejectSenderChance: 1,
      RejectRecipientChance: 0,
      RejectAuthChance: 0,
    });
    const { client } = await SmtpClient.connect(api.server.ports.smtp);
    try {
      assert.match(await client.command("EHLO test"), /^250[ -]/);
      assert.match(
        await client.command("MAIL FROM:<a@example.org>"),
        /^550 5\.0\.0 Invalid sender/,
      );
    } finally {
      client.close();
    }
    const bad = await api.request("/api/v2/jim", { method: "PUT", body: "not json" });
    assert.equal(bad.status, 400);
    const wrong = await api.request("/api/v2/jim", {
      method: "PUT",
      ...json({ AcceptChance: "x" }),
    });
    assert.equal(wrong.status, 400);

    assert.equal((await api.request("/api/v2/jim", { method: "DELETE" })).status, 200);
    assert.equal((await api.request("/api/v2/jim")).status, 404);
    assert.deepEqual((await api.request("/chaos")).json.rules, []);
    // Delivery works again.
    await send(api, "a@example.org", ["amy@example.test"], "Subject: x\r\n\r\nx\r\n");

    // POST with a body (MailHog's `curl -d`, a form content type): those settings; a
    // reset sends Jim home with the other API rules.
    const posted = await api.request("/api/v2/jim", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ AcceptChance: 1 }),
    });
    assert.equal(posted.status, 201);
    assert.equal((await api.request("/api/v2/jim")).json.AcceptChance, 1);
    assert.equal((await api.request("/chaos")).json.rules.length, 1);
    await api.request("/reset", { method: "POST" });
    assert.equal((await api.request("/api/v2/jim")).status, 404);
  });
});

Deno.test("mailhog: /api/v2/websocket sends each new INBOX message as MailHog's Message", async () => {
  await withApi(async (api) => {
    assert.equal((await api.request("/api/v2/websocket")).status, 426);
    const foreign = await api.request("/mailhog/api/v2/websocket", {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(foreign.status, 403);
    assert.deepEqual((await api.request("/api/v2/outgoing-smtp")).json, {});

    const socket = new WebSocket(api.base.replace("http:", "ws:") + "/mailhog/api/v2/websocket");
    const received: Array<Record<string, unknown>> = [];
    let wake = () => {};
    socket.onmessage = (event) => {
      received.push(JSON.parse(event.data));
      wake();
    };
    try {
      await new Promise((open) => (socket.onopen = open));
      await api.inject({ user: "amy", mailbox: "Archive", raw: "Subject: elsewhere\r\n\r\nx\r\n" });
      await send(api, "bounce@example.org", ["amy@example.test"], "Subject: hi\r\n\r\nbody\r\n");
      while (received.length < 1) await new Promise<void>((done) => (wake = done));
      assert.equal(received.length, 1, "only the INBOX message");
      const message = received[0];
      assert.equal(message.ID, "amy:INBOX:1");
      assert.deepEqual(message, (await api.request("/mailhog/api/v1/messages/amy:INBOX:1")).json);
    } finally {
      const closed = new Promise((done) => (socket.onclose = done));
      socket.close();
      await closed;
    }
  });
});
