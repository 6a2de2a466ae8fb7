/**
 * Releases (issue 18): MailHog's `POST /api/v1/messages/{id}/release` relays to the SMTP
 * server its body names, loopback only unless configured; Mailpit's
 * `POST /api/v1/message/{ID}/release` (npm `mailpit-api` `releaseMessage`) relays through the
 * configured relay. The target is a second Elektromail in the same process.
 *
 * @module
 */

import assert from "node:assert/strict";
import mailhog from "npm:mailhog@4";
import { MailpitClient } from "npm:mailpit-api@2";
import { testConfig } from "../../../lib/config.ts";
import { startElektromail } from "../../../lib/server.ts";
import { releaseHostAllowed } from "../../../lib/http/compat/relay.ts";
import { sendSmtp as send, text, withApi } from "../helpers.ts";

const MESSAGE = [
  "From: Sender <sender@example.org>",
  "To: amy@example.test",
  "Bcc: hidden@example.test",
  "Subject: release me",
  "Message-ID: <orig@example.org>",
  "",
  "..leading dot line", // dot-stuffed on the wire: stored as ".leading dot line"
  "body",
  "",
].join("\r\n");

/** Runs `fn` with a second server (the release target) up; always stops it. */
async function withTarget(fn: (target: Awaited<ReturnType<typeof startElektromail>>) => unknown) {
  const target = await startElektromail(testConfig({ httpPort: null }));
  try {
    await fn(target);
  } finally {
    await target.stop();
  }
}

const stored = (target: Awaited<ReturnType<typeof startElektromail>>, user: string) => {
  const metas = target.store.listMessages(user, "INBOX");
  assert.equal(metas.length, 1, `one message for ${user}`);
  const meta = metas[0];
  return { meta, raw: text(target.store.getRaw(user, "INBOX", meta.uid)!) };
};

Deno.test("mailhog release: relays to a loopback SMTP server as MailHog does", async () => {
  await withTarget(async (target) => {
    await withApi(async (api) => {
      await send(api, "bounce@example.org", ["amy@example.test"], MESSAGE);
      const release = (body: unknown, id = "amy:INBOX:1") =>
        api.request(`/api/v1/messages/${id}/release`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      // MailHog's body: Go decodes keys case-insensitively and Port is a string.
      const ok = await release({
        email: "zed@example.net",
        host: "127.0.0.1",
        port: String(target.ports.smtp),
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("content-type"), "text/json");
      assert.equal(ok.bytes.length, 0);
      const { meta, raw } = stored(target, "zed");
      // Sent as MailHog sends it: from nobody@{hostname}, our name in EHLO.
      assert.deepEqual(meta.envelope, {
        from: "nobody@localhost",
        to: "zed@example.net",
        helo: "localhost",
      });
      // Our Return-Path went; the target wrote its own. The dot line arrived whole.
      assert.equal(raw.match(/^Return-Path:/gm)?.length, 1);
      assert.match(raw, /^Return-Path: <nobody@localhost>\r\n/);
      assert.match(raw, /\r\nDelivered-To: amy@example.test\r\n/);
      assert.match(
        raw,
        /\r\nSubject: release me\r\nMessage-ID: <orig@example.org>\r\n\r\n\.leading dot line\r\nbody\r\n$/,
      );

      // The npm client's releaseMessage: a JSON body without a Content-Type.
      const client = mailhog({
        host: "127.0.0.1",
        port: api.server.ports.http!,
        basePath: "/mailhog/api",
      });
      const released = await client.releaseMessage("amy:INBOX:1", {
        email: "xia@example.net",
        host: "127.0.0.1",
        port: String(target.ports.smtp),
      }) as unknown as { statusCode: number };
      assert.equal(released.statusCode, 200);
      stored(target, "xia");

      // Through the /mailhog prefix, with AUTH PLAIN.
      const authed = await api.request("/mailhog/api/v1/messages/amy:INBOX:1/release", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          Email: "yan@example.net",
          Host: "localhost",
          Port: target.ports.smtp,
          Username: "relay",
          Password: "secret",
          Mechanism: "PLAIN",
        }),
      });
      assert.equal(authed.status, 200, text(authed.bytes));
      stored(target, "yan");

      const far = await release({ Email: "a@b.c", Host: "192.0.2.1", Port: "25" });
      assert.equal(far.status, 400);
      assert.match(far.json.error, /only loopback hosts.*ELEKTROMAIL_RELEASE_HOSTS/);
      const badMechanism = await release({
        Email: "a@b.c",
        Host: "127.0.0.1",
        Port: "25",
        Username: "u",
        Mechanism: "LOGIN",
      });
      assert.equal(badMechanism.status, 400);
      assert.equal((await release({ Email: "a@b.c", Host: "127.0.0.1", Port: "x" })).status, 400);
      assert.equal(
        (await release({ Email: "a@b.c", Host: "127.0.0.1", Port: "1" }, "amy:INBOX:9")).status,
        404,
      );
      // A refusal by the target is MailHog's 500, with the target's reply in the error.
      await target.stop();
      const down = await release({
        Email: "zed@example.net",
        Host: "127.0.0.1",
        Port: String(target.ports.smtp),
      });
      assert.equal(down.status, 500);
      assert.match(down.json.error, /Release failed/);
    });
  });
});

