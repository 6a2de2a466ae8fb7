/**
 * The SMTP envelope over HTTP (issue 12 items 8 and 9): `envelope: { from, to }` in the
 * message JSON (null without one), the `envelopeFrom` / `envelopeTo` / `rcpt` filters of
 * `/messages` and `/messages/wait`, the trace headers in the detail, and `/inject`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { messagePath, sendSmtp as send, withApi } from "./helpers.ts";

/** One SMTP transaction: MAIL FROM `from`, RCPT TO each of `to`, then `body` (CRLF, no dots). */

const ids = (response: { json: Array<{ id: string }> }) => response.json.map((m) => m.id);

Deno.test("envelope: a copy per recipient address, each with its envelope; From stays the header", async () => {
  await withApi(async (api) => {
    // No From header: the envelope is the only sender there is.
    await send(
      api,
      "bounces+7@example.org",
      ["u1@example.test", "u1+bcc@example.test"],
      [
        "To: u1@example.test",
        "Subject: envelope",
        "",
        "body",
        "",
      ].join("\r\n"),
    );
    const list = await api.request("/messages?user=u1&order=asc");
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.map((m: { id: string; from: string; envelope: unknown }) => [
        m.id,
        m.from,
        m.envelope,
      ]),
      [
        ["u1:INBOX:1", "", { from: "bounces+7@example.org", to: "u1@example.test" }],
        ["u1:INBOX:2", "", { from: "bounces+7@example.org", to: "u1+bcc@example.test" }],
      ],
    );
    // The detail has the same envelope, and the trace headers come first.
    const detail = await api.request(messagePath("u1:INBOX:2"));
    assert.deepEqual(detail.json.envelope, {
      from: "bounces+7@example.org",
      to: "u1+bcc@example.test",
    });
    const headers: Array<{ name: string; value: string }> = detail.json.headers;
    assert.deepEqual(headers.slice(0, 3).map((h) => h.name), [
      "Return-Path",
      "Delivered-To",
      "Received",
    ]);
    assert.deepEqual(headers.slice(0, 2).map((h) => h.value), [
      "<bounces+7@example.org>",
      "u1+bcc@example.test",
    ]);
    assert.equal(detail.json.addresses.from.length, 0);
  });
});

Deno.test("envelope: envelopeFrom, envelopeTo and rcpt filter /messages", async () => {
  await withApi(async (api) => {
    const body = "Subject: x\r\n\r\n";
    await send(api, "app@example.org", ["amy@example.test", "Amy+Audit@example.test"], body);
    await send(api, "", ["amy@example.test"], body);
    await api.inject({ user: "amy", subject: "no envelope", text: "t" });
    await api.inject({ to: "bob+i@example.test", from: "App <App@Example.org>", text: "t" });
    const query = async (q: string) => ids(await api.request(`/messages?order=asc&${q}`));
    assert.deepEqual(await query("envelopeTo=amy%2Baudit"), ["amy:INBOX:2"]);
    assert.deepEqual(await query("rcpt=AMY%2BAUDIT%40example.test"), ["amy:INBOX:2"]);
    assert.deepEqual(await query("envelopeTo=amy%40example.test"), ["amy:INBOX:1", "amy:INBOX:3"]);
    assert.deepEqual(await query("envelopeFrom=app%40example.org"), [
      "amy:INBOX:1",
      "amy:INBOX:2",
      "bob:INBOX:1",
    ]);
    // <> is the null reverse-path (a bounce), not a substring.
    assert.deepEqual(await query("envelopeFrom=%3C%3E"), ["amy:INBOX:3"]);
    assert.deepEqual(await query("envelopeFrom=%3C%3E&envelopeTo=amy%2B"), []);
    // A message without an envelope matches no envelope filter; its JSON says null.
    assert.deepEqual(await query("envelopeTo=%40"), [
      "amy:INBOX:1",
      "amy:INBOX:2",
      "amy:INBOX:3",
      "bob:INBOX:1",
    ]);
    const none = await api.request(messagePath("amy:INBOX:4"));
    assert.equal(none.json.envelope, null);
    // Bad use is a 400 that says why.
    for (
      const [q, pattern] of [
        ["envelopeTo=a&rcpt=a", /"rcpt" is another name of "envelopeTo"/],
        ["envelopeFrom=", /^Empty filter "envelopeFrom"/],
        ["rcpt=a&rcpt=b", /^Filter "rcpt" is given twice/],
      ] as const
    ) {
      const response = await api.request(`/messages?${q}`);
      assert.equal(response.status, 400, q);
      assert.match(response.json.error, pattern, q);
    }
  });
});

Deno.test("envelope: /messages/wait takes the envelope filters", async () => {
  await withApi(async (api) => {
    await send(api, "app@example.org", ["cat@example.test"], "Subject: first\r\n\r\n");
    const waiting = api.request("/messages/wait?rcpt=cat%2Bbcc%40&timeout=10");
    // Not this one: same user, another recipient.
    await send(api, "app@example.org", ["cat@example.test"], "Subject: second\r\n\r\n");
    await send(
      api,
      "app@example.org",
      ["cat@example.test", "cat+bcc@example.test"],
      "Subject: third\r\n\r\n",
    );
    const answer = await waiting;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.id, "cat:INBOX:4");
    assert.equal(answer.json.subject, "third");
    assert.deepEqual(answer.json.envelope, { from: "app@example.org", to: "cat+bcc@example.test" });
    const timedOut = await api.request("/messages/wait?envelopeFrom=nobody&timeout=0");
    assert.equal(timedOut.status, 408);
  });
});

Deno.test("envelope: /inject keeps an envelope for addresses, one copy per address, bytes as given", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({
      to: ["dee@example.test", "Dee+T1@example.test", "DEE@EXAMPLE.TEST"],
      from: "App <app@example.org>",
      subject: "hi",
      text: "t",
    });
    assert.equal(injected.status, 201);
    assert.deepEqual(
      injected.json.messages.map((m: { id: string; envelope: unknown }) => [m.id, m.envelope]),
      [
        ["dee:INBOX:1", { from: "app@example.org", to: "dee@example.test" }],
        ["dee:INBOX:2", { from: "app@example.org", to: "Dee+T1@example.test" }],
      ],
    );
    // raw: recipients from To, Cc and Bcc, the sender from From; nothing is prepended.
    const raw =
      "From: Shop <shop@example.org>\r\nTo: eve@example.test\r\nBcc: eve+copy@example.test\r\n" +
      "Subject: raw\r\n\r\nbody\r\n";
    const fromRaw = await api.inject({ raw });
    assert.deepEqual(
      fromRaw.json.messages.map((m: { envelope: unknown }) => m.envelope),
      [
        { from: "shop@example.org", to: "eve@example.test" },
        { from: "shop@example.org", to: "eve+copy@example.test" },
      ],
    );
    const bytes = await api.request(messagePath("eve:INBOX:2", "/raw"));
    assert.equal(new TextDecoder().decode(bytes.bytes), raw);
    // Without From, the default sender; to a user, no envelope.
    const plain = await api.inject({ to: "fay@example.test", text: "t" });
    assert.deepEqual(plain.json.messages[0].envelope, {
      from: "elektromail@localhost",
      to: "fay@example.test",
    });
    const user = await api.inject({ user: "fay", text: "t" });
    assert.equal(user.json.messages[0].envelope, null);
  });
});
