/**
 * `GET /messages` order and paging (issue 19, item 6): newest first across users, `order=asc`,
 * `limit`, `start`, `before`/`after` cursors, `X-Total-Count` and `Link`; `DELETE /messages`
 * with the same query; the `q=` filter.
 */

import assert from "node:assert/strict";
import { type Api, messagePath, PNG_BASE64, withApi } from "./helpers.ts";

const ids = (response: { json: Array<{ id: string }> }) => response.json.map((m) => m.id);

/** Five messages of three users, arriving a minute apart in this order. */
async function seed(api: Api): Promise<void> {
  const start = Date.parse("2026-12-01T10:00:00Z");
  const mails = [
    { user: "amy", subject: "first", from: "shop@example.com" },
    { user: "bob", subject: "second", from: "bank@example.com" },
    { user: "amy", subject: "third", from: "shop@example.com", flags: ["\\Seen"] },
    { user: "cid", subject: "fourth", from: "news@example.com" },
    { user: "bob", subject: "fifth", from: "shop@example.com" },
  ];
  for (const [i, mail] of mails.entries()) {
    const response = await api.inject({ ...mail, text: `body ${i}`, date: start + i * 60_000 });
    assert.equal(response.status, 201);
  }
}

Deno.test("listing: newest first across users; order=asc reverses", async () => {
  await withApi(async (api) => {
    await seed(api);
    const list = await api.request("/messages");
    assert.deepEqual(ids(list), [
      "bob:INBOX:2",
      "cid:INBOX:1",
      "amy:INBOX:2",
      "bob:INBOX:1",
      "amy:INBOX:1",
    ]);
    assert.equal(list.headers.get("x-total-count"), "5");
    assert.equal(list.headers.get("link"), null, "nothing follows");
    const asc = await api.request("/messages?order=asc");
    assert.deepEqual(ids(asc), ids(list).reverse());
    // Same millisecond, one mailbox: the later delivery (higher UID) is newer.
    const at = Date.parse("2026-12-02T00:00:00Z");
    for (const subject of ["same-a", "same-b"]) {
      await api.inject({ user: "dan", subject, text: "x", date: at });
    }
    const same = await api.request("/messages?user=dan");
    assert.deepEqual(ids(same), ["dan:INBOX:2", "dan:INBOX:1"]);
    const bad = await api.request("/messages?order=newest");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /"order" must be asc or desc/);
  });
});

