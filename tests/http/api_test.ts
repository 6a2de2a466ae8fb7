import assert from "node:assert/strict";
import { inputCount } from "../../lib/net/input_count.ts";
import { messagePath, text, withApi } from "./helpers.ts";

const crlf = (value: string) => value.replace(/\n/g, "\r\n");

Deno.test("http: /health reports 200 and the bound ports", async () => {
  await withApi(async (api) => {
    const response = await api.request("/health");
    assert.equal(response.status, 200);
    assert.equal(response.json.status, "ok");
    assert.equal(response.json.ports.http, api.server.ports.http);
    assert.equal(response.json.ports.smtp, api.server.ports.smtp);
  });
});

Deno.test("http: each request counts as client input, which idle work waits on", async () => {
  await withApi(async ({ request }) => {
    // Requests only: nothing else in this process talks to a server meanwhile (a parallel
    // test might, which could only raise the count further).
    const before = inputCount();
    for (let i = 0; i < 3; i++) assert.equal((await request("/health")).status, 200);
    assert.ok(inputCount() - before >= 3, `${inputCount() - before} counted`);
  });
});

Deno.test("http: inject text builds a proper message, routed by +tag, listed and readable", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({
      to: "Alice <Alice+t1@example.com>",
      from: "App <app@example.com>",
      subject: "Hello",
      text: "line one\nline two",
    });
    assert.equal(injected.status, 201);
    assert.equal(injected.json.id, "alice:INBOX:1");
    assert.equal(injected.json.messages.length, 1);
    assert.equal(injected.json.messages[0].to, "Alice <Alice+t1@example.com>");

    const raw = text((await api.request(messagePath("alice:INBOX:1", "/raw"))).bytes);
    assert.match(raw, /^Date: [A-Z][a-z]{2}, \d+ [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    assert.match(raw, /\r\nMessage-ID: <[^>]+@localhost>\r\n/);
    assert.match(raw, /\r\nMIME-Version: 1\.0\r\n/);
    assert.match(raw, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    assert.ok(raw.endsWith("\r\n\r\nline one\r\nline two"), raw);

    const list = await api.request("/messages");
    assert.equal(list.status, 200);
    assert.equal(list.json.length, 1);
    const [item] = list.json;
    assert.deepEqual(Object.keys(item).sort(), [
      "cc",
      "date",
      "envelope",
      "flags",
      "from",
      "id",
      "internalDate",
      "mailbox",
      "messageId",
      "modseq",
      "size",
      "subject",
      "to",
      "uid",
      "user",
    ]);
    assert.equal(item.user, "alice");
    assert.equal(item.mailbox, "INBOX");
    assert.equal(item.uid, 1);
    assert.equal(item.subject, "Hello");
    assert.equal(item.size, new TextEncoder().encode(raw).length);
    assert.ok(!Number.isNaN(Date.parse(item.internalDate)));
    // Injected to an address: the envelope SMTP would have had; the bytes are as composed.
    assert.deepEqual(item.envelope, { from: "app@example.com", to: "Alice+t1@example.com" });
    assert.ok(raw.startsWith("Date: "), "no trace headers are prepended");

    const detail = await api.request(messagePath("alice:INBOX:1"));
    assert.equal(detail.status, 200);
    assert.equal(detail.json.text, "line one\r\nline two");
    assert.equal(detail.json.html, null);
    assert.deepEqual(detail.json.attachments, []);
    assert.equal(detail.json.from, "App <app@example.com>");
    assert.ok(
      detail.json.headers.some((h: { name: string; value: string }) =>
        h.name === "To" && h.value === "Alice <Alice+t1@example.com>"
      ),
    );

    const tagged = await api.request("/messages?to=alice%2Bt1%40");
    assert.equal(tagged.json.length, 1);
    const other = await api.request("/messages?to=alice%2Bt2%40");
    assert.equal(other.json.length, 0);
  });
});

