/**
 * The record-only FETCH path (lib/imap/fetch_meta.ts: UID, FLAGS, MODSEQ, RFC822.SIZE,
 * INTERNALDATE, written as bytes) answers as the general path does. Adding an item that reads
 * the message (`BODY.PEEK[HEADER.FIELDS (X-NONE)]`, an empty header section) sends the same
 * FETCH through the general path; with that item's text taken out, the lines must match,
 * over a mailbox with mixed flag lists, `\Recent` on some messages, multi-digit numbers and
 * an answer past the point where a long FETCH is written out mid-command.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { RawImap } from "./raw_client.ts";

const PROBE = "BODY.PEEK[HEADER.FIELDS (X-NONE)]<0.10>";
/**
 * What the probe item adds to a line of the general path: the empty header section. With a
 * partial, which the header-list path (fetch_header_fields.ts) leaves to the general one.
 */
const PROBE_TEXT = / BODY\[HEADER\.FIELDS \(X-NONE\)\]<0> \{2\}$/;

/**
 * Sends `command` and returns its FETCH lines and the tagged one (other untagged responses,
 * such as CONDSTORE's first HIGHESTMODSEQ, left out), the probe's literal joined back.
 */
async function fetchLines(client: RawImap, tag: string, command: string): Promise<string[]> {
  await client.write(`${tag} ${command}\r\n`);
  const lines = await client.readUntilTagged(tag);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (PROBE_TEXT.test(lines[i])) {
      // `{2}` CRLF, then CRLF (the literal), then `)`: one line again.
      assert.equal(lines[i + 1], "");
      out.push(lines[i].replace(PROBE_TEXT, "") + lines[i + 2]);
      i += 2;
    } else if (!lines[i].startsWith("* ") || / FETCH \(/.test(lines[i])) out.push(lines[i]);
  }
  return out;
}

