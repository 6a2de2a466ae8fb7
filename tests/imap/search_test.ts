/**
 * The SEARCH evaluator without a server: programs parsed from text, run over a small mailbox
 * of MessageIndex-backed messages. Also checks the evaluation order (cheap keys before
 * decoding text) and that decoded text is computed once per message.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { openSqliteStore } from "../../lib/store/mod.ts";
import { countFreed } from "../store/freed_count.ts";
import { tempDb } from "../store/temp_db.ts";
import { RawImap } from "./raw_client.ts";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { searchAddresses, searchHeaders, searchText } from "../../lib/mail/search_text.ts";
import { readSearchProgram } from "../../lib/imap/parse_search.ts";
import { Reader } from "../../lib/imap/parser.ts";
import {
  compileSearch,
  type SearchCandidate,
  type SearchEnvironment,
} from "../../lib/imap/search.ts";

const enc = new TextEncoder();

function base64Utf8(text: string): string {
  return btoa(String.fromCharCode(...enc.encode(text)));
}

interface Message extends SearchCandidate {
  readonly raw: Uint8Array;
  readonly index: MessageIndex;
}

function message(
  seq: number,
  uid: number,
  text: string,
  flags: string[],
  internalDate: string,
): Message {
  const raw = enc.encode(text.replace(/\n/g, "\r\n"));
  return {
    seq,
    uid,
    flags,
    internalDate: Date.parse(internalDate),
    // Saved (RFC 8514) two days after its INTERNALDATE, so the keys can tell them apart.
    saveDate: Date.parse(internalDate) + 2 * 86_400_000,
    size: raw.length,
    modseq: uid,
    raw,
    index: new MessageIndex(raw),
  };
}

const MAILBOX: Message[] = [
  message(
    1,
    10,
    "From: Ann <ann@example.com>\nTo: team+ci@example.com\nSubject: Build green\n" +
      "Date: Mon, 2 Mar 2026 23:59:00 -1200\n\nAll checks passed.\n",
    ["\\Seen"],
    "2026-03-03T11:00:00Z",
  ),
  message(
    2,
    11,
    "From: =?utf-8?b?QmrDtnJu?= <bjorn@example.org>\nSubject: =?utf-8?q?R=C3=A9sum=C3=A9?=\n" +
      "X-Priority: 1\nContent-Type: multipart/alternative; boundary=x\n\n--x\n" +
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      base64Utf8("Grüße aus Köln\n") +
      "\n--x\nContent-Type: text/html\n\n<p>Gr&uuml;&szlig;e</p>\n--x--\n",
    ["\\Flagged", "$Later"],
    "2026-03-04T00:00:00Z",
  ),
  message(
    3,
    14,
    "Subject: no sender\nContent-Type: multipart/mixed; boundary=m\n\n--m\n\nsee attached\n--m\n" +
      "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + btoa("PNG needle") +
      "\n--m--\n",
    ["\\Seen", "\\Deleted"],
    "2026-03-05T12:00:00Z",
  ),
];

/** "Now" for OLDER/YOUNGER: a day after message 3's INTERNALDATE. */
const NOW = Date.parse("2026-03-06T12:00:00Z");

function parse(program: string) {
  return readSearchProgram(new Reader({ line: enc.encode(program), literals: [] })).key;
}

interface Counters {
  headers: number;
  text: number;
  raw: number;
}

function environment(counters: Counters, overrides: Partial<SearchEnvironment> = {}) {
  const byUid = new Map(MAILBOX.map((m) => [m.uid, m]));
  const env: SearchEnvironment = {
    messageCount: MAILBOX.length,
    maxUid: 14,
    saved: [],
    now: NOW,
    isRecent: (c) => c.uid === 14,
    headers(c) {
      counters.headers++;
      return searchHeaders(byUid.get(c.uid)!.index);
    },
    addresses(c) {
      return searchAddresses(byUid.get(c.uid)!.index);
    },
    text(c) {
      counters.text++;
      const m = byUid.get(c.uid)!;
      return searchText(m.index, () => {
        counters.raw++;
        return m.raw;
      });
    },
    ...overrides,
  };
  return env;
}

