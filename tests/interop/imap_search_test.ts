/**
 * SEARCH with real clients: imapflow (which enables IMAP4rev2, so it reads ESEARCH, and asks
 * for RETURN options) and Python's imaplib (IMAP4rev1: `* SEARCH`, CHARSET with a
 * synchronizing literal). The mailbox is filled through the store; the expected numbers
 * follow from what each message holds.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Elektromail } from "../../lib/server.ts";
import { imapflowClient, imaplibSession, withServer } from "./imap_helpers.ts";

const encoder = new TextEncoder();
const crlf = (text: string) => encoder.encode(text.replace(/\n/g, "\r\n"));

/** Four messages for `alice` (UIDs 1-4), then UID 1 expunged: sequence 1-3 are UIDs 2-4. */
function fill(server: Elektromail): void {
  const { store } = server;
  store.ensureUser("alice");
  const add = (text: string, date: string, flags: string[] = []) =>
    store.append("alice", "INBOX", crlf(text), { internalDate: Date.parse(date), flags });
  add("Subject: gone\n\nx\n", "2026-11-01T00:00:00Z", ["\\Deleted"]);
  add(
    "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.com>\nTo: alice+ci-7@example.com\n" +
      "Subject: =?ISO-8859-1?Q?Caf=E9?= order\nX-Ticket: T-100\n" +
      "Date: Tue, 24 Nov 2026 23:00:00 -0800\n\nTwo espressos, please.\n",
    "2026-11-25T07:00:00Z",
    ["\\Seen"],
  );
  add(
    "From: bob@example.com\nTo: alice@example.com\nSubject: Holiday photos\n" +
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; " +
      "charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      btoa("Zebras at the beach\n") + "\n--b\nContent-Type: image/jpeg\n" +
      "Content-Transfer-Encoding: base64\n\n" + btoa("JPEG zebra bytes") + "\n--b--\n",
    "2026-11-26T12:00:00Z",
    ["\\Flagged", "$Later"],
  );
  add(
    "From: carol@example.org\nTo: alice@example.com\nCc: bob@example.com\nSubject: Minutes\n\n" +
      "Notes from the meeting.\n",
    "2026-12-02T09:00:00Z",
  );
  store.expunge("alice", "INBOX");
}

Deno.test("imapflow: search() over ESEARCH, by sequence number and UID, with RETURN options", async () => {
  await withServer(async (server) => {
    fill(server);
    const imap = imapflowClient(server);
    await imap.connect();
    try {
      await imap.mailboxOpen("INBOX");
      assert.ok(imap.enabled.has("IMAP4REV2"), "imapflow enabled IMAP4rev2");
      const search = async (query: Record<string, unknown>, uid = false) =>
        [...(await imap.search(query, { uid })) || []].sort((a, b) => a - b);

      assert.deepEqual(await search({ all: true }), [1, 2, 3]);
      assert.deepEqual(await search({ all: true }, true), [2, 3, 4]);
      assert.deepEqual(await search({ seen: false }), [2, 3]);
      assert.deepEqual(await search({ flagged: true }, true), [3]);
      assert.deepEqual(await search({ keyword: "$later" }), [2]);
      assert.deepEqual(await search({ from: "jörg" }), [1]);
      assert.deepEqual(await search({ to: "+ci-7" }, true), [2]);
      assert.deepEqual(await search({ cc: "bob" }), [3]);
      assert.deepEqual(await search({ subject: "café" }), [1]);
      assert.deepEqual(await search({ header: { "x-ticket": "t-1" } }), [1]);
      assert.deepEqual(await search({ body: "zebras" }), [2]);
      assert.deepEqual(await search({ body: "jpeg" }), []);
      assert.deepEqual(await search({ text: "meeting" }), [3]);
      assert.deepEqual(await search({ since: new Date("2026-11-26T00:00:00Z") }), [2, 3]);
      assert.deepEqual(await search({ before: new Date("2026-11-26T00:00:00Z") }), [1]);
      assert.deepEqual(await search({ sentOn: new Date("2026-11-24T00:00:00Z") }), [1]);
      assert.deepEqual(await search({ larger: 300 }), [2]);
      assert.deepEqual(await search({ uid: "3:*" }), [2, 3]);
      assert.deepEqual(await search({ or: [{ from: "carol" }, { flagged: true }] }, true), [3, 4]);
      assert.deepEqual(await search({ not: { seen: true }, seq: "2:3" }), [2, 3]);

      const extremes = await imap.search({ all: true }, {
        uid: true,
        returnOptions: ["MIN", "MAX", "COUNT", "ALL"],
      });
      assert.deepEqual(extremes, { min: 2, max: 4, count: 3, all: "2:4" });
      const none = await imap.search({ draft: true }, { returnOptions: ["COUNT", "MIN"] });
      assert.deepEqual(none, { count: 0 });
    } finally {
      await imap.logout();
    }
  });
});