Deno.test("record-only FETCH answers as the general path, past a mid-command write", async () => {
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
  );
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("a0 LOGIN user pw");
    // Enough messages that `FETCH 1:*` of every item passes 256 KiB of output.
    const count = 2600;
    const parts: string[] = [];
    for (let n = 0; n < count; n++) {
      const body = `Subject: m${n}\r\n\r\n${"x".repeat(n % 50)}\r\n`;
      const flags = n % 7 === 0 ? "(\\Seen $Label1) " : n % 3 === 0 ? "(\\Flagged) " : "";
      parts.push(`p${n} APPEND INBOX ${flags}{${body.length}+}\r\n${body}\r\n`);
    }
    await client.write(parts.join(""));
    const appended = await client.readUntilTagged(`p${count - 1}`);
    assert.match(appended[appended.length - 1], /OK/);
    // Fresh from a burst, each message has a MODSEQ of its own, one above the one before:
    // lines counted up from the one before them, MODSEQ across 9 and 99 too; and a message
    // whose flags came back as they were has the same flags as its neighbours but a MODSEQ
    // far above theirs.
    const { client: other } = await RawImap.connect(server.ports.imap);
    try {
      await other.command("b0 LOGIN user pw");
      await other.command("b1 CREATE Burst");
      const burst = Array.from({ length: 120 }, (_, n) => {
        const body = `Subject: b${n}\r\n\r\nb\r\n`;
        return `q${n} APPEND Burst {${body.length}+}\r\n${body}\r\n`;
      });
      await other.write(burst.join(""));
      const done = await other.readUntilTagged("q119");
      assert.match(done[done.length - 1], /OK/);
      await other.command("b2 ENABLE CONDSTORE");
      await other.command("b3 SELECT Burst");
      const lines = await fetchLines(other, "f0", "FETCH 8:11 (UID FLAGS)");
      assert.deepEqual(lines.slice(0, -1).map((line) => /MODSEQ \((\d+)\)/.exec(line)?.[1]), [
        "9",
        "10",
        "11",
        "12",
      ]);
      await other.command("b4 STORE 50 +FLAGS.SILENT (\\Draft)");
      await other.command("b5 STORE 50 -FLAGS.SILENT (\\Draft)");
      for (const items of ["UID FLAGS", "FLAGS", "MODSEQ", "MODSEQ UID"]) {
        const fast = await fetchLines(other, "f1", `FETCH 1:* (${items})`);
        const general = await fetchLines(other, "f2", `FETCH 1:* (${items} ${PROBE})`);
        assert.equal(fast.length, 121, items);
        assert.deepEqual(fast.slice(0, -1), general.slice(0, -1), items);
      }
      await other.command("b6 LOGOUT");
    } finally {
      other.close();
    }
    // A rev1 session reports \Recent: this one claims every message at SELECT.
    await client.command("s1 SELECT INBOX");
    await client.command("s2 STORE 1:* +FLAGS.SILENT ($Other)");
    await client.command("s3 STORE 2:40 -FLAGS.SILENT (\\Seen $Other)");
    // Without CONDSTORE FLAGS may end the line (its cached bytes then end it), or lead it.
    for (const items of ["UID FLAGS", "FLAGS", "FLAGS UID", "RFC822.SIZE FLAGS UID FLAGS"]) {
      const fast = await fetchLines(client, "f1", `FETCH 1:* (${items})`);
      const general = await fetchLines(client, "f2", `FETCH 1:* (${items} ${PROBE})`);
      assert.equal(fast.length, count + 1, items);
      assert.deepEqual(fast.slice(0, -1), general.slice(0, -1), items);
    }
    await client.command("c1 ENABLE CONDSTORE");
    for (
      const items of [
        "UID FLAGS",
        "FLAGS UID MODSEQ",
        "UID RFC822.SIZE INTERNALDATE FLAGS MODSEQ",
        "UID UID FLAGS FLAGS",
        "INTERNALDATE",
      ]
    ) {
      const fast = await fetchLines(client, "f1", `FETCH 1:* (${items})`);
      const general = await fetchLines(client, "f2", `FETCH 1:* (${items} ${PROBE})`);
      assert.equal(fast.length, count + 1, items);
      assert.deepEqual(fast.slice(0, -1), general.slice(0, -1), items);
      assert.match(fast[fast.length - 1], /^f1 OK/);
      assert.match(fast[0], /^\* 1 FETCH \(/);
    }
    const byUid = await fetchLines(client, "u1", "UID FETCH 2590:* (FLAGS)");
    assert.deepEqual(byUid.slice(0, 2), [
      // UID n is the message appended as p<n-1>.
      "* 2590 FETCH (UID 2590 FLAGS (\\Flagged $Other \\Recent) MODSEQ (2602))",
      "* 2591 FETCH (UID 2591 FLAGS (\\Seen $Label1 $Other \\Recent) MODSEQ (2602))",
    ]);
    const general = await fetchLines(client, "u2", `UID FETCH 2590:* (FLAGS ${PROBE})`);
    assert.equal(byUid.length, 12);
    assert.deepEqual(byUid.slice(0, -1), general.slice(0, -1));
    await client.command("z LOGOUT");
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("record-only FETCH answers as the general path over runs, long flag lists and CHANGEDSINCE", async () => {
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
  );
  const { client } = await RawImap.connect(server.ports.imap);
  try {
    await client.command("a0 LOGIN user pw");
    const parts: string[] = [];
    for (let n = 0; n < 12; n++) {
      const body = `Subject: m${n}\r\n\r\n${"y".repeat(n)}\r\n`;
      parts.push(`p${n} APPEND INBOX {${body.length}+}\r\n${body}\r\n`);
    }
    await client.write(parts.join(""));
    const appended = await client.readUntilTagged("p11");
    assert.match(appended[appended.length - 1], /OK/);
    await client.command("s1 SELECT INBOX");
    // Flag lists far longer than a line's guessed size: a FETCH of a few messages outgrows
    // the buffer it starts with.
    const keywords = Array.from({ length: 12 }, (_, i) => `$AVeryLongKeywordNumber${i}`);
    await client.command(`s2 STORE 2:7 +FLAGS.SILENT (${keywords.join(" ")})`);
    await client.command("s3 STORE 9 +FLAGS.SILENT (\\Answered)");
    for (
      const command of [
        "FETCH 1:* (UID FLAGS)",
        "FETCH 1:2,4,6:9,11:* (UID FLAGS)",
        "FETCH 12,3:5 (FLAGS RFC822.SIZE UID)",
        "UID FETCH 2:3,8:* (FLAGS)",
      ]
    ) {
      const fast = await fetchLines(client, "f1", command);
      const general = await fetchLines(client, "f2", command.replace(/\)$/, ` ${PROBE})`));
      assert.match(fast[fast.length - 1], /^f1 OK/, command);
      assert.deepEqual(fast.slice(0, -1), general.slice(0, -1), command);
    }
    await client.command("c1 ENABLE CONDSTORE");
    const status = await client.command("c2 STATUS INBOX (HIGHESTMODSEQ)");
    const since = Number(/HIGHESTMODSEQ (\d+)/.exec(status.join("\n"))?.[1]);
    await client.command("c3 STORE 3,8,10 +FLAGS.SILENT (\\Flagged)");
    const fast = await fetchLines(client, "f1", `FETCH 1:* (UID FLAGS) (CHANGEDSINCE ${since})`);
    const general = await fetchLines(
      client,
      "f2",
      `FETCH 1:* (UID FLAGS ${PROBE}) (CHANGEDSINCE ${since})`,
    );
    assert.equal(fast.length, 4);
    assert.deepEqual(fast.slice(0, -1), general.slice(0, -1));
    assert.match(fast[0], /^\* 3 FETCH \(UID 3 FLAGS \(.*\\Flagged.*\) MODSEQ \(\d+\)\)$/);
    await client.command("z LOGOUT");
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("record-only FETCH answers as the general path across expunges, UID gaps and two views", async () => {
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
  );
  const { client: a } = await RawImap.connect(server.ports.imap);
  const { client: b } = await RawImap.connect(server.ports.imap);
  try {
    await a.command("a0 LOGIN user pw");
    await b.command("b0 LOGIN user pw");
    // UIDs 1..1205; the numbers cross 9, 99 and 999, and UIDs 100..104, 997 and 1099 go, so
    // that later UIDs run ahead of their sequence numbers (1000 is UID 1006).
    const count = 1205;
    const parts: string[] = [];
    for (let n = 0; n < count; n++) {
      const body = `Subject: m${n}\r\n\r\n${"z".repeat(n % 9)}\r\n`;
      const flags = n >= 600 && n < 620 ? "(\\Answered) " : "";
      parts.push(`p${n} APPEND INBOX ${flags}{${body.length}+}\r\n${body}\r\n`);
    }
    await a.write(parts.join(""));
    const appended = await a.readUntilTagged(`p${count - 1}`);
    assert.match(appended[appended.length - 1], /OK/);
    // Session a claims every message as \Recent (rev1); b sees none recent.
    await a.command("s1 SELECT INBOX");
    await b.command("t1 SELECT INBOX");
    await b.command("t2 UID STORE 100:104,997,1099 +FLAGS.SILENT (\\Deleted)");
    await b.command("t3 EXPUNGE");
    // a has not been told: during its FETCH the expunged messages keep their numbers and
    // are missing from the store (both paths answer NO [EXPUNGEISSUED]).
    const compare = async (client: RawImap, items: string, label: string) => {
      const fast = await fetchLines(client, "f1", `FETCH 1:* (${items})`);
      const general = await fetchLines(client, "f2", `FETCH 1:* (${items} ${PROBE})`);
      assert.deepEqual(fast.slice(0, -1), general.slice(0, -1), `${label}: ${items}`);
      assert.equal(
        fast[fast.length - 1].slice(3),
        general[general.length - 1].slice(3),
        `${label}: ${items}`,
      );
      return fast;
    };
    for (const items of ["UID FLAGS", "FLAGS", "FLAGS UID"]) {
      const lines = await compare(a, items, "a before NOOP");
      assert.equal(lines.length, count - 7 + 1);
      assert.match(lines[lines.length - 1], /^f1 NO \[EXPUNGEISSUED\]/);
    }
    await a.command("s2 NOOP");
    for (const items of ["UID FLAGS", "FLAGS", "FLAGS UID"]) {
      const lines = await compare(a, items, "a after NOOP");
      assert.equal(lines.length, count - 7 + 1);
      assert.match(lines[lines.length - 1], /^f1 OK/);
    }
    for (const items of ["UID FLAGS", "FLAGS"]) await compare(b, items, "b");
    // The UID gains a digit where the sequence number does not, and then the other way.
    const lines = await fetchLines(b, "f3", "FETCH 992:1000 (UID FLAGS)");
    assert.deepEqual(lines.slice(0, -1), [
      "* 992 FETCH (UID 998 FLAGS ())",
      "* 993 FETCH (UID 999 FLAGS ())",
      "* 994 FETCH (UID 1000 FLAGS ())",
      "* 995 FETCH (UID 1001 FLAGS ())",
      "* 996 FETCH (UID 1002 FLAGS ())",
      "* 997 FETCH (UID 1003 FLAGS ())",
      "* 998 FETCH (UID 1004 FLAGS ())",
      "* 999 FETCH (UID 1005 FLAGS ())",
      "* 1000 FETCH (UID 1006 FLAGS ())",
    ]);
    await a.command("z LOGOUT");
    await b.command("z LOGOUT");
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});