function run(program: string, overrides: Partial<SearchEnvironment> = {}): number[] {
  const matches = compileSearch(parse(program), environment(fresh(), overrides));
  return MAILBOX.filter((m) => matches(m)).map((m) => m.seq);
}

function fresh(): Counters {
  return { headers: 0, text: 0, raw: 0 };
}

Deno.test("search: every key over a small mailbox", () => {
  const cases: Array<[string, number[]]> = [
    ["ALL", [1, 2, 3]],
    ["SEEN", [1, 3]],
    ["UNSEEN", [2]],
    ["FLAGGED UNDELETED", [2]],
    ["DELETED", [3]],
    ["ANSWERED", []],
    ["UNANSWERED", [1, 2, 3]],
    ["DRAFT", []],
    ["UNDRAFT", [1, 2, 3]],
    ["KEYWORD $later", [2]],
    ["UNKEYWORD $LATER", [1, 3]],
    ["RECENT", [3]],
    ["NEW", []],
    ["OLD", [1, 2]],
    ["FROM ann@", [1]],
    ['FROM "björn"', [2]],
    ['FROM ""', [1, 2]],
    ["TO +ci", [1]],
    ["CC x", []],
    ["BCC x", []],
    ['SUBJECT "résumé"', [2]],
    ["SUBJECT GREEN", [1]],
    ["HEADER x-priority 1", [2]],
    ['HEADER X-PRIORITY ""', [2]],
    ['HEADER Content-Type ""', [2, 3]],
    ['BODY "köln"', [2]],
    ["BODY &szlig;", [2]],
    ["BODY needle", []],
    ["BODY attached", [3]],
    ["TEXT image/png", [3]],
    ["TEXT ann", [1]],
    ["BODY ann", []],
    // INTERNALDATE days in UTC.
    ["ON 3-Mar-2026", [1]],
    ["SINCE 4-Mar-2026", [2, 3]],
    ["BEFORE 4-Mar-2026", [1]],
    // Message 1 was sent on 2 March in its own zone (3 March in UTC); 2 and 3 have no Date
    // and fall back to INTERNALDATE.
    ["SENTON 2-Mar-2026", [1]],
    ["SENTON 3-Mar-2026", []],
    ["SENTSINCE 4-Mar-2026", [2, 3]],
    ["SENTBEFORE 5-Mar-2026", [1, 2]],
    ["LARGER 150", [2, 3]],
    ["SMALLER 150", [1]],
    ["LARGER 136", [2, 3]],
    ["SMALLER 136", []],
    ["2:*", [2, 3]],
    ["*", [3]],
    ["UID 11:13", [2]],
    ["UID 15:*", [3]],
    ["NOT SEEN", [2]],
    ["OR DELETED FLAGGED", [2, 3]],
    ["(SEEN) (UNDELETED)", [1]],
    ["OR (SEEN BODY checks) (FLAGGED SUBJECT nothing)", [1]],
  ];
  for (const [program, expected] of cases) assert.deepEqual(run(program), expected, program);
});

Deno.test("search: $ is the saved UIDs, in sequence and UID keys alike", () => {
  assert.deepEqual(run("$", { saved: [11, 14] }), [2, 3]);
  assert.deepEqual(run("UID $", { saved: [10] }), [1]);
  assert.deepEqual(run("NOT $", { saved: [10] }), [2, 3]);
  assert.deepEqual(run("$"), []);
});

