/**
 * SORT and THREAD=ORDEREDSUBJECT on random mailboxes, checked against a second, independent
 * implementation written here from RFC 5256: base subjects with regular expressions (fine on
 * this test's own data), keys from the generated header values rather than a parse of the
 * stored bytes, and a plain sort. The server is driven over TCP, so the whole path (parser,
 * search, keys cached in the index, writer) is under test. Seeds are fixed: a failure
 * reproduces.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mulberry32 } from "../harness/random.ts";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import { RawImap } from "../raw_imap.ts";

const WORDS = ["alpha", "Beta", "gamma", "ALPHA", "delta x", "zeta", "Ärger", "éclair"];
const PREFIXES = [
  "",
  "Re: ",
  "RE: ",
  "Fwd: ",
  "Fw:",
  "re:  ",
  "[list] ",
  "[a][b] Re: ",
  "Re [x]: ",
];
const SUFFIXES = ["", " (fwd)", "  ", "(FWD)"];
const LOCALS = ["amy", "Bob", "carl", "dora", "ELI", "finn", "émile"];

interface Generated {
  subject: string | null;
  from: string | null;
  /** The `Date:` instant, or null for none / an unreadable one. */
  date: number | null;
  dateText: string | null;
  internalDate: number;
  size: number;
  raw: Uint8Array;
}

function generate(next: () => number, count: number): Generated[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    const word = pick(WORDS);
    let subject: string | null = pick(PREFIXES) + word + pick(SUFFIXES);
    if (next() < 0.15) subject = `[fwd: ${subject}]`;
    if (next() < 0.1) subject = null;
    const from = next() < 0.1 ? null : pick(LOCALS);
    const hour = Math.floor(next() * 6);
    const date = next() < 0.2 ? null : Date.UTC(2026, 10, 20, hour, 0, 0);
    const zone = pick([0, 60, -300]);
    const dateText = date === null
      ? (next() < 0.5 ? null : "not a date")
      : new Date(date + zone * 60_000).toUTCString().replace("GMT", zoneText(zone));
    const headers = [
      subject === null ? null : `Subject: ${subject}`,
      from === null ? null : `From: Someone <${from}@example.com>`,
      dateText === null ? null : `Date: ${dateText}`,
    ].filter((line) => line !== null);
    const raw = new TextEncoder().encode(`${headers.join("\r\n")}\r\n\r\n${"x".repeat(i % 5)}\r\n`);
    const internalDate = Date.UTC(2026, 10, 21, Math.floor(next() * 4), 0, 0);
    out.push({ subject, from, date, dateText, internalDate, size: raw.length, raw });
  }
  return out;
}

function zoneText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${
    String(abs % 60).padStart(2, "0")
  }`;
}

/** RFC 5256 2.1, the reference way: regular expressions applied until nothing changes. */
function referenceBase(subject: string): string {
  let s = subject.replace(/[\t ]+/g, " ");
  for (;;) {
    const before = s;
    s = s.replace(/(?:\(fwd\)| )+$/i, "");
    for (;;) {
      const inner = s;
      s = s.replace(/^(?:(?:\[[^\[\]]*\] *)*(?:re|fwd?) *(?:\[[^\[\]]*\] *)?:| )/i, "");
      const blob = /^\[[^\[\]]*\] */.exec(s);
      if (blob && s.slice(blob[0].length).trim() !== "") s = s.slice(blob[0].length);
      if (s === inner) break;
    }
    const wrapped = /^\[fwd:(.*)\]$/i.exec(s);
    if (wrapped) s = wrapped[1];
    if (s === before) return s;
  }
}

// i;unicode-casemap for this data: upper case, then canonical decomposition (É sorts as E).
const fold = (text: string) => text.toUpperCase().normalize("NFKD");
const compare = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

function referenceSort(messages: Generated[], key: string, reverse: boolean): number[] {
  const value = (m: Generated) => {
    switch (key) {
      case "SUBJECT":
        return fold(referenceBase(m.subject ?? ""));
      case "FROM":
        return fold(m.from ?? "");
      case "DATE":
        return m.date ?? m.internalDate;
      case "ARRIVAL":
        return m.internalDate;
      default:
        return m.size;
    }
  };
  const seqs = messages.map((_, i) => i + 1);
  return seqs.sort((a, b) => {
    const x = value(messages[a - 1]);
    const y = value(messages[b - 1]);
    const order = typeof x === "string" ? compare(x, y as string) : x - (y as number);
    return (reverse ? -order : order) || a - b;
  });
}

function referenceOrderedSubject(messages: Generated[]): string {
  const seqs = referenceSort(messages, "SUBJECT", false);
  const sentDate = (seq: number) => messages[seq - 1].date ?? messages[seq - 1].internalDate;
  const groups = new Map<string, number[]>();
  for (const seq of seqs) {
    const key = fold(referenceBase(messages[seq - 1].subject ?? ""));
    groups.set(key, [...(groups.get(key) ?? []), seq]);
  }
  const threads = [...groups.values()].map((group) =>
    group.sort((a, b) => sentDate(a) - sentDate(b) || a - b)
  );
  threads.sort((a, b) => sentDate(a[0]) - sentDate(b[0]) || a[0] - b[0]);
  return threads.map(([first, ...rest]) => {
    if (rest.length === 0) return `(${first})`;
    if (rest.length === 1) return `(${first} ${rest[0]})`;
    return `(${first} ${rest.map((seq) => `(${seq})`).join("")})`;
  }).join("");
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  Deno.test(`SORT and THREAD ORDEREDSUBJECT match a reference implementation (seed ${seed})`, async () => {
    const messages = generate(mulberry32(seed), 25 + seed * 5);
    const server = await startElektromail(testConfig({ httpPort: null }));
    const user = "alice";
    server.store.ensureUser(user);
    for (const m of messages) {
      server.store.append(user, "INBOX", m.raw, { internalDate: m.internalDate });
    }
    const imap = await RawImap.connect(server.ports.imap!);
    try {
      await imap.command("LOGIN alice x");
      await imap.command("SELECT INBOX");
      for (const key of ["SUBJECT", "FROM", "DATE", "ARRIVAL", "SIZE"]) {
        for (const reverse of [false, true]) {
          const lines = await imap.command(`SORT (${reverse ? "REVERSE " : ""}${key}) UTF-8 ALL`);
          const expected = referenceSort(messages, key, reverse).join(" ");
          assert.equal(lines[0], `* SORT ${expected}`, `${key} reverse=${reverse}`);
        }
      }
      const threads = await imap.command("THREAD ORDEREDSUBJECT UTF-8 ALL");
      assert.equal(threads[0], `* THREAD ${referenceOrderedSubject(messages)}`);
    } finally {
      imap.close();
      await server.stop();
    }
  });
}
