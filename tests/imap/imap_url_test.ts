/**
 * The IMAP URL parser (RFC 5092, as CATENATE and URLAUTH use it): known answers for the
 * absolute, path and relative forms, URLAUTH parts and the rump URL, refusals with their
 * reasons, and a seeded fuzz: any text either parses or fails with ImapUrlError, never
 * another exception, and every accepted URL re-parses the same once re-encoded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ImapUrl, ImapUrlError, parseImapUrl } from "../../lib/imap/imap_url.ts";
import { prng } from "./consistency_model.ts";

Deno.test("IMAP URL: path form with UIDVALIDITY, section and partial", () => {
  const url = parseImapUrl("/INBOX;UIDVALIDITY=1796313913/;UID=12/;SECTION=1.2/;PARTIAL=0.100");
  assert.equal(url.form, "path");
  assert.equal(url.mailbox, "INBOX");
  assert.equal(url.uidValidity, 1796313913);
  assert.equal(url.uid, 12);
  assert.equal(url.section, "1.2");
  assert.deepEqual(url.partial, { offset: 0, length: 100 });
  assert.equal(url.urlauth, null);
});

Deno.test("IMAP URL: mailbox with hierarchy and %-escaped UTF-8; section with spaces", () => {
  const url = parseImapUrl("/Archiv/2026%20M%C3%A4rz/;UID=3/;SECTION=HEADER.FIELDS%20(From%20To)");
  assert.equal(url.mailbox, "Archiv/2026 März");
  assert.equal(url.uidValidity, null);
  assert.equal(url.section, "HEADER.FIELDS (From To)");
  assert.deepEqual(parseImapUrl("/a/;UID=1/;PARTIAL=5").partial, { offset: 5, length: null });
});

Deno.test("IMAP URL: relative to the selected mailbox", () => {
  const url = parseImapUrl(";UID=7/;SECTION=TEXT");
  assert.equal(url.form, "relative");
  assert.equal(url.mailbox, null);
  assert.equal(url.uid, 7);
  assert.equal(url.section, "TEXT");
});

Deno.test("IMAP URL: absolute with user, AUTH, port, EXPIRE and URLAUTH; the rump", () => {
  const text = "imap://joe;AUTH=*@example.com:143/INBOX;UIDVALIDITY=3/;UID=20" +
    ";EXPIRE=2026-12-31T23:59:59Z;URLAUTH=submit+joe:internal:" + "0123456789abcdef".repeat(2);
  const url = parseImapUrl(text);
  assert.equal(url.form, "absolute");
  assert.equal(url.user, "joe");
  assert.equal(url.auth, "*");
  assert.equal(url.host, "example.com");
  assert.equal(url.port, 143);
  assert.equal(url.expire, "2026-12-31T23:59:59Z");
  assert.deepEqual(url.urlauth, {
    access: "submit+joe",
    mechanism: "INTERNAL",
    token: "0123456789abcdef".repeat(2),
  });
  assert.equal(url.rump, text.slice(0, text.indexOf(":internal:")));
  // GENURLAUTH's form: access only.
  const rump = parseImapUrl("imap://joe@h/INBOX/;UID=1;URLAUTH=user+bob");
  assert.deepEqual(rump.urlauth, { access: "user+bob", mechanism: null, token: null });
  assert.equal(rump.rump, "imap://joe@h/INBOX/;UID=1;URLAUTH=user+bob");
});

Deno.test("IMAP URL: refusals", () => {
  const bad: Array<[string, RegExp]> = [
    ["", /Empty/],
    ["/INBOX", /no message/],
    ["/INBOX/;UID=0", /UID/],
    ["/INBOX/;UID=01", /UID/],
    ["/INBOX/;UID=4294967296", /UID/],
    ["/INBOX;UID=1", /Unexpected ;UID=/],
    ["/INBOX/;SECTION=1/;UID=1", /Unexpected/],
    ["/INBOX/;UID=1/;UID=2", /Unexpected/],
    ["/INBOX/;UID=1/;FOO=1", /Unknown/],
    ["/INBOX?SUBJECT%20x", /search/],
    ["/IN BOX/;UID=1", /%-encoding/],
    ["/INBOX%zz/;UID=1", /%-escape/],
    ["/INBOX%ff/;UID=1", /UTF-8/],
    ["//host/INBOX/;UID=1", /Network-path/],
    ["http://h/INBOX/;UID=1", /Not an IMAP URL/],
    ["imap://h", /no mailbox/],
    ["imap:///INBOX/;UID=1", /no host/],
    [";UIDVALIDITY=1/;UID=1", /UIDVALIDITY/],
    ["/INBOX/;UID=1;URLAUTH=user+a:INTERNAL:abc", /token/],
    ["/INBOX/;UID=1;URLAUTH=user+a:INTERNAL", /mechanism and a token/],
    ["/INBOX/;UID=1/;PARTIAL=1.0", /PARTIAL/],
  ];
  for (const [text, reason] of bad) {
    assert.throws(() => parseImapUrl(text), (error: unknown) => {
      assert.ok(error instanceof ImapUrlError, `${text}: ${error}`);
      assert.match(error.message, reason, text);
      return true;
    });
  }
});

/** The URL written back, every value %-encoded. */
function reencode(url: ImapUrl): string {
  const enc = (s: string) => encodeURIComponent(s).replaceAll("%2F", "/");
  let text = url.mailbox === null ? "" : `/${enc(url.mailbox)}`;
  if (url.uidValidity !== null) text += `;UIDVALIDITY=${url.uidValidity}`;
  text += `${url.mailbox === null ? "" : "/"};UID=${url.uid}`;
  if (url.section !== null) text += `/;SECTION=${encodeURIComponent(url.section)}`;
  if (url.partial) {
    text += `/;PARTIAL=${url.partial.offset}${url.partial.length ? `.${url.partial.length}` : ""}`;
  }
  return text;
}

