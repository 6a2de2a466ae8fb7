/**
 * Mailpit's API v1 (issue 18): the npm `mailpit-api` client against a live server after SMTP
 * deliveries, field by field, and the search syntax. Shapes from Mailpit's API v1
 * documentation (`MessagesSummary`, `MessageSummary`, `Message`, `AppInformation`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { MailpitClient } from "npm:mailpit-api@2";
import { SmtpClient } from "../../process.ts";
import {
  type Api,
  PNG_BASE64,
  REPORT_WITH_PDF as WITH_FILE,
  sendSmtp as send,
  withApi,
} from "../helpers.ts";

const PLAIN = [
  "From: Sender <sender@example.org>",
  "To: Amy <amy@example.test>",
  "Cc: carl@example.test",
  "Subject: hello plain",
  "Message-ID: <m1@example.org>",
  "",
  "first   body\r\nline",
  "",
].join("\r\n");

async function deliver(api: Api): Promise<MailpitClient> {
  await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
  await send(api, "other@example.org", ["bob@example.test"], WITH_FILE);
  return new MailpitClient(api.base);
}

const ids = (list: { messages: Array<{ ID: string }> }) => list.messages.map((m) => m.ID);

Deno.test("mailpit: list, message, headers, raw, info through the npm client", async () => {
  await withApi(async (api) => {
    const client = await deliver(api);
    const list = await client.listMessages();
    assert.deepEqual(
      [list.total, list.unread, list.count, list.messages_count, list.start],
      [2, 2, 2, 2, 0],
    );
    assert.deepEqual(list.tags, []);
    assert.deepEqual(ids(list), ["bob:INBOX:1", "amy:INBOX:1"]);
    const plain = list.messages[1];
    assert.deepEqual(plain.From, { Name: "Sender", Address: "sender@example.org" });
    assert.deepEqual(plain.To, [{ Name: "Amy", Address: "amy@example.test" }]);
    assert.deepEqual(plain.Cc, [{ Name: "", Address: "carl@example.test" }]);
    assert.deepEqual(plain.Bcc, []);
    assert.equal(plain.MessageID, "m1@example.org");
    assert.equal(plain.Subject, "hello plain");
    assert.equal(plain.Read, false);
    assert.equal(plain.Snippet, "first body line");
    assert.equal(plain.Attachments, 0);
    assert.equal(list.messages[0].Attachments, 1);
    assert.ok(!Number.isNaN(Date.parse(plain.Created)));
    assert.equal(typeof plain.Size, "number");
    assert.deepEqual((await client.listMessages(1, 1)).messages.map((m) => m.ID), [
      "amy:INBOX:1",
    ]);

    const latest = await client.getMessageSummary();
    assert.equal(latest.ID, "bob:INBOX:1");
    assert.equal(latest.Text, "see the report");
    assert.equal(latest.ReturnPath, "other@example.org");
    assert.deepEqual(latest.Attachments.map((a) => [a.PartID, a.FileName, a.ContentType]), [
      ["2", "r.pdf", "application/pdf"],
    ]);
    // Opening a message marks it read, as Mailpit does; IMAP's \Seen is the same flag.
    const flags = await api.request("/messages/bob:INBOX:1");
    assert.ok(flags.json.flags.includes("\\Seen"));
    assert.equal((await client.listMessages()).unread, 1);

    const headers = await client.getMessageHeaders("amy:INBOX:1");
    assert.deepEqual(headers.Subject, ["hello plain"]);
    assert.deepEqual(headers.Cc, ["carl@example.test"]);
    const raw = await client.getMessageSource("amy:INBOX:1");
    assert.match(raw, /Subject: hello plain\r\n/);

    // Rendered bodies (/view/{ID}.html|.txt), sandboxed like the other content routes.
    assert.equal((await client.renderMessageText("amy:INBOX:1")).trim(), "first   body\r\nline");
    await assert.rejects(client.renderMessageHTML("amy:INBOX:1"), /404/);
    const view = await api.request("/view/latest.txt");
    assert.equal(view.headers.get("content-security-policy"), "sandbox; default-src 'none'");
    const thumb = await client.getAttachmentThumbnail("bob:INBOX:1", "2");
    assert.equal(await thumb.text(), "%PDF-1");
    // The client's polling helpers, over search and list.
    assert.equal((await client.waitForMessage({ query: "subject:plain" })).ID, "amy:INBOX:1");
    assert.equal((await client.waitForMessages({ count: 2 })).messages_count, 2);
    assert.equal(
      (await client.waitForMessages({ query: "has:attachment", exact: true })).messages_count,
      1,
    );

    const info = await client.getInfo();
    assert.equal(info.Messages, 2);
    // waitForMessage opened amy's message (getMessageSummary), which marks it read.
    assert.equal(info.Unread, 0);
    assert.match(info.Version, /^elektromail /);
  });
});

Deno.test("mailpit: search syntax, read status, deletes", async () => {
  await withApi(async (api) => {
    const client = await deliver(api);
    const found = async (query: string) => ids(await client.searchMessages({ query }));
    assert.deepEqual(await found("from:sender@example.org"), ["amy:INBOX:1"]);
    assert.deepEqual(await found("to:bob"), ["bob:INBOX:1"]);
    assert.deepEqual(await found("cc:carl"), ["amy:INBOX:1"]);
    assert.deepEqual(await found('subject:"report attached"'), ["bob:INBOX:1"]);
    assert.deepEqual(await found("message-id:m1@example.org"), ["amy:INBOX:1"]);
    assert.deepEqual(await found("has:attachment"), ["bob:INBOX:1"]);
    assert.deepEqual(await found("-has:attachment"), ["amy:INBOX:1"]);
    assert.deepEqual(await found('"first body"'), []);
    assert.deepEqual(await found("report"), ["bob:INBOX:1"]);
    assert.deepEqual(await found("is:unread"), ["bob:INBOX:1", "amy:INBOX:1"]);
    assert.deepEqual(await found("after:2000-01-01 before:2999-01-01"), [
      "bob:INBOX:1",
      "amy:INBOX:1",
    ]);
    assert.deepEqual(await found("before:2000-01-01"), []);
    assert.equal((await api.request("/api/v1/search?query=is:nothing")).status, 400);

    assert.equal(await client.setReadStatus({ IDs: ["amy:INBOX:1"], Read: true }), "ok");
    assert.deepEqual(await found("is:read"), ["amy:INBOX:1"]);
    assert.equal(await client.setReadStatus({ Read: true }), "ok");
    assert.deepEqual(await found("is:unread"), []);
    assert.equal(await client.setReadStatus({ Search: "to:bob", Read: false }), "ok");
    assert.deepEqual(await found("is:unread"), ["bob:INBOX:1"]);

    // A keyword set over IMAP (here via the store) is a Mailpit tag.
    api.server.store.setFlags("amy", "INBOX", [1], "add", ["urgent"]);
    assert.deepEqual(await found("tag:urgent"), ["amy:INBOX:1"]);
    assert.deepEqual(await found("is:tagged"), ["amy:INBOX:1"]);

    assert.equal(await client.deleteMessagesBySearch({ query: "to:bob" }), "ok");
    assert.deepEqual(ids(await client.listMessages()), ["amy:INBOX:1"]);
    await assert.rejects(client.deleteMessages({ IDs: ["amy:INBOX:9"] }), /404/);
    assert.equal(await client.deleteMessages({ IDs: ["amy:INBOX:1"] }), "ok");
    await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
    // Without IDs: the empty answer MailHog's clients need on the same path.
    assert.equal(await client.deleteMessages(), "");
    assert.equal((await client.listMessages()).total, 0);
    await assert.rejects(client.getMessageSummary(), /404/);
  });
});

Deno.test("mailpit: tags are IMAP keywords; parts, webui, sa-check", async () => {
  await withApi(async (api) => {
    const client = await deliver(api);
    assert.deepEqual(await client.getTags(), []);
    assert.equal(await client.setTags({ IDs: ["amy:INBOX:1"], Tags: ["urgent", "ci-run"] }), "ok");
    assert.deepEqual(await client.getTags(), ["ci-run", "urgent"]);
    // IMAP sees the keywords, \Seen untouched.
    assert.deepEqual((await api.request("/messages/amy:INBOX:1")).json.flags, ["ci-run", "urgent"]);
    assert.equal(await client.renameTag("urgent", "later"), "ok");
    assert.deepEqual((await client.listMessages()).messages[1].Tags, ["ci-run", "later"]);
    assert.equal(await client.deleteTag("ci-run"), "ok");
    assert.deepEqual(await client.getTags(), ["later"]);
    await assert.rejects(client.setTags({ IDs: ["amy:INBOX:1"], Tags: ["two words"] }), /400/);

    const pdf = await client.getMessageAttachment("bob:INBOX:1", "2");
    assert.equal(await pdf.text(), "%PDF-1");
    const thumb = await api.request("/api/v1/message/latest/part/2/thumb");
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get("content-security-policy"), "sandbox; default-src 'none'");
    assert.equal((await api.request("/api/v1/message/bob:INBOX:1/part/9")).status, 404);

    const config = await client.getConfiguration();
    assert.equal(config.SpamAssassin, false);
    assert.equal(config.MessageRelay.Enabled, false);
    await assert.rejects(client.spamAssassinCheck(), /400.*SpamAssassin is not enabled/s);
  });
});

Deno.test("mailpit: hostile queries are bounded and read in one pass", async () => {
  await withApi(async (api) => {
    await deliver(api);
    const long = await api.request(`/api/v1/search?query=${"a".repeat(1001)}`);
    assert.equal(long.status, 400);
    for (const query of ['"'.repeat(999), "-".repeat(999), ":".repeat(999), "-is:".repeat(10)]) {
      const response = await api.request(`/api/v1/search?query=${encodeURIComponent(query)}`);
      assert.ok([200, 400].includes(response.status), query);
    }
    const bad = await api.request("/api/v1/tags", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ IDs: ["amy:INBOX:1"], Tags: ["a\\b"] }),
    });
    assert.equal(bad.status, 400);
  });
});

Deno.test("mailpit: the /api/events WebSocket sends new, stats, update and delete", async () => {
  await withApi(async (api) => {
    const foreign = await api.request("/api/events", {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(foreign.status, 403);
    assert.equal((await api.request("/api/events")).status, 426);

    const socket = new WebSocket(api.base.replace("http:", "ws:") + "/api/events");
    const received: Array<{ Type: string; Data: Record<string, unknown> }> = [];
    const waiters: Array<() => void> = [];
    socket.onmessage = (event) => {
      received.push(JSON.parse(event.data));
      waiters.splice(0).forEach((wake) => wake());
    };
    const until = async (count: number) => {
      while (received.length < count) await new Promise<void>((wake) => waiters.push(wake));
    };
    try {
      await new Promise((open) => (socket.onopen = open));
      await send(api, "bounce@example.org", ["amy@example.test"], PLAIN);
      await until(2);
      assert.equal(received[0].Type, "new");
      assert.equal(received[0].Data.ID, "amy:INBOX:1");
      assert.equal(received[0].Data.Subject, "hello plain");
      assert.deepEqual(received[1], {
        Type: "stats",
        Data: { Total: 1, Unread: 1, Version: received[1].Data.Version },
      });
      const client = new MailpitClient(api.base);
      await client.setReadStatus({ IDs: ["amy:INBOX:1"], Read: true });
      await until(3);
      assert.deepEqual(received[2], { Type: "update", Data: { ID: "amy:INBOX:1", Read: true } });
      await client.deleteMessages({ IDs: ["amy:INBOX:1"] });
      await until(5);
      assert.deepEqual(received[3], { Type: "delete", Data: { ID: "amy:INBOX:1" } });
      assert.equal(received[4].Type, "stats");
    } finally {
      const closed = new Promise((done) => (socket.onclose = done));
      socket.close();
      await closed;
    }
  });
});

Deno.test("mailpit: a WebSocket left open does not hold up the server's stop", async () => {
  let closed: Promise<unknown> = Promise.resolve();
  await withApi(async (api) => {
    const socket = new WebSocket(api.base.replace("http:", "ws:") + "/api/events");
    closed = new Promise((done) => (socket.onclose = done));
    await new Promise((open) => (socket.onopen = open));
  });
  await closed;
});

Deno.test("mailpit: chaos triggers become chaos rules that fail MAIL FROM", async () => {
  await withApi(async (api) => {
    const client = new MailpitClient(api.base);
    const off = { ErrorCode: 451, Probability: 0 };
    assert.deepEqual(await client.getChaosTriggers(), {
      Sender: off,
      Recipient: off,
      Authentication: off,
    });
    const set = await client.setChaosTriggers({ Sender: { ErrorCode: 421, Probability: 100 } });
    assert.deepEqual(set.Sender, { ErrorCode: 421, Probability: 100 });
    const rules = (await api.request("/chaos")).json.rules;
    assert.deepEqual(
      rules.map((r: { command: string; code: number; percent: number }) => [
        r.command,
        r.code,
        r.percent,
      ]),
      [["MAIL", 421, 100]],
    );
    const { client: smtp } = await SmtpClient.connect(api.server.ports.smtp);
    try {
      assert.match(await smtp.command("EHLO test"), /^250[ -]/);
      assert.match(await smtp.command("MAIL FROM:<a@example.org>"), /^421 /);
    } finally {
      smtp.close();
    }
    // A PUT replaces what the previous one made.
    await client.setChaosTriggers({ Recipient: { ErrorCode: 550, Probability: 50 } });
    const after = (await api.request("/chaos")).json.rules;
    assert.deepEqual(after.map((r: { command: string }) => r.command), ["RCPT"]);
    assert.equal((await client.getChaosTriggers()).Sender.Probability, 0);
    const bad = await api.request("/api/v1/chaos", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Nope: {} }),
    });
    assert.equal(bad.status, 400);
  });
});

Deno.test("mailpit: send delivers over /inject and answers the ID", async () => {
  await withApi(async (api) => {
    const client = new MailpitClient(api.base);
    const sent = await client.sendMessage({
      From: { Email: "app@example.org", Name: "App" },
      To: [{ Email: "amy@example.test", Name: "Amy" }],
      Subject: "sent over the API",
      Text: "hello from send",
    });
    assert.equal(sent.ID, "amy:INBOX:1");
    const message = await client.getMessageSummary(sent.ID);
    assert.deepEqual(message.From, { Name: "App", Address: "app@example.org" });
    assert.deepEqual(message.To, [{ Name: "Amy", Address: "amy@example.test" }]);
    assert.equal(message.Subject, "sent over the API");
    assert.equal(message.Text.trim(), "hello from send");
    assert.equal(message.ReturnPath, "app@example.org");
    // Cc, Bcc (addresses, as Mailpit takes them), ReplyTo and Tags: a copy per recipient,
    // Bcc in no header, the tags as keywords.
    const full = await client.sendMessage({
      From: { Email: "app@example.org" },
      To: [{ Email: "amy@example.test" }],
      Cc: [{ Email: "bob@example.test", Name: "Bob" }],
      Bcc: ["carl@example.test"],
      ReplyTo: [{ Email: "replies@example.org", Name: "Replies" }],
      Subject: "all fields",
      Text: "x",
      Headers: { "X-Test": "yes" },
      Tags: ["ci-run"],
    });
    assert.equal(full.ID, "amy:INBOX:2");
    for (const id of ["amy:INBOX:2", "bob:INBOX:1", "carl:INBOX:1"]) {
      const copy = await client.getMessageSummary(id);
      assert.deepEqual(copy.To, [{ Name: "", Address: "amy@example.test" }], id);
      assert.deepEqual(copy.Cc, [{ Name: "Bob", Address: "bob@example.test" }], id);
      assert.deepEqual(copy.Bcc, [], id);
      assert.deepEqual(copy.ReplyTo, [{ Name: "Replies", Address: "replies@example.org" }], id);
      assert.deepEqual(copy.Tags, ["ci-run"], id);
      assert.deepEqual((await client.getMessageHeaders(id))["X-Test"], ["yes"]);
    }
    // Attachments: a multipart/mixed with the texts first; a ContentID makes one inline.
    const attached = await client.sendMessage({
      From: { Email: "app@example.org", Name: "App" },
      To: [{ Email: "dan@example.test" }],
      Subject: "with files",
      Text: "see files",
      HTML: "<p>see <img src=cid:logo1></p>",
      Attachments: [
        { Content: btoa("a,b\n1,2\n"), Filename: "data.csv", ContentType: "text/csv" },
        { Content: PNG_BASE64, Filename: "logo.png", ContentType: "image/png", ContentID: "logo1" },
      ],
    });
    const withFiles = await client.getMessageSummary(attached.ID);
    assert.equal(withFiles.Subject, "with files");
    assert.equal(withFiles.Text.trim(), "see files");
    assert.equal(withFiles.HTML, "<p>see <img src=cid:logo1></p>");
    assert.deepEqual(
      withFiles.Attachments.map((a) => [a.FileName, a.ContentType, a.ContentID]),
      [["data.csv", "text/csv", ""]],
    );
    assert.deepEqual(
      withFiles.Inline.map((a) => [a.FileName, a.ContentType, a.ContentID]),
      [["logo.png", "image/png", "logo1"]],
    );
    const csv = withFiles.Attachments[0];
    assert.equal(
      await (await client.getMessageAttachment(attached.ID, csv.PartID)).text(),
      "a,b\n1,2\n",
    );
    await assert.rejects(
      client.sendMessage({
        From: { Email: "app@example.org" },
        To: [{ Email: "amy@example.test" }],
        Attachments: [{ Content: "not base64!", Filename: "x.txt" }],
      }),
      /400/,
    );
  });
});

Deno.test("mailpit: link-check requests loopback links only; html-check's shape", async () => {
  await withApi(async (api) => {
    const client = new MailpitClient(api.base);
    const { ID } = await client.sendMessage({
      From: { Email: "app@example.org" },
      To: [{ Email: "amy@example.test" }],
      Subject: "links",
      HTML: `<p><a href="${api.base}/health">ok</a> <a href="${api.base}/nothing">gone</a> ` +
        `<a href="http://example.com/x">far</a></p>`,
    });
    const result = await client.linkCheck(ID);
    const byUrl = Object.fromEntries(result.Links.map((l) => [l.URL, l.StatusCode]));
    assert.deepEqual(byUrl, {
      [`${api.base}/health`]: 200,
      [`${api.base}/nothing`]: 404,
      "http://example.com/x": 0,
    });
    assert.equal(result.Errors, 1);
    const far = result.Links.find((l) => l.URL === "http://example.com/x")!;
    assert.match(far.Status, /^Skipped/);
    const cross = await api.request(`/api/v1/message/${ID}/link-check`, {
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(cross.status, 403);

    const html = await client.htmlCheck(ID);
    assert.deepEqual(html.Warnings, []);
    assert.equal(html.Total.Nodes, 4);
    await send(api, "a@example.org", ["amy@example.test"], PLAIN);
    assert.equal((await api.request("/api/v1/message/latest/html-check")).status, 404);
  });
});