Deno.test("Python imaplib: SEARCH and UID SEARCH (IMAP4rev1), CHARSET literal, BADCHARSET, $", async () => {
  await withServer(async (server) => {
    fill(server);
    const result = await imaplibSession(
      server,
      "alice",
      String.raw`
typ, data = m.capability()
out["capabilities"] = [c for c in data[0].decode().split() if c in ("ESEARCH", "SEARCHRES")]
m.select("INBOX")
def search(*criteria):
    typ, data = m.search(None, *criteria)
    return [typ, data[0].decode()]
out["all"] = search("ALL")
out["unseen_flagged"] = search("UNSEEN", "FLAGGED")
out["from"] = search("FROM", '"bob@example.com"')
out["since"] = search("SINCE", "26-Nov-2026")
out["senton"] = search("SENTON", "24-Nov-2026")
out["or"] = search("OR", "SEEN", "(TO carol CC bob)")
typ, data = m.uid("SEARCH", "UNSEEN")
out["uid_unseen"] = [typ, data[0].decode()]
typ, data = m.uid("SEARCH", "UID", "3:*")
out["uid_range"] = [typ, data[0].decode()]
m.literal = "Café".encode("utf-8")
typ, data = m.search("UTF-8", "SUBJECT")
out["utf8_literal"] = [typ, data[0].decode()]
typ, data = m.search("ISO-8859-1", "ALL")
out["badcharset"] = [typ, data[0].decode()]
try:
    m.search(None, "FROBNICATE")
    out["bad"] = "accepted"
except imaplib.IMAP4.error as e:
    out["bad"] = str(e)
typ, data = m._simple_command("SEARCH", "RETURN", "(SAVE)", "FLAGGED")
out["save"] = typ
typ, data = m.fetch("$", "(UID)")
out["fetch_saved"] = [d.decode() for d in data if d]
typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
out["esearch"] = [typ, [d.decode() for d in m.untagged_responses.pop("ESEARCH", [])]]
`,
    );
    assert.deepEqual(result.capabilities, ["ESEARCH", "SEARCHRES"]);
    assert.deepEqual(result.all, ["OK", "1 2 3"]);
    assert.deepEqual(result.unseen_flagged, ["OK", "2"]);
    assert.deepEqual(result.from, ["OK", "2"]);
    assert.deepEqual(result.since, ["OK", "2 3"]);
    assert.deepEqual(result.senton, ["OK", "1"]);
    assert.deepEqual(result.or, ["OK", "1"]);
    assert.deepEqual(result.uid_unseen, ["OK", "3 4"]);
    assert.deepEqual(result.uid_range, ["OK", "3 4"]);
    assert.deepEqual(result.utf8_literal, ["OK", "1"]);
    assert.deepEqual(result.badcharset, [
      "NO",
      "[BADCHARSET (UTF-8 US-ASCII)] Cannot search in charset ISO-8859-1; use UTF-8 or US-ASCII",
    ]);
    assert.match(result.bad as string, /Unknown search key: FROBNICATE/);
    assert.equal(result.save, "OK");
    assert.deepEqual(result.fetch_saved, ["2 (UID 3)"]);
    const [status, [esearch]] = result.esearch as [string, string[]];
    assert.equal(status, "OK");
    assert.match(esearch, /^\(TAG "[A-Z]+\d+"\) MIN 1 MAX 3 COUNT 3$/);
  });
});