Deno.test("release hosts: loopback by default, configured names and domains", () => {
  for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "mail.localhost"]) {
    assert.ok(releaseHostAllowed(host, []), host);
  }
  for (const host of ["10.0.0.1", "mail.test", "0.0.0.0"]) {
    assert.ok(!releaseHostAllowed(host, []), host);
  }
  assert.ok(releaseHostAllowed("mail.test", ["mail.test"]));
  assert.ok(releaseHostAllowed("mx.corp.test", [".corp.test"]));
  assert.ok(!releaseHostAllowed("corp.test.evil", [".corp.test"]));
  assert.ok(releaseHostAllowed("192.0.2.1", ["*"]));
});

Deno.test("mailpit release: the npm client's releaseMessage through the configured relay", async () => {
  await withTarget(async (target) => {
    await withApi(async (api) => {
      await send(api, "bounce@example.org", ["amy@example.test"], MESSAGE);
      const client = new MailpitClient(api.base);
      assert.equal(
        await client.releaseMessage("latest", { To: ["zed@example.net", "yan@example.net"] }),
        "ok",
      );
      for (const user of ["zed", "yan"]) {
        const { meta, raw } = stored(target, user);
        assert.equal(meta.envelope?.from, "sender@example.org");
        assert.doesNotMatch(raw, /^Bcc:/m);
        assert.doesNotMatch(raw, /orig@example\.org/);
        assert.match(raw, /\r\nMessage-ID: <[0-9a-f-]+@localhost>\r\n/);
        assert.match(raw, /\r\nSubject: release me\r\n/);
      }
      const webui = await client.getConfiguration();
      assert.equal(webui.MessageRelay.Enabled, true);
      assert.equal(webui.MessageRelay.SMTPServer, `127.0.0.1:${target.ports.smtp}`);
      await assert.rejects(client.releaseMessage("amy:INBOX:1", { To: [] }), /400/);
      await assert.rejects(client.releaseMessage("amy:INBOX:1", { To: ["not an address"] }), /400/);
    }, { releaseRelay: `127.0.0.1:${target.ports.smtp}` });
  });
  // Without a relay, Mailpit's release is off.
  await withApi(async (api) => {
    await send(api, "bounce@example.org", ["amy@example.test"], MESSAGE);
    const client = new MailpitClient(api.base);
    await assert.rejects(
      client.releaseMessage("latest", { To: ["zed@example.net"] }),
      /400.*ELEKTROMAIL_RELEASE_RELAY/s,
    );
  });
});
