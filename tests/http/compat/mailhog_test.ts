/**
 * MailHog's API (issue 18): the npm `mailhog` client against a live server after SMTP
 * deliveries, and the routes it does not call with fetch. Shapes from mailhog/data
 * (`Message`, `Path`, `Content`, `SMTPMessage`) and MailHog-Server `api/v1.go`, `api/v2.go`.
 *
 * @module
 */

import assert from "node:assert/strict";
import mailhog from "npm:mailhog@4";
import { type Api, sendSmtp as send, text, withApi } from "../helpers.ts";

const PLAIN = [
  "From: Sender <sender@example.org>",
  "To: amy@example.test",
  "Cc: Carl <carl@example.test>",
  "Reply-To: replies@example.org",
  "Date: Tue, 01 Dec 2026 10:00:00 +0000",
  "Subject: hello plain",
  "",
  "first body line",
  "",
].join("\r\n");

const MULTI = [
  "From: other@example.org",
  "To: bob@example.test",
  "Subject: two parts",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "",
  "plain part",
  "--b",
  "Content-Type: text/html",
  "",
  "<p>html part</p>",
  "--b",
  "Content-Type: text/csv",
  "Content-Transfer-Encoding: base64",
  'Content-Disposition: attachment; filename="data.csv"',
  "",
  "YSxiCjEsMgo=",
  "--b--",
  "",
].join("\r\n");

async function deliver(api: Api): Promise<void> {
  await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
  await send(api, "other@example.org", ["bob@example.test"], MULTI);
}

Deno.test("mailhog: the npm client's calls, field by field", async () => {
  await withApi(async (api) => {
    await deliver(api);
    // The client's types allow null everywhere: the checks below are what matter.
    // deno-lint-ignore no-explicit-any
    const client: any = mailhog({
      host: "127.0.0.1",
      port: api.server.ports.http!,
      basePath: "/api",
    });
    const list = await client.messages();
    assert.equal(list.total, 2);
    assert.equal(list.count, 2);
    assert.equal(list.start, 0);
    // Newest first: bob's multipart, then amy's.
    const [multi, plain] = list.items;
    assert.equal(multi.ID, "bob:INBOX:1");
    assert.equal(plain.ID, "amy:INBOX:1");
    assert.deepEqual(plain.From, {
      Relays: null,
      Mailbox: "bounce",
      Domain: "example.org",
      Params: "",
    });
    assert.deepEqual(plain.To, [{
      Relays: null,
      Mailbox: "amy",
      Domain: "example.test",
      Params: "",
    }]);
    assert.deepEqual(plain.Content.Headers.Subject, ["hello plain"]);
    assert.deepEqual(plain.Content.Headers.From, ["Sender <sender@example.org>"]);
    assert.equal(plain.Content.Body, "first body line\r\n");
    assert.equal(plain.Content.MIME, null);
    assert.equal(plain.MIME, null);
    assert.equal(typeof plain.Content.Size, "number");
    assert.equal(plain.Content.Size, plain.Raw.Data.length);
    assert.equal(plain.Raw.From, "bounce@example.org");
    assert.deepEqual(plain.Raw.To, ["amy@example.test"]);
    // The name the SMTP client gave in EHLO (tests/http/helpers.ts sends "EHLO test").
    assert.equal(plain.Raw.Helo, "test");
    assert.match(plain.Raw.Data, /Subject: hello plain\r\n\r\nfirst body line\r\n$/);
    assert.ok(!Number.isNaN(Date.parse(plain.Created)));
    // The client's own decoding of the multipart.
    assert.equal(multi.MIME.Parts.length, 3);
    assert.deepEqual(multi.MIME.Parts[1].Headers["Content-Type"], ["text/html"]);
    assert.equal(multi.MIME.Parts[1].Body, "<p>html part</p>");
    assert.equal(multi.MIME.Parts[1].Size, "<p>html part</p>".length);
    assert.equal(multi.html, "<p>html part</p>");
    assert.equal(multi.text, "plain part");
    assert.equal(plain.subject, "hello plain");
    // The client's other getters, over Content.Headers and Created.
    assert.equal(plain.from, "Sender <sender@example.org>");
    assert.equal(plain.to, "amy@example.test");
    assert.equal(plain.cc, "Carl <carl@example.test>");
    assert.equal(plain.bcc, undefined);
    assert.equal(plain.replyTo, "replies@example.org");
    assert.equal(plain.date.toISOString(), "2026-12-01T10:00:00.000Z");
    assert.equal(plain.deliveryDate.toISOString(), plain.Created);
    assert.deepEqual(plain.attachments, []);
    const [csv] = multi.attachments;
    assert.deepEqual([multi.attachments.length, csv.name, csv.type, csv.encoding], [
      1,
      "data.csv",
      "text/csv",
      "base64",
    ]);
    assert.equal(multi.attachments[0].Body, "YSxiCjEsMgo=");
    // MailHog's part download decodes base64 (api/v1.go download_part).
    const part = await api.request("/api/v1/messages/bob:INBOX:1/mime/part/2/download");
    assert.equal(part.status, 200);
    assert.equal(text(part.bytes), "a,b\n1,2\n");
    assert.equal(part.headers.get("content-type"), "text/csv");
    assert.match(
      part.headers.get("content-disposition")!,
      /^attachment; filename="bob_INBOX_1-part-2"/,
    );
    assert.equal(part.headers.get("content-security-policy"), "sandbox; default-src 'none'");
    assert.equal(
      (await api.request("/api/v1/messages/bob:INBOX:1/mime/part/3/download")).status,
      404,
    );

    const paged = await client.messages(1, 1);
    assert.deepEqual([paged.total, paged.count, paged.start], [2, 1, 1]);
    assert.equal(paged.items[0].ID, "amy:INBOX:1");

    const byTo = await client.search("bob@example.test", "to");
    assert.deepEqual(byTo.items.map((m: { ID: string }) => m.ID), ["bob:INBOX:1"]);
    const byFrom = await client.search("SENDER@example", "from");
    assert.deepEqual(byFrom.items.map((m: { ID: string }) => m.ID), ["amy:INBOX:1"]);
    const containing = await client.search("html part");
    assert.deepEqual(containing.items.map((m: { ID: string }) => m.ID), ["bob:INBOX:1"]);
    assert.equal((await client.latestTo("amy@example.test")).ID, "amy:INBOX:1");
    assert.equal((await client.latestFrom("other@example.org")).ID, "bob:INBOX:1");
    assert.equal((await client.latestContaining("first body")).ID, "amy:INBOX:1");
    // The client answers `count && items[0]`: 0 when nothing matched.
    assert.equal(await client.latestTo("nobody@example.test"), 0);

    const deleted = await client.deleteMessage("amy:INBOX:1");
    assert.equal(deleted.statusCode, 200);
    assert.equal((await client.messages()).total, 1);
    const all = await client.deleteAll();
    assert.equal(all.statusCode, 200);
    assert.equal((await client.messages()).total, 0);
  });
});