Deno.test("http: inject text+html with a non-ASCII subject makes multipart/alternative", async () => {
  await withApi(async (api) => {
    const subject =
      "Grüße – ünïcödé subject that is long enough to need more than one encoded word 🎉";
    const injected = await api.inject({
      to: ["bob@example.com", "carol@example.com"],
      from: "Zoë <zoe@example.com>",
      subject,
      text: "Hallo Wörld",
      html: "<p>Hallo <b>Wörld</b></p>",
      headers: { "X-Test": "yes", "Reply-To": "r@example.com" },
    });
    assert.equal(injected.status, 201);
    assert.deepEqual(injected.json.messages.map((m: { id: string }) => m.id), [
      "bob:INBOX:1",
      "carol:INBOX:1",
    ]);
    const raw = text((await api.request(messagePath("bob:INBOX:1", "/raw"))).bytes);
    assert.match(raw, /\r\nSubject: =\?UTF-8\?B\?[^\r\n]+\?=\r\n =\?UTF-8\?B\?/);
    assert.match(raw, /\r\nFrom: =\?UTF-8\?B\?[^?]+\?= <zoe@example\.com>\r\n/);
    assert.match(raw, /\r\nContent-Type: multipart\/alternative;\r\n boundary="/);
    assert.match(raw, /\r\nX-Test: yes\r\n/);
    assert.ok(!/[^\x00-\x7f]/.test(raw), "the composed message is 7-bit");
    for (const line of raw.split("\r\n")) assert.ok(line.length <= 78, line);

    const detail = await api.request(messagePath("bob:INBOX:1"));
    assert.equal(detail.json.subject, subject);
    assert.equal(detail.json.from, "Zoë <zoe@example.com>");
    assert.equal(detail.json.text, "Hallo Wörld");
    assert.equal(detail.json.html, "<p>Hallo <b>Wörld</b></p>");
    assert.deepEqual(detail.json.attachments, []);
  });
});

Deno.test("http: inject with user, nested mailbox, flags and date; ids are URL-encoded", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({
      user: "Dave",
      mailbox: "Projects/2026",
      subject: "dated",
      text: "x",
      date: "2024-02-03T04:05:06Z",
      flags: ["\\Seen", "$Important"],
    });
    assert.equal(injected.status, 201, text(injected.bytes));
    const id = injected.json.id;
    assert.equal(id, "dave:Projects/2026:1");
    const [meta] = injected.json.messages;
    assert.equal(meta.internalDate, "2024-02-03T04:05:06.000Z");
    assert.equal(meta.date, "Sat, 3 Feb 2024 04:05:06 +0000");
    assert.deepEqual([...meta.flags].sort(), ["$Important", "\\Seen"]);

    const detail = await api.request(messagePath(id));
    assert.equal(detail.status, 200);
    assert.equal(detail.json.mailbox, "Projects/2026");
    assert.equal(detail.json.to, "dave@localhost");

    const filtered = await api.request(
      `/messages?user=dave&mailbox=${encodeURIComponent("Projects/2026")}`,
    );
    assert.deepEqual(filtered.json.map((m: { id: string }) => m.id), [id]);
    const inbox = await api.request("/messages?user=dave&mailbox=inbox");
    assert.deepEqual(inbox.json, []);
    const nobody = await api.request("/messages?user=nobody");
    assert.deepEqual(nobody.json, []);
  });
});

const ATTACHED = crlf(`From: sender@example.com
To: Erin <erin+box@example.com>, frank@example.com
Subject: =?ISO-8859-1?Q?R=E9sum=E9?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20data.bin
Content-Transfer-Encoding: base64
Content-ID: <att1@example.com>

AAECAwQF/w==
--b1--
`);

