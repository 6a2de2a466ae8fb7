/**
 * SORT and THREAD with real clients: Python's imaplib (`sort()`, `thread()`, `uid("SORT")`)
 * and curl (`-X 'UID SORT …'`, `-X 'THREAD …'`). imapflow has no SORT or THREAD. The
 * mailbox is filled through the store; the expected numbers follow from what each message
 * holds (and are what Dovecot 2.3 answers for the same messages). ESORT's PARTIAL (RFC 9394)
 * and CONTEXT=SORT (RFC 5267 4: positioned ADDTO/REMOVEFROM, CANCELUPDATE) go through
 * imaplib's raw commands; Dovecot 2.3 offers neither (it refuses negative ranges, and its
 * SORT updates carry position 0).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Elektromail } from "../../lib/server.ts";
import { imaplibSession, python, withServer } from "./imap_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const crlf = (text: string) => encoder.encode(text.replace(/\n/g, "\r\n"));

/** Five messages for `alice`, UIDs 1-5: a thread of three, an unrelated one, a reply to it. */
function fill(server: Elektromail): void {
  const { store } = server;
  store.ensureUser("alice");
  const add = (text: string, date: string) =>
    store.append("alice", "INBOX", crlf(text), { internalDate: Date.parse(date) });
  add(
    "From: Zoe <zoe@example.com>\nSubject: Lunch?\nMessage-ID: <1@x>\n" +
      "Date: Mon, 23 Nov 2026 12:00:00 +0000\n\nnoon\n",
    "2026-11-23T12:00:05Z",
  );
  add(
    "From: amy@example.com\nSubject: Re: Lunch?\nMessage-ID: <2@x>\nReferences: <1@x>\n" +
      "Date: Mon, 23 Nov 2026 12:30:00 +0000\n\nyes, and a longer answer\n",
    "2026-11-23T12:30:05Z",
  );
  add(
    "From: Bob <bob@example.com>\nSubject: =?utf-8?q?Caf=C3=A9?= report\nMessage-ID: <3@x>\n\nx\n",
    "2026-11-22T08:00:00Z",
  );
  add(
    "From: zoe@example.com\nSubject: RE: [team] Lunch?\nMessage-ID: <4@x>\n" +
      "References: <1@x> <2@x>\nDate: Mon, 23 Nov 2026 13:00:00 +0000\n\nok\n",
    "2026-11-23T13:00:05Z",
  );
  add(
    "From: carl@example.com\nSubject: Fwd: Café report\nMessage-ID: <5@x>\n" +
      "Date: Tue, 24 Nov 2026 09:00:00 +0100\n\nfyi\n",
    "2026-11-24T08:00:05Z",
  );
}

Deno.test("Python imaplib: sort() and thread(), UID SORT, ESORT, BADCHARSET", async () => {
  await withServer(async (server) => {
    fill(server);
    const result = await imaplibSession(
      server,
      "alice",
      String.raw`
typ, data = m.capability()
out["caps"] = [c for c in data[0].decode().split() if c.startswith(("SORT", "THREAD", "ESORT"))]
m.select("INBOX")
def sort(criteria, *search):
    typ, data = m.sort(criteria, "UTF-8", *search)
    return [typ, data[0].decode()]
out["date"] = sort("(DATE)", "ALL")
out["reverse_from"] = sort("(REVERSE FROM)", "ALL")
out["subject"] = sort("(SUBJECT ARRIVAL)", "ALL")
out["size_unseen"] = sort("(SIZE)", "FROM", "zoe")
out["displayfrom"] = sort("(DISPLAYFROM)", "ALL")
typ, data = m.uid("SORT", "(REVERSE DATE)", "UTF-8", "UID", "2:*")
out["uid_sort"] = [typ, data[0].decode()]
for algorithm in ("REFERENCES", "ORDEREDSUBJECT", "REFS"):
    typ, data = m.thread(algorithm, "UTF-8", "ALL")
    out[algorithm] = [typ, data[0].decode()]
typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
out["uid_thread"] = [typ, data[0].decode()]
typ, data = m._simple_command("SORT", "RETURN", "(MIN MAX COUNT)", "(SUBJECT)", "UTF-8", "ALL")
out["esort"] = [typ, [d.decode() for d in m.untagged_responses.pop("ESEARCH", [])]]
typ, data = m.sort("(DATE)", "KOI8-R", "ALL")
out["badcharset"] = [typ, data[0].decode()]
`,
    );
    assert.deepEqual(result.caps, [
      "SORT",
      "SORT=DISPLAY",
      "THREAD=REFERENCES",
      "THREAD=REFS",
      "THREAD=ORDEREDSUBJECT",
      "ESORT",
    ]);
    // Message 3 has no Date: it is dated by its INTERNALDATE, the 22nd.
    assert.deepEqual(result.date, ["OK", "3 1 2 4 5"]);
    assert.deepEqual(result.reverse_from, ["OK", "1 4 5 3 2"]);
    assert.deepEqual(result.subject, ["OK", "3 5 1 2 4"]);
    assert.deepEqual(result.size_unseen, ["OK", "1 4"]);
    assert.deepEqual(result.displayfrom, ["OK", "2 3 5 1 4"]);
    assert.deepEqual(result.uid_sort, ["OK", "5 4 2 3"]);
    assert.deepEqual(result.REFERENCES, ["OK", "(3 5)(1 2 4)"]);
    assert.deepEqual(result.ORDEREDSUBJECT, ["OK", "(3 5)(1 (2)(4))"]);
    assert.deepEqual(result.REFS, ["OK", "(3)(1 2 4)(5)"]);
    assert.deepEqual(result.uid_thread, ["OK", "(3 5)(1 2 4)"]);
    const [status, [esort]] = result.esort as [string, string[]];
    assert.equal(status, "OK");
    assert.match(esort, /^\(TAG "[A-Z]+\d+"\) MIN 3 MAX 4 COUNT 5$/);
    assert.deepEqual(result.badcharset, [
      "NO",
      "[BADCHARSET (UTF-8 US-ASCII)] Cannot search in charset KOI8-R; use UTF-8 or US-ASCII",
    ]);
  });
});