Deno.test("search: cheap keys decide before header or body text is read", () => {
  const counters = fresh();
  const env = environment(counters);
  const matches = compileSearch(parse('BODY "grüße" FROM ann DELETED'), env);
  assert.deepEqual(MAILBOX.filter((m) => matches(m)).map((m) => m.seq), []);
  // DELETED fails for 1 and 2: only message 3 reaches FROM, and it fails there.
  assert.equal(counters.headers, 1);
  assert.equal(counters.text, 0);

  const flagsOnly = fresh();
  const onlyFlags = compileSearch(parse("OR SEEN NOT FLAGGED"), environment(flagsOnly));
  MAILBOX.forEach((m) => onlyFlags(m));
  assert.deepEqual(flagsOnly, fresh());

  // In an OR, the cheap side is tried first and short-circuits.
  const or = fresh();
  const either = compileSearch(parse("OR TEXT zzz SEEN"), environment(or));
  assert.deepEqual(MAILBOX.filter((m) => either(m)).map((m) => m.seq), [1, 3]);
  assert.equal(or.text, 1);
});

Deno.test("search_text: planned once per message; ASCII text matched in the stored bytes, not kept", () => {
  const raw = enc.encode("Subject: once\r\n\r\nBody Text\r\n");
  const index = new MessageIndex(raw);
  let reads = 0;
  const read = () => (reads++, raw);
  const first = searchText(index, read);
  assert.ok(first.bodyIncludes("body text"));
  assert.equal(reads, 1, "the bytes the plan was made from serve the search that made it");
  const second = searchText(index, read);
  assert.equal(reads, 1);
  assert.equal(first.header, second.header);
  assert.ok(second.bodyIncludes("body text"));
  assert.ok(!second.bodyIncludes("body  text"));
  assert.equal(reads, 2, "the body is read from the stored bytes on each search");
  assert.equal(second.body, "body text\r\n");
  assert.equal(searchHeaders(index), searchHeaders(index));
});

Deno.test("search_text: address forms are kept only where the header text lacks them", () => {
  const plain = new MessageIndex(
    enc.encode("From: Ann <ann@x.org>\r\nTo: bob@y.org, team: c@d.e;\r\nSubject: s\r\n\r\n"),
  );
  assert.deepEqual(searchAddresses(plain), [], "nothing kept for ordinary headers");
  assert.equal(searchAddresses(plain), searchAddresses(plain), "computed once");
  const odd = new MessageIndex(enc.encode(
    "From: <user-from (comment)@ (comment) domain.org>\r\n" +
      'To: "Jo Doe" (work) <jo@Z.org>, =?utf-8?q?Caf=C3=A9?= <c@e.org>\r\n' +
      "Cc: x@y.z, <hidden@\r\n folded.example>\r\nSubject: <a (b)@ c>\r\n\r\n",
  ));
  assert.deepEqual(searchAddresses(odd), [
    { name: "from", value: "<user-from@domain.org>" },
    { name: "to", value: "jo doe <jo@z.org>\ncafé <c@e.org>" },
    { name: "cc", value: "<hidden@folded.example>" },
  ]);
});

Deno.test("search: FROM/TO/CC/BCC match parsed addresses, HEADER and SUBJECT the text", () => {
  const raw = enc.encode(
    "From: <user-from (comment)@ (comment) domain.org>\r\nSubject: <user-from (c)@ domain.org>\r\n\r\n",
  );
  const index = new MessageIndex(raw);
  const env = environment(fresh(), {
    messageCount: 1,
    headers: () => searchHeaders(index),
    addresses: () => searchAddresses(index),
  });
  const found = (program: string) => compileSearch(parse(program), env)(MAILBOX[0]);
  assert.equal(found("FROM user-from@domain.org"), true);
  assert.equal(found("FROM comment"), true, "the text still matches");
  assert.equal(found("HEADER From user-from@domain.org"), false);
  assert.equal(found("SUBJECT user-from@domain.org"), false);
  assert.equal(found("TO user-from@domain.org"), false);
});