Deno.test("mailhog: v1 routes under /mailhog and at the root; errors", async () => {
  await withApi(async (api) => {
    await deliver(api);
    const v1 = await api.request("/mailhog/api/v1/messages");
    assert.equal(v1.status, 200);
    assert.deepEqual(v1.json.map((m: { ID: string }) => m.ID), ["bob:INBOX:1", "amy:INBOX:1"]);
    const one = await api.request("/mailhog/api/v1/messages/amy:INBOX:1");
    assert.deepEqual(one.json, v1.json[1]);
    assert.deepEqual((await api.request("/api/v1/messages/amy:INBOX:1")).json, one.json);
    const v2 = await api.request("/mailhog/api/v2/messages?limit=1");
    assert.deepEqual(v2.json.items, [v1.json[0]]);

    const download = await api.request("/api/v1/messages/amy:INBOX:1/download");
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "message/rfc822");
    assert.match(
      download.headers.get("content-disposition")!,
      /^attachment; filename="amy_INBOX_1\.eml"/,
    );
    assert.equal(download.headers.get("content-security-policy"), "sandbox; default-src 'none'");
    assert.equal(text(download.bytes), one.json.Raw.Data);

    assert.equal((await api.request("/api/v1/messages/amy:INBOX:9")).status, 404);
    assert.equal((await api.request("/api/v2/search?kind=subject&query=x")).status, 400);
    assert.equal((await api.request("/api/v2/search?kind=to")).status, 400);
    // start and limit as MailHog reads them: what is not a positive number is the default.
    for (const query of ["start=-1", "start=x", "limit=0", "limit=-5", "limit=abc"]) {
      const lenient = await api.request(`/api/v2/messages?${query}`);
      assert.deepEqual([lenient.status, lenient.json.start, lenient.json.count], [200, 0, 2]);
    }
    assert.equal((await api.request("/api/v2/messages?start=1&limit=1")).json.items.length, 1);
    assert.equal((await api.request("/api/v2/messages?limit=9999")).json.count, 2);
    // Only INBOX is MailHog's mailbox: a message elsewhere is not found there.
    const moved = await api.inject({ user: "amy", mailbox: "Archive", raw: PLAIN });
    assert.equal(moved.status, 201);
    assert.equal((await api.request(`/api/v1/messages/${moved.json.id}`)).status, 404);
    assert.equal((await api.request("/api/v2/messages")).json.total, 2);

    const gone = await api.request("/api/v1/messages/amy:INBOX:1", { method: "DELETE" });
    assert.equal(gone.status, 200);
    assert.equal(gone.bytes.length, 0);
    assert.equal(gone.headers.get("content-type"), "text/json");
    assert.equal(
      (await api.request("/api/v1/messages/amy:INBOX:1", { method: "DELETE" })).status,
      404,
    );
    // MailHog 1.0.1's delete-all (api/v1.go delete_all): 200, Content-Type text/json, no body;
    // the same at the root (Mailpit's path) and under /mailhog.
    for (const path of ["/api/v1/messages", "/mailhog/api/v1/messages"]) {
      const all = await api.request(path, { method: "DELETE" });
      assert.equal(all.status, 200);
      assert.equal(all.headers.get("content-type"), "text/json");
      assert.equal(all.headers.get("content-length"), "0");
      assert.equal(all.bytes.length, 0);
    }
    assert.equal((await api.request("/mailhog/api/v2/messages")).json.total, 0);
    // The Archive copy is not MailHog's to delete.
    assert.equal((await api.request("/messages?user=amy")).json.length, 1);
  });
});

Deno.test("mailhog: /api/v1/events streams each new INBOX message as data", async () => {
  await withApi(async (api) => {
    const response = await fetch(api.base + "/mailhog/api/v1/events");
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
      let received = "";
      while (!received.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value;
      }
      const block = received.split("\n\n")[0];
      assert.ok(block.startsWith("data: "), block);
      const message = JSON.parse(block.slice(6));
      assert.equal(message.ID, "amy:INBOX:1");
      assert.equal(message.Raw.From, "bounce@example.org");
    } finally {
      await reader.cancel();
    }
  });
});
