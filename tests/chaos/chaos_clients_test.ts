/**
 * Fault injection end to end: the `/chaos` endpoints, and real clients meeting the faults
 * (nodemailer sees the 4xx, imapflow sees the NO and the dropped connection), delays,
 * reproducible percentages, and `/reset` clearing the rules and saying BYE over IMAP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { Chaos, parseChaosRules } from "../../lib/chaos/mod.ts";
import { type Api, withApi } from "../http/helpers.ts";
import { SmtpClient } from "../process.ts";

const post = (api: Api, body: unknown) =>
  api.request("/chaos", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

function transport(api: Api) {
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port: api.server.ports.smtp,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5000,
  });
}

function imap(api: Api, user = "amy") {
  return new ImapFlow({
    host: "127.0.0.1",
    port: api.server.ports.imap,
    secure: false,
    auth: { user, pass: "any" },
    logger: false,
    disableAutoIdle: true,
  });
}

const MAIL = { from: "app@example.com", to: "amy@example.com", subject: "Hi", text: "Hello" };

Deno.test("chaos HTTP: add, list, delete one, clear; bad rules are 400 naming the field", async () => {
  await withApi(async (api) => {
    const one = await post(api, {
      protocol: "smtp",
      command: "RCPT",
      code: 452,
      enhanced: "4.2.2",
    });
    assert.equal(one.status, 201);
    assert.equal(one.json.rules[0].id, 1);
    assert.equal(one.json.rules[0].remaining, 1);
    const two = await post(api, {
      rules: [
        { protocol: "imap", command: "SELECT", percent: 10 },
        { protocol: "imap", command: "CONNECT", action: "delay", delayMs: 10 },
      ],
    });
    assert.deepEqual(two.json.rules.map((rule: { id: number }) => rule.id), [2, 3]);
    const list = await api.request("/chaos");
    assert.deepEqual(list.json.rules.map((rule: { command: string }) => rule.command), [
      "RCPT",
      "SELECT",
      "CONNECT",
    ]);
    assert.equal((await api.request("/chaos/2", { method: "DELETE" })).json.deleted, 2);
    assert.equal((await api.request("/chaos/2", { method: "DELETE" })).status, 404);
    assert.equal((await api.request("/chaos/x", { method: "DELETE" })).status, 404);
    assert.deepEqual((await api.request("/chaos", { method: "DELETE" })).json, { deleted: 2 });
    assert.deepEqual((await api.request("/chaos")).json, { rules: [] });

    const bad = await post(api, { protocol: "smtp", command: "RCPT", code: 250 });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /^rule: "code" must be an SMTP reply code/);
    const badList = await post(api, { rules: [{ protocol: "smtp", command: "RCPT" }, {}] });
    assert.match(badList.json.error, /^rule 2: "protocol"/);
    assert.equal((await api.request("/chaos")).json.rules.length, 0, "all or nothing");
    const notJson = await api.request("/chaos", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[",
    });
    assert.equal(notJson.status, 400);
    assert.equal((await api.request("/chaos", { method: "PUT" })).status, 405);
  });
});

Deno.test("chaos: nodemailer sees a 451 on RCPT once, then delivers", async () => {
  await withApi(async (api) => {
    await post(api, {
      protocol: "smtp",
      command: "RCPT",
      code: 451,
      enhanced: "4.7.1",
      text: "Greylisted, try again",
      recipient: "amy@example.com",
    });
    const t = transport(api);
    try {
      await assert.rejects(
        t.sendMail(MAIL),
        (error: { responseCode?: number; response?: string }) =>
          error.responseCode === 451 && error.response === "451 4.7.1 Greylisted, try again",
      );
      assert.equal(api.server.store.hasUser("amy"), false, "nothing stored");
      const info = await t.sendMail(MAIL);
      assert.match(info.response, /^250 /);
    } finally {
      t.close();
    }
    const [rule] = (await api.request("/chaos")).json.rules;
    assert.deepEqual([rule.matched, rule.fired, rule.remaining], [1, 1, 0]);
  });
});

Deno.test("chaos: delays hold the reply (and the commands behind it) for the time asked", async () => {
  await withApi(async (api) => {
    await post(api, { protocol: "smtp", command: "DATA", action: "delay", delayMs: 300 });
    const t = transport(api);
    try {
      const started = performance.now();
      const info = await t.sendMail(MAIL);
      const elapsed = performance.now() - started;
      assert.match(info.response, /^250 /);
      assert.ok(elapsed >= 290, `took ${elapsed} ms`);
      assert.equal(api.server.store.listMessages("amy", "INBOX").length, 1);
    } finally {
      t.close();
    }
    await post(api, { protocol: "imap", command: "LIST", action: "delay", delayMs: 200 });
    const client = imap(api);
    await client.connect();
    try {
      const started = performance.now();
      await client.list();
      assert.ok(performance.now() - started >= 190);
    } finally {
      await client.logout();
    }
  });
});

Deno.test("chaos: imapflow sees NO [code] on a command, and a dropped connection", async () => {
  await withApi(async (api) => {
    await post(api, {
      rules: [
        { protocol: "imap", command: "SELECT", user: "amy", code: "UNAVAILABLE", text: "Down" },
        { protocol: "imap", command: "STATUS", action: "drop", user: "amy" },
      ],
    });
    const client = imap(api);
    await client.connect();
    const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
    await assert.rejects(
      client.mailboxOpen("INBOX"),
      (error: { responseStatus?: string; serverResponseCode?: string; responseText?: string }) =>
        error.responseStatus === "NO" && error.serverResponseCode === "UNAVAILABLE" &&
        error.responseText === "Down",
    );
    // The session goes on after a NO.
    const box = await client.mailboxOpen("INBOX");
    assert.equal(box.path, "INBOX");
    // imapflow answers a failed STATUS with false (or a rejection); the connection is gone.
    assert.equal(await client.status("Sent", { messages: true }).catch(() => false), false);
    await closed;
    assert.equal(client.usable, false);
    // Another user is not affected.
    const other = imap(api, "bob");
    await other.connect();
    const status = await other.status("INBOX", { messages: true });
    assert.equal(status && status.messages, 0);
    await other.logout();
  });
});

Deno.test("chaos: a percentage fails the same commands on every run (seeded PRNG)", async () => {
  const rule = { protocol: "smtp", command: "RCPT", percent: 40, seed: 2024 };
  // What the rule's PRNG predicts for 30 matching commands.
  const model = new Chaos();
  model.add(parseChaosRules(rule));
  const expected = Array.from({ length: 30 }, () => model.decide("smtp", "RCPT") ? "4" : "2")
    .join("");
  assert.match(expected, /4/);
  assert.match(expected, /2/);
  await withApi(async (api) => {
    const run = async () => {
      const { client } = await SmtpClient.connect(api.server.ports.smtp);
      try {
        await client.command("EHLO test");
        await client.command("MAIL FROM:<app@example.com>");
        let pattern = "";
        for (let i = 0; i < 30; i++) {
          pattern += (await client.command(`RCPT TO:<u${i}@example.com>`))[0];
        }
        return pattern;
      } finally {
        client.close();
      }
    };
    await post(api, rule);
    assert.equal(await run(), expected);
    // A reset drops the rule; the same rule again gives the same pattern.
    await api.request("/reset", { method: "POST" });
    assert.equal(await run(), "2".repeat(30));
    await post(api, rule);
    assert.equal(await run(), expected);
  });
});

Deno.test("reset: clears run-time chaos rules, restores startup ones, says BYE over IMAP", async () => {
  await withApi(async (api) => {
    await post(api, { protocol: "smtp", command: "MAIL" });
    api.server.store.ensureUser("zed");
    const client = imap(api);
    await client.connect();
    await client.mailboxOpen("INBOX");
    const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
    assert.equal((await api.request("/reset", { method: "POST" })).status, 200);
    await closed;
    const rules = (await api.request("/chaos")).json.rules;
    assert.deepEqual(rules.map((r: { source: string; fired: number }) => [r.source, r.fired]), [
      ["startup", 0],
    ]);
    assert.deepEqual(api.server.store.listUsers(), []);
    const users = (await api.request("/users")).json;
    assert.deepEqual(users.map((u: { user: string }) => u.user), ["cfg"], "configured users stay");
  }, {
    chaos: parseChaosRules({ protocol: "imap", command: "LOGOUT", action: "delay", delayMs: 1 }),
    users: [{ user: "cfg", password: "pw", address: null }],
    authDisabled: true,
  });
});
