/**
 * RFC 5256 2.1 base subjects, the sent-date reader SORT DATE uses (RFC 5256 2.2) and the
 * Message-ID lists THREAD reads (RFC 5256 4): known answers, each checked by hand against
 * the RFC's ABNF (and against Dovecot 2.3 where it reads the RFC its own way).
 *
 * @module
 */

import assert from "node:assert/strict";
import { baseSubject } from "../../lib/mail/base_subject.ts";
import { messageIds } from "../../lib/mail/message_id.ts";
import { sentDate } from "../../lib/mail/sent_date.ts";

Deno.test("baseSubject: RFC 5256 2.1 steps, with whether a reply/forward marker went", () => {
  const cases: Array<[string, string, boolean]> = [
    ["hello", "hello", false],
    ["Re: hello", "hello", true],
    ["RE:hello", "hello", true],
    ["re : hello", "hello", true],
    ["Fwd: Re: FW: hello", "hello", true],
    ["Re [2]: hello", "hello", true],
    ["Re[2]: hello", "hello", true],
    ["[list] Re: hello", "hello", true],
    ["[a] [b] Re: [c] Fwd: hello", "hello", true],
    // Step 4: a blob goes only when something follows it.
    ["[list] hello", "hello", false],
    ["[list]", "[list]", false],
    ["[a] [b]", "[b]", false],
    // Step 2: trailers, repeatedly.
    ["hello (fwd)", "hello", true],
    ["hello (FWD) (fwd)  ", "hello", true],
    ["hello(fwd)", "hello", true],
    // Step 6: [fwd: ...] and back to step 2.
    ["[fwd: hello]", "hello", true],
    ["[Fwd: Re: [list] hello (fwd)]", "hello", true],
    ["Re: [fwd: [fwd: hello]]", "hello", true],
    ["[fwd: hello] x", "x", false],
    // Step 1: white space packed; encoded words decoded (and the space between two dropped).
    ["  lots \t of\r\n  space  ", "lots of space", false],
    ["=?utf-8?q?Re=3A_Gr=C3=BC=C3=9Fe?=", "Grüße", true],
    ["Re: =?iso-8859-1?q?caf=E9?= =?utf-8?b?IG9r?=", "café ok", true],
    // Not markers: "re" must be followed by ":" (after white space and one blob).
    ["Regarding: x", "Regarding: x", false],
    ["Re hello", "Re hello", false],
    ["Re: ", "", true],
    ["", "", false],
    ["(fwd)", "", true],
  ];
  for (const [input, subject, replyOrForward] of cases) {
    assert.deepEqual(baseSubject(input), { subject, replyOrForward }, input);
  }
});

Deno.test("sentDate: RFC 5322 date-times in UTC, obsolete forms, and what is not a date", () => {
  const utc = (...parts: number[]) =>
    Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5] ?? 0);
  assert.equal(sentDate("Tue, 24 Nov 2026 23:30:00 -0800"), utc(2026, 11, 25, 7, 30));
  assert.equal(sentDate("1 Dec 2026 10:00 +1400"), utc(2026, 11, 30, 20, 0));
  assert.equal(sentDate("Fri, 13 Mar 98 09:00:00 GMT"), utc(1998, 3, 13, 9, 0));
  assert.equal(sentDate("13 Mar 49 09:00:00 GMT"), utc(2049, 3, 13, 9, 0));
  assert.equal(sentDate("25 Nov 2026 02:30 EST"), utc(2026, 11, 25, 7, 30));
  assert.equal(sentDate("Thu, 26 Nov 2026 01:02:03 +0100 (CET)"), utc(2026, 11, 26, 0, 2, 3));
  assert.equal(sentDate("Thu (a comment), 26 Nov 2026 01:02:03"), utc(2026, 11, 26, 1, 2, 3));
  assert.equal(sentDate("26 November 2026 01:02 +0000"), utc(2026, 11, 26, 1, 2));
  assert.equal(sentDate("13 Sep 275760 00:00 +0000"), 8.64e15, "the last day a Date holds");
  for (
    const bad of [
      "yesterday",
      "",
      "Sat, 31 Feb 2026 10:00:00 +0000",
      "26 Nov 2026",
      "26 Foo 2026 10:00",
      "32 Nov 2026 10:00",
      "26 Nov 2026 25:00",
      "26 Nov 300000 10:00", // past ECMAScript's dates, as `Date` found it
    ]
  ) {
    assert.equal(sentDate(bad), null, bad);
  }
});

Deno.test("messageIds: valid ids in order; junk, comments and ids without @ skipped", () => {
  assert.deepEqual(messageIds("<a@x> <b@y>"), ["a@x", "b@y"]);
  assert.deepEqual(messageIds('"Your message of Monday" <a@x>'), ["a@x"]);
  assert.deepEqual(messageIds("<a@x>\r\n\t<b (c) @y>"), ["a@x", "b@y"]);
  assert.deepEqual(messageIds("<garbage> <@x> <x@> <<a@x>"), ["a@x"]);
  assert.deepEqual(messageIds("<unterminated@x"), []);
  assert.deepEqual(messageIds(""), []);
});