Deno.test("listing: limit, start, cursors, total and the next page's link", async () => {
  await withApi(async (api) => {
    await seed(api);
    const first = await api.request("/messages?limit=2");
    assert.deepEqual(ids(first), ["bob:INBOX:2", "cid:INBOX:1"]);
    assert.equal(first.headers.get("x-total-count"), "5");
    const link = first.headers.get("link");
    assert.equal(link, `</messages?limit=2&before=cid%3AINBOX%3A1>; rel="next"`);
    // Follow the links to the end: every message once, in order.
    const seen = [...ids(first)];
    let next: string | null = link;
    while (next) {
      const page = await api.request(next.slice(1, next.indexOf(">")));
      assert.equal(page.headers.get("x-total-count"), "5");
      seen.push(...ids(page));
      next = page.headers.get("link");
    }
    assert.deepEqual(seen, ids(await api.request("/messages")));

    assert.deepEqual(ids(await api.request("/messages?start=1&limit=2")), [
      "cid:INBOX:1",
      "amy:INBOX:2",
    ]);
    // before: older than the cursor; after: newer; in either order.
    const before = await api.request(`/messages?before=${encodeURIComponent("amy:INBOX:2")}`);
    assert.deepEqual(ids(before), ["bob:INBOX:1", "amy:INBOX:1"]);
    assert.equal(before.headers.get("x-total-count"), "5", "total ignores the cursors");
    const after = await api.request("/messages?after=amy%3AINBOX%3A2&order=asc");
    assert.deepEqual(ids(after), ["cid:INBOX:1", "bob:INBOX:2"]);
    assert.equal(after.headers.get("link"), null);
    const ascPage = await api.request("/messages?order=asc&limit=1");
    assert.match(ascPage.headers.get("link")!, /after=amy%3AINBOX%3A1>/);
    // Cursors by time, combined with the filters.
    const window = await api.request(
      "/messages?after=2026-12-01T10:00:30Z&before=2026-12-01T10:03:30Z&from=shop",
    );
    assert.deepEqual(ids(window), ["amy:INBOX:2"]);
    assert.equal(window.headers.get("x-total-count"), "3", "three from the shop");
    for (
      const [query, error] of [
        ["limit=-1", /"limit" must be a non-negative integer/],
        ["start=x", /"start" must be a non-negative integer/],
        ["before=amy%3AINBOX%3A99", /"before" names no stored message/],
        ["after=yesterday", /Cannot read "after"/],
        ["limit=1&limit=2", /given twice/],
      ] as const
    ) {
      const response = await api.request(`/messages?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.json.error, error, query);
    }
  });
});

Deno.test("listing: DELETE /messages removes what GET lists with the same query", async () => {
  await withApi(async (api) => {
    await seed(api);
    const inbox = await api.request("/messages?user=bob&mailbox=INBOX", { method: "DELETE" });
    assert.equal(inbox.status, 200);
    assert.deepEqual(inbox.json, { deleted: 2, ids: ["bob:INBOX:2", "bob:INBOX:1"] });
    assert.equal(api.server.store.listMessages("bob", "INBOX").length, 0);
    // Filters, q and paging apply as for GET: the oldest shop mail of what is left.
    const oldest = await api.request("/messages?q=from:shop&order=asc&limit=1", {
      method: "DELETE",
    });
    assert.deepEqual(oldest.json, { deleted: 1, ids: ["amy:INBOX:1"] });
    assert.deepEqual(ids(await api.request("/messages")), ["cid:INBOX:1", "amy:INBOX:2"]);
    const bad = await api.request("/messages?colour=red", { method: "DELETE" });
    assert.equal(bad.status, 400);
    assert.equal(api.server.store.listMessages("cid", "INBOX").length, 1, "nothing deleted");
    // No query: everything.
    const all = await api.request("/messages", { method: "DELETE" });
    assert.equal(all.json.deleted, 2);
    assert.deepEqual((await api.request("/messages")).json, []);
    const none = await api.request("/messages", { method: "DELETE" });
    assert.deepEqual(none.json, { deleted: 0, ids: [] });
  });
});

Deno.test("listing: q= finds by from, to, subject, words, phrases, flags, dates, attachments", async () => {
  await withApi(async (api) => {
    await seed(api);
    await api.inject({
      user: "eve",
      raw: [
        "From: Photo Desk <photos@example.com>",
        "To: eve+album@example.com",
        "Cc: frank@example.com",
        "Subject: Holiday pictures",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "The quick brown fox sends pictures.",
        "--b",
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="dot.png"',
        "",
        PNG_BASE64,
        "--b--",
        "",
      ].join("\r\n"),
      date: Date.parse("2026-12-03T08:00:00Z"),
    });
    const q = async (query: string) =>
      ids(await api.request(`/messages?order=asc&q=${encodeURIComponent(query)}`));
    assert.deepEqual(await q("from:shop"), ["amy:INBOX:1", "amy:INBOX:2", "bob:INBOX:2"]);
    assert.deepEqual(await q("from:shop -subject:third"), ["amy:INBOX:1", "bob:INBOX:2"]);
    assert.deepEqual(await q("to:eve+album@"), ["eve:INBOX:1"]);
    assert.deepEqual(await q("to:frank"), ["eve:INBOX:1"], "Cc counts as to");
    assert.deepEqual(await q("SUBJECT:Holiday"), ["eve:INBOX:1"]);
    assert.deepEqual(await q("has:attachment"), ["eve:INBOX:1"]);
    assert.deepEqual(await q("is:read"), ["amy:INBOX:2"]);
    assert.equal((await q("is:unread")).length, 5);
    assert.deepEqual(await q('"quick brown"'), ["eve:INBOX:1"]);
    assert.deepEqual(await q('"brown quick"'), [], "a phrase is not two words");
    assert.deepEqual(await q("brown quick"), ["eve:INBOX:1"], "words in any order");
    assert.deepEqual(await q('subject:"holiday pictures"'), ["eve:INBOX:1"]);
    assert.deepEqual(await q("body 3"), ["cid:INBOX:1"]);
    assert.deepEqual(await q("before:2026-12-01T10:01:00Z"), ["amy:INBOX:1"]);
    assert.deepEqual(await q("after:2026-12-03"), ["eve:INBOX:1"], "on or after the day");
    assert.deepEqual(await q("after:2026-12-01 before:2026-12-02 from:shop is:unread"), [
      "amy:INBOX:1",
      "bob:INBOX:2",
    ]);
    // The wait takes q as well.
    const waited = await api.request(`/messages/wait?q=has:attachment&timeout=0`);
    assert.equal(waited.json.id, "eve:INBOX:1");
    for (const bad of ["is:starred", "has:pdf", "before:soon", "after:2026-13-45"]) {
      const response = await api.request(`/messages?q=${encodeURIComponent(bad)}`);
      assert.equal(response.status, 400, bad);
      assert.match(response.json.error, /Unknown query term|Cannot read the date/, bad);
    }
    assert.equal((await api.request(messagePath("eve:INBOX:1"))).status, 200);
  });
});
