/**
 * The MailHog `containing` and Mailpit word searches read the header lines and text plan the
 * index memo keeps (lib/http/compat/search_fields.ts): the same answers as the text they made
 * per search (a reference copy of that code below, over encoded words, folding, 8-bit and
 * Latin-1 headers, case changes that change length, and needles across names, values, lines
 * and parts), and no message header parsed again by a later search.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MessageIndex } from "../../../lib/mail/message_index.ts";
import { MessageText, searchableText } from "../../../lib/http/filters.ts";
import { HeaderLines, searchableIncludes } from "../../../lib/http/compat/search_fields.ts";
import { openMemoryStore, type Store } from "../../../lib/store/mod.ts";
import type { MessageMeta } from "../../../lib/store/types.ts";
import { withApi } from "../helpers.ts";

const MESSAGES = [
  "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nX-Long: first part\r\n  folded tail\r\n" +
  "From: A <a@x.test>\r\n\r\nbody one\r\n",
  "X-Greek: ΑΣ\r\nX-Dotted: İstanbul\r\nSubject: plain ΣΑΣ\r\n\r\nbody with ΣΑΣ\r\n",
  "X-Empty:\r\nX-Colon: a: b\r\nSubject: colon\r\nMIME-Version: 1.0\r\n" +
  'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n' +
  "plain part\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
  "<p>caf=C3=A9 html</p>\r\n--b--\r\n",
  "Received: from a\r\nReceived: from b\r\nSubject:  spaced  \r\n\r\n",
  "\r\nno header at all\r\n",
];

const LATIN1 = new Uint8Array([
  ...new TextEncoder().encode("X-Latin: caf"),
  0xe9,
  ...new TextEncoder().encode("\r\nSubject: latin\r\n\r\nx\r\n"),
]);

const NEEDLES = [
  "",
  "grüße",
  "=?utf-8?q?",
  "part  folded",
  "x-long: first",
  "x-long",
  "long: f",
  ": ",
  ":",
  " ",
  "\n",
  "tail\nfrom",
  "σ",
  "ς",
  "ας",
  "i̇stanbul",
  "istanbul",
  "a: b",
  "x-colon: a",
  "x-empty",
  "x-empty: ",
  "empty: \nx",
  "body",
  "café",
  "caf",
  "html",
  "plain\nbody",
  "colon\n",
  "from a",
  "a\nreceived",
  "spaced",
  "subject: spaced",
  "e",
  "no header",
  "zzz",
];

/** MailHog's `containing` as it was: the text made per search, then each field parsed. */
function oldMailhog(store: Store, meta: MessageMeta, query: string): boolean {
  const has = (value: string) => value.toLowerCase().includes(query);
  if (searchableText(store, meta).includes(query)) return true;
  const index = store.getIndex(meta.user, meta.mailbox, meta.uid);
  return index?.root.fields.some((field) => has(field.name) || has(field.value)) ?? false;
}

/** Mailpit's text as it was made per search. */
function oldMailpit(store: Store, meta: MessageMeta): string {
  const index = store.getIndex(meta.user, meta.mailbox, meta.uid)!;
  return index.root.fields.map((f) => `${f.name}: ${f.value}`).join("\n").toLowerCase() + "\n" +
    searchableText(store, meta);
}

/** Runs `check` on each message of a memory store holding MESSAGES and LATIN1. */
function forEachFixture(check: (store: Store, meta: MessageMeta) => void): void {
  const store = openMemoryStore();
  try {
    for (const raw of MESSAGES) store.append("u", "INBOX", new TextEncoder().encode(raw));
    store.append("u", "INBOX", LATIN1);
    for (const meta of store.listMessages("u", "INBOX")) check(store, meta);
  } finally {
    store.close();
  }
}

Deno.test("compat search: the kept header lines and text plan answer as the text made per search", () => {
  forEachFixture((store, meta) => {
    const index = store.getIndex(meta.user, meta.mailbox, meta.uid)!;
    const lines = HeaderLines.of(index);
    for (const needle of NEEDLES) {
      const what = `message ${meta.uid}, needle ${JSON.stringify(needle)}`;
      const mailhog = searchableIncludes(store, meta, index, needle) || lines.fieldHas(needle);
      assert.equal(mailhog, oldMailhog(store, meta, needle), `MailHog: ${what}`);
      const mailpit = needle.includes("\n")
        ? `${lines.text}\n${searchableText(store, meta)}`.includes(needle)
        : lines.text.includes(needle) || searchableIncludes(store, meta, index, needle);
      assert.equal(mailpit, oldMailpit(store, meta).includes(needle), `Mailpit: ${what}`);
    }
  });
});