Deno.test("IMAP URL fuzz: ImapUrlError or a URL that re-parses the same", () => {
  const rand = prng(5092);
  const pieces = [
    "/",
    ";",
    "=",
    "%",
    "%2",
    "%41",
    "%C3%A4",
    "INBOX",
    "a",
    "1",
    "0",
    "9",
    ".",
    ":",
    "@",
    "UID",
    "UIDVALIDITY",
    "SECTION",
    "PARTIAL",
    "URLAUTH",
    "EXPIRE",
    "imap://",
    "?",
    "]",
    ";UID=1",
    "/;UID=2",
    "/;SECTION=1.2",
    "/;PARTIAL=3.4",
    ";UIDVALIDITY=5",
    " ",
    "\u00e9",
  ];
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    // Half start like a real URL, so that many get past the first checks.
    let text = rand(2) === 0
      ? ["/INBOX/;UID=1", ";UID=2", "/a/b;UIDVALIDITY=3/;UID=4"][rand(3)]
      : "";
    for (let n = rand(6); n > 0; n--) text += pieces[rand(pieces.length)];
    let url: ImapUrl;
    try {
      url = parseImapUrl(text);
    } catch (error) {
      assert.ok(error instanceof ImapUrlError, `${JSON.stringify(text)}: ${error}`);
      continue;
    }
    accepted++;
    if (url.form === "absolute" || url.urlauth || url.expire) continue;
    const again = parseImapUrl(reencode(url));
    assert.deepEqual({ ...again, form: url.form }, url, JSON.stringify(text));
  }
  assert.ok(accepted > 1000, `only ${accepted} random URLs were valid`);
});

Deno.test("IMAP URL: long hostile input is refused or parsed in one pass", () => {
  const long = "/" + "a;".repeat(4000);
  assert.throws(() => parseImapUrl(long), ImapUrlError);
  assert.throws(() => parseImapUrl("/" + "%".repeat(9000)), /too long/);
  const deep = parseImapUrl("/" + "a/".repeat(3000) + ";UID=1");
  assert.equal(deep.mailbox!.length, 5999);
});