Deno.test("search_text: a header of many odd addresses is read in one pass", () => {
  // Every probe misses (the names are quoted): after the first miss the rest are kept
  // without a scan each. A hang guard, not a speed test: quadratic work would time out.
  const count = 10_000;
  const list = Array.from({ length: count }, (_, i) => `"n${i}" <a${i}@x.org>`).join(", ");
  const index = new MessageIndex(enc.encode(`To: ${list}\r\n\r\n`));
  const [to] = searchAddresses(index);
  assert.equal(to.value.split("\n").length, count);
  assert.ok(to.value.startsWith("n0 <a0@x.org>\n"));
});

Deno.test("search: OLDER and YOUNGER (RFC 5032 4) count seconds back from the environment's now", () => {
  const day = 86_400;
  const cases: Array<[string, number[]]> = [
    // INTERNALDATEs: 1 is 3.0 days, 2 is 2.5 days, 3 is exactly 1 day before now.
    [`OLDER ${day}`, [1, 2, 3]],
    [`YOUNGER ${day}`, []],
    [`YOUNGER ${day + 1}`, [3]],
    [`OLDER ${day + 1}`, [1, 2]],
    [`YOUNGER ${3 * day}`, [2, 3]],
    [`OLDER ${3 * day} `.trim(), [1]],
    [`NOT YOUNGER ${3 * day}`, [1]],
    ["OLDER 4294967295", []],
    ["YOUNGER 4294967295", [1, 2, 3]],
  ];
  for (const [program, expected] of cases) assert.deepEqual(run(program), expected, program);
  // Another now, another answer: the key is evaluated against the environment's clock.
  assert.deepEqual(run(`YOUNGER ${day}`, { now: NOW - day * 1000 }), [3]);
  assert.deepEqual(run(`YOUNGER ${2 * day}`, { now: NOW - day * 1000 }), [2, 3]);
});

Deno.test("search: SAVEDBEFORE/SAVEDON/SAVEDSINCE use the save date's day, SAVEDATESUPPORTED all (RFC 8514 5)", () => {
  const cases: Array<[string, number[]]> = [
    // Save dates: 5 Mar 11:00, 6 Mar 00:00, 7 Mar 12:00 (UTC).
    ["SAVEDON 5-Mar-2026", [1]],
    ["SAVEDON 6-Mar-2026", [2]],
    ["SAVEDBEFORE 6-Mar-2026", [1]],
    ["SAVEDSINCE 6-Mar-2026", [2, 3]],
    ["SAVEDSINCE 8-Mar-2026", []],
    // The INTERNALDATE keys still see the other date.
    ["ON 5-Mar-2026", [3]],
    ["SAVEDATESUPPORTED", [1, 2, 3]],
  ];
  for (const [program, expected] of cases) assert.deepEqual(run(program), expected, program);
});

Deno.test("search: SEARCH TEXT on the SQLite store frees each message's bytes once tested, finds the same twice", async () => {
  await using db = await tempDb("search");
  const store = openSqliteStore(db.path);
  const freed = countFreed(store);
  const server = await startElektromail(testConfig({ httpPort: null }), { store, warmUp: false });
  try {
    for (let n = 1; n <= 40; n++) {
      const word = n % 4 === 0 ? "pangolin" : "aardvark";
      store.append("u", "INBOX", enc.encode(`Subject: m${n}\r\n\r\nA ${word} walks by, ${n}.\r\n`));
    }
    const { client } = await RawImap.connect(server.ports.imap);
    try {
      await client.command("a LOGIN u p");
      await client.command("b SELECT INBOX");
      const expected = "* SEARCH 4 8 12 16 20 24 28 32 36 40";
      // The first builds each message's text plan from its bytes, the second reads them again.
      for (const tag of ["c", "d"]) {
        const lines = await client.command(`${tag} SEARCH TEXT pangolin`);
        assert.equal(lines.find((line) => line.startsWith("* SEARCH")), expected);
        assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`));
      }
      assert.ok(freed() >= 70, `freed ${freed()} messages' bytes of 80 read`);
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
});
