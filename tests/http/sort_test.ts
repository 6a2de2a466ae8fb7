/**
 * `GET /messages?sort=` (issue 15): the IMAP SORT keys over HTTP, `-` to reverse, ties in
 * listing order, paging in the sorted order, and a 400 for an unknown key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withApi } from "./helpers.ts";

const crlf = (text: string) => new TextEncoder().encode(text.replace(/\n/g, "\r\n"));

Deno.test("http: /messages?sort= orders by date, arrival, from, subject and size", async () => {
  await withApi(async (api) => {
    const { store } = api.server;
    store.ensureUser("sam");
    const add = (text: string, arrival: string) =>
      store.append("sam", "INBOX", crlf(text), { internalDate: Date.parse(arrival) });
    add(
      "From: carl@x.org\nSubject: Re: [team] beta\nDate: 2 Dec 2026 10:00 +0000\n\nxxxxxx\n",
      "2026-12-03T00:00:00Z",
    );
    add(
      "From: Amy <amy@x.org>\nSubject: alpha\nDate: 3 Dec 2026 10:00 +0000\n\nx\n",
      "2026-12-01T00:00:00Z",
    );
    // No Date: dated by its arrival, the 2nd.
    add("From: bob@x.org\nSubject: Fwd: Alpha\n\nxxx\n", "2026-12-02T00:00:00Z");
    const uids = async (query: string) => {
      const response = await api.request(`/messages?user=sam&${query}`);
      assert.equal(response.status, 200, JSON.stringify(response.json));
      return (response.json as Array<{ uid: number }>).map((m) => m.uid);
    };
    assert.deepEqual(await uids("sort=date"), [3, 1, 2]);
    assert.deepEqual(await uids("sort=-date"), [2, 1, 3]);
    assert.deepEqual(await uids("sort=arrival"), [2, 3, 1]);
    assert.deepEqual(await uids("sort=-arrival"), [1, 3, 2]);
    assert.deepEqual(await uids("sort=from"), [2, 3, 1]);
    // Base subjects: alpha, alpha, beta; equal keys keep the listing order (UIDs).
    assert.deepEqual(await uids("sort=subject"), [2, 3, 1]);
    assert.deepEqual(await uids("sort=-subject"), [1, 2, 3]);
    const sizes = (await api.request("/messages?user=sam&sort=size")).json as Array<
      { size: number }
    >;
    assert.deepEqual(sizes.map((m) => m.size), sizes.map((m) => m.size).sort((a, b) => a - b));
    assert.deepEqual(await uids("sort=size&mailbox=INBOX"), await uids("sort=size"));

    // Pages follow the sorted order: `Link: rel="next"` continues after the last one listed.
    assert.deepEqual(await uids("sort=date&order=desc"), [2, 1, 3]);
    let path: string | null = "/messages?user=sam&sort=date&limit=1";
    const paged: number[] = [];
    while (path !== null) {
      const page = await api.request(path);
      assert.equal(page.headers.get("x-total-count"), "3");
      paged.push(...(page.json as Array<{ uid: number }>).map((m) => m.uid));
      path = page.headers.get("link")?.match(/^<([^>]+)>/)?.[1] ?? null;
      assert.ok(paged.length <= 3, "the pages end");
    }
    assert.deepEqual(paged, [3, 1, 2]);

    const bad = await api.request("/messages?sort=colour");
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /Unknown sort \\"colour\\"/);
  });
});
