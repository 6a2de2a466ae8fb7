import assert from "node:assert/strict";
import {
  decodeEncodedWords,
  findHeaderEnd,
  headerValue,
  parseHeaderFields,
} from "../../lib/mail/headers.ts";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { type MessageSummary, summarizeMessage, summaryOf } from "../../lib/mail/summary.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";

/** The summary as it was read before fields were passed over: every field parsed. */
function reference(raw: Uint8Array): MessageSummary {
  const fields = parseHeaderFields(raw, 0, findHeaderEnd(raw).headerEnd);
  const get = (name: string) => decodeEncodedWords(headerValue(fields, name) ?? "");
  return {
    subject: get("Subject"),
    from: get("From"),
    to: get("To"),
    cc: get("Cc"),
    date: headerValue(fields, "Date") ?? "",
    messageId: headerValue(fields, "Message-ID") ?? "",
  };
}

/** The summary as the memory store makes it, from the fields of the index it builds. */
function fromIndex(raw: Uint8Array): MessageSummary {
  return summaryOf(new MessageIndex(raw).parts.parsedRootFields!);
}

const bytes = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

Deno.test("summary: a delivered message's fields, trace fields passed over", () => {
  const raw = new TextEncoder().encode(
    "Return-Path: <a@b.c>\r\nDelivered-To: x@y.z\r\nReceived: from x\r\n\tby y; date\r\n" +
      "From: =?utf-8?q?J=C3=B6rg?= <j@x>\r\nTo: t@x\r\nCc: c@x\r\nSubject: Hi\r\n there\r\n" +
      "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m@x>\r\n\r\nSubject: body\r\n",
  );
  assert.deepEqual(summarizeMessage(raw), {
    subject: "Hi there",
    from: "Jörg <j@x>",
    to: "t@x",
    cc: "c@x",
    date: "Wed, 25 Nov 2026 10:00:00 +0000",
    messageId: "<m@x>",
  });
});

Deno.test("summary: odd names read as the full parse reads them", () => {
  const cases = [
    "\rSubject: after a CR\r\n\r\n",
    "Subject\xa0: NBSP after the name\r\n\r\n",
    "Subjects: not it\r\nContent-Type: text/plain\r\nDelivered-To: a@b\r\n\r\n",
    "\x0bFrom: after a VT\r\n\r\n",
    "\xa0To: after NBSP (Latin-1)\r\n\r\n",
    "\xc2\xa0Cc: after NBSP (UTF-8)\r\n\r\n",
    "\xef\xbb\xbfDate: after a BOM\r\n\r\n",
    "SUBJECT : spaced\r\nsubject: second\r\n\r\n",
    "Subject\r\n : colon on the next line\r\n\r\n",
    "X-Subject: not it\r\nmessage-id: <lower@x>\r\n\r\n",
    "From: \xe9t\xe9 (not UTF-8)\r\nTo: \xc3\xa9t\xc3\xa9\r\n\r\n",
    "Subject: no separator",
    "\r\nSubject: in the body\r\n",
  ];
  for (const text of cases) {
    const raw = bytes(text);
    assert.deepEqual(summarizeMessage(raw), reference(raw), JSON.stringify(text));
    assert.deepEqual(fromIndex(raw), reference(raw), JSON.stringify(text));
  }
});

Deno.test("summary: random headers read as the full parse reads them", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pieces = [
    "Subject",
    "subject",
    "From",
    "TO",
    "cc",
    "Date",
    "Message-ID",
    "X-Mailer",
    "Received",
    ": ",
    ":",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "\x0b",
    "\xa0",
    "\xc2\xa0",
    "=?utf-8?b?w6k=?=",
    "a",
    "\xe9",
    "\r\n ",
    "\r\n\r\n",
  ];
  for (let round = 0; round < 5000; round++) {
    let text = "";
    for (let i = 0, n = 1 + random(16); i < n; i++) text += pieces[random(pieces.length)];
    const raw = bytes(text);
    assert.deepEqual(summarizeMessage(raw), reference(raw), JSON.stringify(text));
    assert.deepEqual(fromIndex(raw), reference(raw), JSON.stringify(text));
  }
});

Deno.test("summary: the memory store's, made from the index it builds, is the bytes' summary", () => {
  const store = openMemoryStore();
  const raw = new TextEncoder().encode(
    "Received: from x\r\n\tby y; date\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n" +
      "Subject: Hi\r\n there\r\nTo: t@x\r\n\r\nbody\r\n",
  );
  const meta = store.append("amy", "INBOX", raw);
  assert.deepEqual(meta.summary, summarizeMessage(raw));
  // The index built for it is the one the store hands out, with all the root fields.
  const index = store.getIndex("amy", "INBOX", meta.uid)!;
  assert.equal(index.root.fields.length, 4);
  store.close();
});

Deno.test("summary: the memory store asks indexAtAppend for each message appended alone", () => {
  let asked = 0;
  let answer = false;
  const store = openMemoryStore({ indexAtAppend: () => (asked++, answer) });
  const raw = new TextEncoder().encode(
    "Received: from x\r\n\tby y; date\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n" +
      "Subject: Hi\r\n there\r\nTo: t@x\r\n\r\nbody\r\n",
  );
  // Not indexed as appended (no reader, in the server): the summary is read from the bytes.
  const first = store.append("amy", "INBOX", raw);
  assert.equal(asked, 1);
  assert.deepEqual(first.summary, summarizeMessage(raw));
  answer = true;
  const second = store.append("amy", "INBOX", raw);
  assert.equal(asked, 2);
  assert.deepEqual(second.summary, first.summary);
  // Several messages in one call are never indexed as appended: not asked.
  store.appendMessages("amy", "INBOX", [{ raw }, { raw }]);
  assert.equal(asked, 2);
  // Either way the index handed out has all the root fields.
  for (const uid of [first.uid, second.uid]) {
    assert.equal(store.getIndex("amy", "INBOX", uid)!.root.fields.length, 4);
  }
  store.close();
});