Deno.test("curl: UID SORT and THREAD as custom requests", async () => {
  await withServer(async (server) => {
    fill(server);
    const url = `imap://127.0.0.1:${server.ports.imap}/INBOX`;
    const run = async (request: string) => {
      const output = await new Deno.Command("curl", {
        args: ["-sS", "--max-time", "10", "-u", "alice:pw", url, "-X", request],
      }).output();
      assert.equal(output.code, 0, decoder.decode(output.stderr));
      return decoder.decode(output.stdout);
    };
    assert.equal(await run("UID SORT (REVERSE ARRIVAL) UTF-8 ALL"), "* SORT 5 4 2 1 3\r\n");
    assert.equal(await run("SORT (SUBJECT) US-ASCII SUBJECT lunch"), "* SORT 1 2 4\r\n");
    assert.equal(await run("THREAD REFERENCES UTF-8 ALL"), "* THREAD (3 5)(1 2 4)\r\n");
    assert.match(
      await run("UID SORT RETURN (ALL) (DATE) UTF-8 ALL"),
      /^\* ESEARCH \(TAG "[A-Z0-9]+"\) UID ALL 3,1:2,4:5\r\n$/,
    );
  });
});

Deno.test("Python imaplib: SORT RETURN (PARTIAL), SORT RETURN (UPDATE) with positioned ADDTO/REMOVEFROM, CANCELUPDATE", async () => {
  await withServer(async (server) => {
    const { store } = server;
    store.ensureUser("alice");
    // By subject: a b d f are UIDs 4 2 1 3.
    for (const subject of ["d", "b", "f", "a"]) {
      store.append("alice", "INBOX", encoder.encode(`Subject: ${subject}\r\n\r\nx\r\n`));
    }
    const result = await python(
      String.raw`
import imaplib, json, sys
imaplib.Commands["CANCELUPDATE"] = ("SELECTED",)
out = {}
port = int(sys.argv[1])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice", "pw")
caps = m.capability()[1][0].decode().split()
out["caps"] = sorted(c for c in caps if c.startswith("CONTEXT=") or c in ("ESORT", "PARTIAL"))
m.select("INBOX")
tags = []
def esearch(*args):
    typ, data = m._simple_command(*args)
    lines = [d.decode() for d in m.untagged_responses.pop("ESEARCH", [])]
    tags.extend(line.split('"')[1] for line in lines)
    return [typ, [line.split(") ", 1)[1] for line in lines]]
out["first"] = esearch("UID", "SORT", "RETURN (PARTIAL 1:2 COUNT)", "(SUBJECT)", "UTF-8", "ALL")
out["last"] = esearch("UID", "SORT", "RETURN (PARTIAL -1:-2 MIN MAX)", "(SUBJECT)", "UTF-8", "ALL")
out["past"] = esearch("SORT", "RETURN (PARTIAL 5:9)", "(SUBJECT)", "UTF-8", "ALL")
out["update"] = esearch("UID", "SORT", "RETURN (UPDATE ALL)", "(SUBJECT)", "UTF-8", "UNSEEN")
tag = tags[-1]
other = imaplib.IMAP4("127.0.0.1", port)
other.login("alice", "pw")
other.append("INBOX", None, None, b"Subject: c\r\n\r\nx\r\n")
other.append("INBOX", None, None, b"Subject: 0\r\n\r\nx\r\n")
other.select("INBOX")
other.store("2", "+FLAGS", "(\\Seen)")
typ, data = m.noop()
out["noop"] = [typ, [d.decode().split(") ", 1)[1] for d in m.untagged_responses.pop("ESEARCH", [])]]
other.store("1", "+FLAGS", "(\\Deleted)")
other.expunge()
other.logout()
typ, data = m.noop()
out["expunge"] = [typ, [d.decode().split(") ", 1)[1] for d in m.untagged_responses.pop("ESEARCH", [])]]
out["fresh"] = esearch("UID", "SORT", "RETURN (ALL)", "(SUBJECT)", "UTF-8", "UNSEEN")
typ, data = m._simple_command("CANCELUPDATE", '"%s"' % tag)
out["cancel"] = typ
m.logout()
print(json.dumps(out))
`,
      server.ports.imap!,
    );
    assert.deepEqual(result.caps, ["CONTEXT=SEARCH", "CONTEXT=SORT", "ESORT", "PARTIAL"]);
    assert.deepEqual(result.first, ["OK", ["UID PARTIAL (1:2 4,2) COUNT 4"]]);
    assert.deepEqual(result.last, ["OK", ["UID MIN 4 MAX 3 PARTIAL (-1:-2 1,3)"]]);
    assert.deepEqual(result.past, ["OK", ["PARTIAL (5:9 NIL)"]]);
    assert.deepEqual(result.update, ["OK", ["UID ALL 4,2,1,3"]]);
    // 4 2 1 3 loses b (2, second); c (5) and 0 (6) join: 6 4 5 1 3.
    assert.deepEqual(result.noop, ["OK", ["UID REMOVEFROM (2 2)", "UID ADDTO (1 6 3 5)"]]);
    // d (1) was fourth.
    assert.deepEqual(result.expunge, ["OK", ["UID REMOVEFROM (4 1)"]]);
    assert.deepEqual(result.fresh, ["OK", ["UID ALL 6,4:5,3"]]);
    assert.equal(result.cancel, "OK");
  });
});