Deno.test("http search: a message's text answers each needle as its whole text made per search", () => {
  forEachFixture((store, meta) => {
    // One for all the needles, as a filter's terms or a new message's waiters share it.
    const text = new MessageText(store, meta);
    for (const needle of NEEDLES) {
      assert.equal(
        text.includes(needle),
        searchableText(store, meta).includes(needle),
        `message ${meta.uid}, needle ${JSON.stringify(needle)}`,
      );
    }
    text.release();
  });
});

Deno.test("compat search: a field match is within one name or one value", () => {
  const lines = HeaderLines.fromFields([
    { name: "X-A", value: "one two" },
    { name: "X-B", value: "" },
    { name: "İ", value: "tail" },
  ]);
  assert.equal(lines.text, "x-a: one two\nx-b: \ni̇: tail");
  for (const needle of ["x-a", "one two", "two", "x-b", "", "i̇", "tail", "ta"]) {
    assert.ok(lines.fieldHas(needle), needle);
  }
  for (const needle of ["a: one", "two\nx", "x-b: ", ": ", "\n", "i̇: t", "b:"]) {
    assert.ok(!lines.fieldHas(needle), needle);
  }
  assert.ok(!HeaderLines.fromFields([]).fieldHas(""), "no field, no match");
  // Past 65,535 chars the ends are kept as numbers, not char codes.
  const long = HeaderLines.fromFields([
    { name: "X-Big", value: "y".repeat(70_000) },
    { name: "X-After", value: "end" },
  ]);
  assert.ok(long.fieldHas("x-after") && long.fieldHas("end") && long.fieldHas("yy"));
  assert.ok(!long.fieldHas("y\nx-after") && !long.fieldHas("after: e"));
});

Deno.test("compat search: a later search parses no message header again", async () => {
  await withApi(async (api) => {
    const { store } = api.server;
    for (let n = 0; n < 20; n++) {
      const raw = `Subject: m${n}\r\nX-Tag: t${n}\r\nFrom: a${n}@x.test\r\n\r\nbody ${n}\r\n`;
      store.append(`u${n % 3}`, "INBOX", new TextEncoder().encode(raw));
    }
    // Count the reads of each index's root part (a read parses the header fields).
    let reads = 0;
    const root = Object.getOwnPropertyDescriptor(MessageIndex.prototype, "root")!.get!;
    for (const user of store.listUsers()) {
      for (const meta of store.listMessages(user, "INBOX")) {
        const index = store.getIndex(meta.user, meta.mailbox, meta.uid)!;
        Object.defineProperty(index, "root", {
          get: () => (reads++, root.call(index)),
        });
      }
    }
    const searches = [
      "/api/v2/search?kind=containing&query=x-tag%3A%20t",
      "/api/v2/search?kind=containing&query=nothing",
      "/api/v1/search?query=nothing",
      "/api/v1/search?query=%22x-tag%3A%20t1%22%20nothing",
    ];
    for (const path of searches) assert.equal((await api.request(path)).status, 200);
    assert.ok(reads > 0, "the first searches build what the memo keeps");
    // The server's indexer (lib/imap/warm.ts) reads these parts too, for its own memos, in
    // idle time when a loaded machine pushed the deliveries past its budget: counted here
    // until it is done, so wait until no read has come for 100 ms.
    for (let seen = -1, waited = 0; seen !== reads && waited < 5_000; waited += 100) {
      seen = reads;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    reads = 0;
    for (const path of searches) {
      const response = await api.request(path);
      assert.equal(response.status, 200);
      assert.equal(response.json.messages_count ?? response.json.total, 0, path);
    }
    assert.equal(reads, 0, "no header parsed again");
    // And it still finds: a header value, and a value only MailHog's name/value split refuses.
    const found = await api.request("/api/v2/search?kind=containing&query=t17");
    assert.deepEqual(found.json.items.map((item: { ID: string }) => item.ID), ["u2:INBOX:6"]);
    const across = await api.request("/api/v1/search?query=%22x-tag%3A%20t17%22");
    assert.equal(across.json.messages_count, 1);
  });
});
