/**
 * The SEARCH extensions with real clients: imapflow (which turns `since`/`before` into
 * YOUNGER/OLDER once the server offers WITHIN, RFC 5032, and asks for RETURN (PARTIAL),
 * RFC 9394) and Python's imaplib with raw commands (FETCH SAVEDATE, RFC 8514; SEARCH
 * RETURN (UPDATE) with its unsolicited ADDTO/REMOVEFROM and CANCELUPDATE, RFC 5267).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Elektromail } from "../../lib/server.ts";
import { imapflowClient, python, withServer } from "./imap_helpers.ts";

const encoder = new TextEncoder();
const HOUR = 3_600_000;

/** Five messages for `alice`: INTERNALDATEs 1 to 5 days before now; 2 and 4 seen. */
function fill(server: Elektromail): void {
  const { store } = server;
  store.ensureUser("alice");
  for (let n = 1; n <= 5; n++) {
    store.append("alice", "INBOX", encoder.encode(`Subject: ${n}\r\n\r\nx\r\n`), {
      internalDate: Date.now() - n * 24 * HOUR,
      flags: n % 2 === 0 ? ["\\Seen"] : [],
    });
  }
}

Deno.test("imapflow: since/before become YOUNGER/OLDER under WITHIN; RETURN (PARTIAL) pages", async () => {
  await withServer(async (server) => {
    fill(server);
    const imap = imapflowClient(server);
    await imap.connect();
    try {
      for (const name of ["WITHIN", "SAVEDATE", "PARTIAL", "CONTEXT=SEARCH"]) {
        assert.ok(imap.capabilities.has(name), `capability ${name}`);
      }
      await imap.mailboxOpen("INBOX");
      const search = async (query: Record<string, unknown>) =>
        [...(await imap.search(query)) || []].sort((a, b) => a - b);
      // Messages are 1..5 days old: 2.5 days back splits them.
      const split = new Date(Date.now() - 60 * HOUR);
      assert.deepEqual(await search({ since: split }), [1, 2]);
      assert.deepEqual(await search({ before: split }), [3, 4, 5]);
      assert.deepEqual(await search({ since: split, seen: false }), [1]);
      const page = await imap.search({ all: true }, { returnOptions: [{ partial: "-1:-2" }] });
      assert.deepEqual(page, { partial: { range: "-1:-2", messages: "4:5" } });
      const uidPage = await imap.search({ seen: false }, {
        uid: true,
        returnOptions: ["COUNT", { partial: "2:10" }],
      });
      assert.deepEqual(uidPage, { count: 3, partial: { range: "2:10", messages: "3,5" } });
    } finally {
      await imap.logout();
    }
  });
});

Deno.test("Python imaplib: FETCH SAVEDATE, SEARCH OLDER/SAVEDON, RETURN (UPDATE) updates and CANCELUPDATE", async () => {
  await withServer(async (server) => {
    fill(server);
    const result = await python(
      String.raw`
import imaplib, json, re, sys
imaplib.Commands["CANCELUPDATE"] = ("SELECTED",)
out = {}
port = int(sys.argv[1])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice", "pw")
m.select("INBOX")
typ, data = m.fetch("1", "(SAVEDATE INTERNALDATE)")
out["fetch"] = [typ, data[0].decode()]
typ, data = m.search(None, "OLDER", "216000")
out["older"] = [typ, data[0].decode()]
# The day the server saved them (not the client's today: UTC midnight may pass meanwhile).
saved = re.search(r'SAVEDATE "(\d{2}-\w{3}-\d{4})', out["fetch"][1]).group(1)
typ, data = m.search(None, "SAVEDON", saved)
out["savedon"] = [typ, data[0].decode()]
typ, data = m._simple_command("SEARCH", "RETURN", "(UPDATE ALL)", "UNSEEN")
out["update"] = [typ, [d.decode() for d in m.untagged_responses.pop("ESEARCH", [])]]
other = imaplib.IMAP4("127.0.0.1", port)
other.login("alice", "pw")
other.append("INBOX", None, None, b"Subject: new\r\n\r\nx\r\n")
other.select("INBOX")
other.store("1", "+FLAGS", "(\\Seen)")
other.logout()
typ, data = m.noop()
out["noop"] = [typ, [d.decode() for d in m.untagged_responses.pop("ESEARCH", [])]]
tag = out["update"][1][0].split('"')[1]
typ, data = m._simple_command("CANCELUPDATE", '"%s"' % tag)
out["cancel"] = typ
typ, data = m._simple_command("CANCELUPDATE", '"%s"' % tag)
out["cancel_again"] = [typ, data[0].decode()]
m.logout()
print(json.dumps(out))
`,
      server.ports.imap!,
    );
    const [fetchStatus, fetched] = result.fetch as [string, string];
    assert.equal(fetchStatus, "OK");
    assert.match(fetched, /^1 \(SAVEDATE "\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2} \+0000" /);
    assert.deepEqual(result.older, ["OK", "3 4 5"]);
    assert.deepEqual(result.savedon, ["OK", "1 2 3 4 5"]);
    const [updateStatus, [first]] = result.update as [string, string[]];
    assert.equal(updateStatus, "OK");
    assert.match(first, /^\(TAG "[A-Z]+\d+"\) ALL 1,3,5$/);
    const [noopStatus, updates] = result.noop as [string, string[]];
    assert.equal(noopStatus, "OK");
    assert.deepEqual(updates.map((line) => line.replace(/^\(TAG "[^"]+"\) /, "")), [
      "REMOVEFROM (0 1)",
      "ADDTO (0 6)",
    ]);
    assert.equal(result.cancel, "OK");
    assert.deepEqual(result.cancel_again, [
      "NO",
      `Unknown tag: no search result is updated for ${first.split('"')[1]}`,
    ]);
  });
});
