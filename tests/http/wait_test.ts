/**
 * `GET /messages/wait`: at once for a stored message, on delivery for a new one (over real
 * SMTP), 408 on timeout, 400 for bad filters, many concurrent waiters, and waiters that go
 * away (client abort, reset, server stop).
 *
 * @module
 */

import assert from "node:assert/strict";
import { sendMail, SmtpClient } from "../process.ts";
import { type Api, withApi } from "./helpers.ts";

const wait = (api: Api, query: string) => api.request(`/messages/wait?${query}`);

const mail = (to: string, subject: string, body = "Hello") =>
  `To: ${to}\r\nFrom: App <app@example.com>\r\nSubject: ${subject}\r\n\r\n${body}\r\n`;

/** Resolves once `n` requests are registered as waiting (read from /health). */
async function waiting(api: Api, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await api.request("/health")).json.waiting === n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never saw ${n} waiters`);
}

Deno.test("wait: a stored message answers at once, with the full message JSON", async () => {
  await withApi(async (api) => {
    await api.inject({ to: "amy+t1@example.com", subject: "Welcome", text: "Code 123456" });
    const started = performance.now();
    const response = await wait(api, "to=amy%2Bt1%40&subject=welcome&timeout=5");
    assert.equal(response.status, 200);
    assert.ok(performance.now() - started < 4000, "did not wait for the timeout");
    assert.equal(response.json.id, "amy:INBOX:1");
    assert.equal(response.json.text, "Code 123456");
    assert.ok(Array.isArray(response.json.headers));
  });
});

Deno.test("wait: a message delivered over SMTP while waiting answers the waiter", async () => {
  await withApi(async (api) => {
    const pending = wait(api, "to=amy%2Bsignup%40example.com&timeout=10");
    await waiting(api, 1);
    // Another user's mail, and the same user's with another tag, do not match.
    await sendMail(api.server.ports.smtp, "bob@example.com", mail("bob@example.com", "x"));
    await sendMail(
      api.server.ports.smtp,
      "amy+other@example.com",
      mail("amy+other@example.com", "x"),
    );
    assert.equal((await api.request("/health")).json.waiting, 1, "still waiting");
    const reply = await sendMail(
      api.server.ports.smtp,
      "amy+signup@example.com",
      mail("amy+signup@example.com", "Confirm your address"),
    );
    assert.match(reply, /^250 /);
    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal(response.json.id, "amy:INBOX:2");
    assert.equal(response.json.subject, "Confirm your address");
    assert.equal((await api.request("/health")).json.waiting, 0);
  });
});

Deno.test("wait: 408 with a JSON error on timeout; timeout=0 only looks", async () => {
  await withApi(async (api) => {
    const started = performance.now();
    const response = await wait(api, "user=nobody&timeout=0.3");
    const elapsed = performance.now() - started;
    assert.equal(response.status, 408);
    assert.match(response.json.error, /^No message matched within 0\.3 s/);
    assert.deepEqual(response.json.filters, { user: "nobody", timeout: "0.3" });
    assert.ok(elapsed >= 290, `waited ${elapsed} ms`);
    const now = await wait(api, "user=nobody&timeout=0");
    assert.equal(now.status, 408);
    assert.equal((await api.request("/health")).json.waiting, 0, "timers and entries are gone");
  });
});

Deno.test("wait: bad filters and timeouts are 400 naming the problem", async () => {
  await withApi(async (api) => {
    const cases: Array<[string, RegExp]> = [
      ["colour=red", /^Unknown filter "colour" \(use user, mailbox, to, from, subject/],
      ["user=", /^Empty filter "user"/],
      ["user=a%20b", /^Invalid user filter/],
      ["to=a&to=b", /^Filter "to" is given twice/],
      ["since=yesterday", /^Cannot read "since": "yesterday" is not a message id/],
      ["since=amy:INBOX:1&user=bob", /names a message of amy, but "user" is bob/],
      ["since=amy:INBOX:1&mailbox=Sent", /names a message in INBOX, not Sent/],
      ["timeout=-1", /^"timeout" must be a number of seconds from 0 to 300/],
      ["timeout=301", /from 0 to 300/],
      ["timeout=ten", /from 0 to 300/],
      [`subject=${"x".repeat(1001)}`, /longer than 1000 characters/],
    ];
    for (const [query, pattern] of cases) {
      const response = await wait(api, query);
      assert.equal(response.status, 400, query);
      assert.match(response.json.error, pattern, query);
    }
    // since=now only makes sense for a wait; the list says so.
    const list = await api.request("/messages?since=now");
    assert.equal(list.status, 400);
    assert.match(list.json.error, /only applies to \/messages\/wait/);
    assert.equal((await api.request("/health")).json.waiting, 0);
  });
});

Deno.test("wait: every filter (from, subject, contains, mailbox, since id, time, now)", async () => {
  await withApi(async (api) => {
    await api.inject({
      to: "amy@example.com",
      from: "Shop <shop@example.com>",
      subject: "Receipt",
      text: "Total 12 EUR",
    });
    await api.inject({
      to: "amy@example.com",
      from: "bank@example.com",
      subject: "Login code",
      html: "<p>Your code is <b>987654</b></p>",
    });
    await api.inject({ user: "amy", mailbox: "Archive", subject: "Old", text: "archived" });
    const id = async (query: string) => {
      const response = await wait(api, `${query}&timeout=0`);
      return response.status === 200 ? response.json.id : response.status;
    };
    assert.equal(await id("from=SHOP%40"), "amy:INBOX:1");
    assert.equal(await id("subject=login"), "amy:INBOX:2");
    assert.equal(await id("contains=987654"), "amy:INBOX:2", "html body text");
    assert.equal(await id("contains=total%2012"), "amy:INBOX:1");
    assert.equal(await id("contains=nowhere"), 408);
    assert.equal(await id("mailbox=Archive"), "amy:Archive:1");
    assert.equal(await id("mailbox=inbox&subject=old"), 408);
    assert.equal(await id("since=amy:INBOX:1"), "amy:INBOX:2");
    assert.equal(await id("since=amy:INBOX:2"), 408);
    assert.equal(await id(`since=${Date.now() + 60_000}`), 408);
    assert.equal(await id("since=2000-01-01T00:00:00Z&user=AMY"), "amy:INBOX:1");
    // since=now ignores what is stored and takes the next arrival.
    const next = wait(api, "user=amy&since=now&timeout=10");
    await waiting(api, 1);
    await api.inject({ to: "amy@example.com", subject: "Fresh" });
    assert.equal((await next).json.id, "amy:INBOX:3");
    // A cursor waits for the next UID in its mailbox only.
    const cursor = wait(api, "since=amy:INBOX:3&timeout=10");
    await waiting(api, 1);
    await api.inject({ user: "amy", mailbox: "Archive", subject: "elsewhere" });
    await api.inject({ to: "amy@example.com", subject: "After" });
    assert.equal((await cursor).json.subject, "After");
  });
});

Deno.test("wait: 100 concurrent waiters, one delivery each, each gets its own", async () => {
  await withApi(async (api) => {
    const n = 100;
    const waiters = Array.from(
      { length: n },
      (_, i) => wait(api, `to=amy%2Bt${i}%40example.com&timeout=20`),
    );
    await waiting(api, n);
    const { client } = await SmtpClient.connect(api.server.ports.smtp);
    try {
      await client.command("EHLO test");
      for (let i = n - 1; i >= 0; i--) {
        assert.match(await client.command("MAIL FROM:<app@example.com>"), /^250/);
        assert.match(await client.command(`RCPT TO:<amy+t${i}@example.com>`), /^250/);
        assert.match(await client.command("DATA"), /^354/);
        assert.match(await client.command(mail(`amy+t${i}@example.com`, `n${i}`) + "."), /^250/);
      }
    } finally {
      client.close();
    }
    const responses = await Promise.all(waiters);
    responses.forEach((response, i) => {
      assert.equal(response.status, 200);
      assert.equal(response.json.subject, `n${i}`);
      assert.equal(response.json.to, `amy+t${i}@example.com`);
    });
    assert.equal((await api.request("/health")).json.waiting, 0);
  });
});

Deno.test("wait: a client that goes away stops waiting; reset rewinds cursors", async () => {
  await withApi(async (api) => {
    const controller = new AbortController();
    const gone = fetch(`${api.base}/messages/wait?user=amy&timeout=30`, {
      signal: controller.signal,
    }).catch((error) => error);
    await waiting(api, 1);
    controller.abort();
    await gone;
    await waiting(api, 0);

    await api.inject({ to: "amy@example.com", subject: "one" });
    await api.inject({ to: "amy@example.com", subject: "two" });
    const cursor = wait(api, "since=amy:INBOX:2&timeout=10");
    await waiting(api, 1);
    await api.request("/reset", { method: "POST" });
    // UIDs restart at 1 after a reset: the first new message is what the cursor waits for.
    await api.inject({ to: "amy@example.com", subject: "after reset" });
    const response = await cursor;
    assert.equal(response.json.id, "amy:INBOX:1");
    assert.equal(response.json.subject, "after reset");
  });
});

Deno.test("wait: stopping the server answers waiters with 503 at once", async () => {
  let pending: Promise<Response> | undefined;
  const started = performance.now();
  await withApi(async (api) => {
    pending = fetch(`${api.base}/messages/wait?user=amy&timeout=60`);
    await waiting(api, 1);
  });
  const response = await pending!;
  assert.equal(response.status, 503);
  assert.match((await response.json()).error, /server is stopping/);
  assert.ok(performance.now() - started < 30_000);
});