Deno.test("http: raw inject routes by To/Cc; attachments listed and downloadable", async () => {
  await withApi(async (api) => {
    const injected = await api.inject({ raw: ATTACHED.replace(/\r\n/g, "\n") });
    assert.equal(injected.status, 201, text(injected.bytes));
    assert.deepEqual(injected.json.messages.map((m: { id: string }) => m.id), [
      "erin:INBOX:1",
      "frank:INBOX:1",
    ]);
    const raw = await api.request(messagePath("erin:INBOX:1", "/raw"));
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get("content-type"), "message/rfc822");
    assert.equal(text(raw.bytes), ATTACHED, "raw LF line ends are stored as CRLF");

    const detail = await api.request(messagePath("erin:INBOX:1"));
    assert.equal(detail.json.subject, "Résumé");
    assert.equal(detail.json.text, "café");
    assert.deepEqual(detail.json.attachments, [{
      part: "2",
      filename: "€ data.bin",
      contentType: "application/octet-stream",
      size: 7,
      disposition: "attachment",
      contentId: "att1@example.com",
    }]);

    const part = await api.request(messagePath("erin:INBOX:1", "/parts/2"));
    assert.equal(part.status, 200);
    assert.equal(part.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual([...part.bytes], [0, 1, 2, 3, 4, 5, 255]);
    assert.equal(
      part.headers.get("content-disposition"),
      `attachment; filename="_ data.bin"; filename*=UTF-8''%E2%82%AC%20data.bin`,
    );
    const first = await api.request(messagePath("erin:INBOX:1", "/parts/1"));
    assert.equal(first.headers.get("content-type"), "text/plain; charset=iso-8859-1");
    assert.deepEqual([...first.bytes], [0x63, 0x61, 0x66, 0xe9]);

    for (const missing of ["3", "0", "1.1", "x"]) {
      const response = await api.request(messagePath("erin:INBOX:1", `/parts/${missing}`));
      assert.equal(response.status, 404, missing);
      assert.match(response.json.error, /No part/);
    }
  });
});

Deno.test("http: /users lists configured and run-time users without passwords", async () => {
  await withApi(async (api) => {
    assert.equal((await api.inject({ to: "Bob+x@Corp.test", text: "hi" })).status, 201);
    assert.equal((await api.inject({ to: "walkin@example.com", text: "hi" })).status, 201);
    const users = await api.request("/users");
    assert.equal(users.status, 200);
    assert.ok(!text(users.bytes).includes("s3cret"));
    assert.ok(!text(users.bytes).includes("password"));
    assert.deepEqual(users.json.map((u: { user: string }) => u.user), ["bob", "idle", "walkin"]);
    const [bob, idle, walkin] = users.json;
    assert.equal(bob.address, "bob@corp.test");
    assert.equal(bob.configured, true);
    assert.equal(bob.messages, 1);
    assert.deepEqual(bob.mailboxes.find((m: { name: string }) => m.name === "INBOX"), {
      name: "INBOX",
      messages: 1,
      unseen: 1,
    });
    assert.equal(idle.messages, 0);
    assert.deepEqual(idle.mailboxes, []);
    assert.equal(walkin.configured, false);
    assert.equal(walkin.address, null);
    assert.equal(walkin.messages, 1);
  }, {
    users: [
      { user: "bob", password: "s3cret", address: "bob@corp.test" },
      { user: "idle", password: "s3cret", address: null },
    ],
  });
});

Deno.test("http: DELETE removes one message; POST /reset clears everything", async () => {
  await withApi(async (api) => {
    for (let i = 0; i < 3; i++) await api.inject({ user: "gina", text: `m${i}` });
    const deleted = await api.request(messagePath("gina:INBOX:2"), { method: "DELETE" });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { deleted: "gina:INBOX:2" });
    assert.equal((await api.request(messagePath("gina:INBOX:2"))).status, 404);
    const again = await api.request(messagePath("gina:INBOX:2"), { method: "DELETE" });
    assert.equal(again.status, 404);
    const list = await api.request("/messages?user=gina&order=asc");
    assert.deepEqual(list.json.map((m: { uid: number }) => m.uid), [1, 3]);

    const reset = await api.request("/reset", { method: "POST" });
    assert.equal(reset.status, 200);
    assert.deepEqual((await api.request("/messages")).json, []);
    assert.deepEqual((await api.request("/users")).json, []);
    const after = await api.inject({ user: "gina", text: "again" });
    assert.equal(after.json.id, "gina:INBOX:1", "UIDs restart after reset");
  });
});
