/**
 * The APPEND extensions through real clients: imapflow (npm) reads APPENDLIMIT as a number
 * and refuses a bigger message itself (RFC 7889 3); Python's imaplib sends a MULTIAPPEND
 * (RFC 3502; its first message as a LITERAL+ literal in the command text, the last as its own
 * synchronizing literal), runs GENURLAUTH and URLFETCH through `xatom` and parses the
 * URLFETCH literal (RFC 4467), and a CATENATE (RFC 4469).
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { imapflowClient, imaplibSession, withServer, withTimeout } from "./imap_helpers.ts";

Deno.test("imapflow: APPENDLIMIT is read from CAPABILITY and honoured", async () => {
  const config = testConfig({ httpPort: null });
  const server = await startElektromail({
    ...config,
    limits: { ...config.limits, maxMessageSize: 1000 },
  });
  try {
    const imap = imapflowClient(server);
    await withTimeout(imap.connect(), "imapflow connect");
    try {
      assert.equal(imap.capabilities.get("APPENDLIMIT"), 1000);
      for (const name of ["MULTIAPPEND", "CATENATE", "URLAUTH", "URLAUTH=BINARY"]) {
        assert.equal(imap.capabilities.get(name), true, name);
      }
      await assert.rejects(
        imap.append("INBOX", `Subject: big\r\n\r\n${"x".repeat(2000)}`),
        /APPENDLIMIT=1000/,
      );
      const appended = await imap.append("INBOX", "Subject: fits\r\n\r\nfine\r\n");
      assert.ok(appended);
      assert.equal(appended.uid, 1);
      await imap.logout();
    } finally {
      imap.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("Python imaplib: MULTIAPPEND, GENURLAUTH, URLFETCH and CATENATE", async () => {
  await withServer(async (server) => {
    const result = await imaplibSession(
      server,
      "erin",
      String.raw`
typ, data = m.capability()
out["caps"] = [c for c in data[0].decode().split() if c.startswith(("MULTIAPPEND", "CATENATE", "APPENDLIMIT", "URLAUTH"))]
one = "Subject: one\r\n\r\nfirst\r\n"
two = "Subject: two\r\n\r\nsecond\r\n"
m.literal = two.encode()
typ, data = m._simple_command("APPEND", "INBOX", "(\\Seen) {%d+}\r\n%s" % (len(one), one))
out["multiappend"] = [typ, data[0].decode()]
m.select("INBOX")
typ, data = m.fetch("1:2", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
out["fetch"] = [d[1].decode().strip() for d in data if isinstance(d, tuple)]
typ, data = m.xatom("GENURLAUTH", '"imap://erin@localhost/INBOX/;UID=2;URLAUTH=anonymous"', "INTERNAL")
typ, urls = m._untagged_response(typ, data, "GENURLAUTH")
url = urls[0].decode()
out["genurlauth"] = [typ, url.split(":internal:")[0]]
typ, data = m.xatom("URLFETCH", url)
typ, fetched = m._untagged_response(typ, data, "URLFETCH")
out["urlfetch"] = [typ, fetched[0][1].decode()]
typ, data = m.xatom("APPEND", 'INBOX CATENATE (URL "/INBOX/;UID=1/;SECTION=HEADER" URL ";UID=2/;SECTION=TEXT")')
out["catenate"] = [typ, data[0].decode()]
typ, data = m.fetch("3", "(BODY.PEEK[])")
out["catenated"] = data[0][1].decode()
`,
    );
    assert.deepEqual(result.caps, [
      "MULTIAPPEND",
      "CATENATE",
      "APPENDLIMIT=26214400",
      "URLAUTH",
      "URLAUTH=BINARY",
    ]);
    assert.deepEqual(result.multiappend, ["OK", "[APPENDUID 1 1:2] APPEND completed"]);
    assert.deepEqual(result.fetch, ["Subject: one", "Subject: two"]);
    assert.deepEqual(result.genurlauth, [
      "OK",
      "imap://erin@localhost/INBOX/;UID=2;URLAUTH=anonymous",
    ]);
    assert.deepEqual(result.urlfetch, ["OK", "Subject: two\r\n\r\nsecond\r\n"]);
    assert.deepEqual(result.catenate, ["OK", "[APPENDUID 1 3] APPEND completed"]);
    assert.equal(result.catenated, "Subject: one\r\n\r\nsecond\r\n");
    assert.deepEqual([...server.store.getMessage("erin", "INBOX", 1)!.flags], ["\\Seen"]);
  });
});
