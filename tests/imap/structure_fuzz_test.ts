/**
 * Fuzzing message structure: random MIME trees and mutated corpus messages go through
 * parseMime, the ENVELOPE / BODY / BODYSTRUCTURE encoders and the section readers. Nothing
 * may throw, every structure must parse back as valid RFC 9051 syntax, and every section must
 * be a slice within the message. Deterministic (fixed seeds).
 */

import assert from "node:assert/strict";
import { mulberry32 } from "../harness/random.ts";
import { encodeBodyStructure } from "../../lib/imap/bodystructure.ts";
import { type Encoded, encodeEnvelope } from "../../lib/imap/envelope.ts";
import type { Section } from "../../lib/imap/parse_fetch.ts";
import { binaryBytes, binarySection, binarySize, sectionBytes } from "../../lib/imap/sections.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import { type MimePart, parseMime } from "../../lib/mail/mime.ts";
import { fixtures } from "./fixtures.ts";
import { checkBody, checkEnvelope, parseValue, SyntaxError } from "./structure_checker.ts";

const encoder = new TextEncoder();
const bytes = (value: Encoded) => typeof value === "string" ? encoder.encode(value) : value;

function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof prng>;

const ADDRESSES = [
  "a@b.example",
  '"Doe, J" <j@x>',
  "team: a@x, b@y;",
  "undisclosed-recipients:;",
  "<@r:u@h>",
  "alice",
  "<>",
  "=?UTF-8?Q?J=C3=B6rg?= <j@x>",
  '"unterminated <x@y>',
  "(comment) c@d (Name)",
  "J\xf6rg <j@x>",
  ",,;;::<<>>@@",
];
const TYPES = [
  "text/plain",
  "text/html; charset=utf-8",
  "application/octet-stream; name=a.bin",
  "image/png; name*=UTF-8''%E2%82%AC.png",
  "message/rfc822",
  "message/global",
  "application/pdf; name*0*=utf-8''a; name*1=b; name*2*=%20c",
  'text/plain; charset="iso-8859-1"; format=flowed (x)',
  ";;;=",
  "multipart/mixed",
  'TEXT/PLAIN; x="\xe9"',
];
const ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "BINARY", "?bad"];
const FIELDS = [
  'Content-Disposition: attachment; filename="a b.txt"',
  "Content-Disposition: inline",
  "Content-Disposition: ;;",
  "Content-ID: <id@x>",
  "Content-Description: d\xe9scription",
  "Content-Language: en, de (x)",
  "Content-Location: http://x/y",
  "Content-MD5: Q2hlY2s=",
];

function header(random: Random, nl: string, top: boolean): string {
  const lines: string[] = [];
  if (top || random.next() < 0.3) {
    for (const name of ["From", "To", "Cc", "Bcc", "Sender", "Reply-To"]) {
      if (random.next() < 0.4) lines.push(`${name}: ${random.pick(ADDRESSES)}`);
    }
    if (random.next() < 0.7) lines.push(`Subject: s${random.int(100)}${nl} folded \x01\xfe`);
    if (random.next() < 0.5) lines.push("Date: Wed, 25 Nov 2026 07:22:01 +0000");
    if (random.next() < 0.5) lines.push("Message-ID: <m@x>");
  }
  for (const field of FIELDS) if (random.next() < 0.15) lines.push(field);
  return lines.join(nl);
}

/** A random entity: header, empty line, body (any depth up to `depth`). */
function entity(random: Random, depth: number, nl: string, top = false): string {
  let head = header(random, nl, top);
  const roll = random.next();
  if (depth > 0 && roll < 0.35) {
    const boundary = `b${random.int(1000)}`;
    head += `${nl}Content-Type: multipart/${random.pick(["mixed", "alternative", "digest"])}; ` +
      `boundary="${boundary}"`;
    let body = random.next() < 0.3 ? `preamble${nl}` : "";
    const count = random.int(4);
    for (let i = 0; i < count; i++) {
      body += `--${boundary}${nl}${entity(random, depth - 1, nl)}${nl}`;
    }
    if (random.next() < 0.7) body += `--${boundary}--${nl}`;
    return `${head}${nl}${nl}${body}`;
  }
  if (depth > 0 && roll < 0.5) {
    head += `${nl}Content-Type: message/${random.pick(["rfc822", "global"])}`;
    return `${head}${nl}${nl}${entity(random, depth - 1, nl, true)}`;
  }
  head += `${nl}Content-Type: ${random.pick(TYPES)}`;
  head += `${nl}Content-Transfer-Encoding: ${random.pick(ENCODINGS)}`;
  const body = random.pick(["", "AAEC/w==", "a=3Db=\r\nc", "line\x00nul\xff", "x".repeat(100)]);
  return `${head}${nl}${nl}${body}`;
}

const TOKENS = ["--", "\r\n", "\n", ":", '"', "=?", "?=", ";", "*0*=", "(", ")", "<", ">", "\x00"];

function mutate(random: Random, raw: Uint8Array): Uint8Array {
  const out = [...raw];
  const edits = 1 + random.int(6);
  for (let i = 0; i < edits; i++) {
    const at = random.int(out.length + 1);
    const kind = random.int(4);
    if (kind === 0 && out.length > 0) out[Math.min(at, out.length - 1)] = random.int(256);
    else if (kind === 1) out.splice(at, random.int(20));
    else if (kind === 2) out.splice(at, 0, ...encoder.encode(random.pick(TOKENS)));
    else out.length = Math.min(out.length, at);
  }
  return new Uint8Array(out);
}

/** Part numbers of the tree (as findPart numbers them), plus a few that do not exist. */
function partNumbers(root: MimePart): number[][] {
  const out: number[][] = [[], [1], [9], [1, 9, 1]];
  const walk = (part: MimePart, prefix: number[]) => {
    const container = part.children.length > 0 ? part : part.message;
    if (!container) return;
    const children = container.children.length > 0 ? container.children : [container];
    children.forEach((child, i) => {
      const number = [...prefix, i + 1];
      out.push(number);
      if (child !== container) walk(child, number);
      else if (child.message) walk(child.message, number);
    });
  };
  walk(root, []);
  return out.slice(0, 40);
}

const TEXTS: Section["text"][] = [
  null,
  "HEADER",
  "TEXT",
  "MIME",
  "HEADER.FIELDS",
  "HEADER.FIELDS.NOT",
];

function exercise(raw: Uint8Array, label: string): void {
  const root = parseMime(raw);
  const envelope = bytes(encodeEnvelope(raw, root));
  try {
    checkEnvelope(parseValue(envelope));
    for (const extended of [false, true]) {
      for (const messageGlobal of [false, true]) {
        const body = bytes(encodeBodyStructure(raw, root, { extended, messageGlobal }));
        checkBody(parseValue(body), extended, messageGlobal);
      }
    }
  } catch (error) {
    throw new Error(
      `${label}: ${(error as Error).message}\n${JSON.stringify(String.fromCharCode(...raw))}`,
    );
  }
  const view = new MessageView(raw);
  for (const part of partNumbers(root)) {
    for (const text of TEXTS) {
      if (text === "MIME" && part.length === 0) continue;
      const fields = text?.startsWith("HEADER.FIELDS") ? ["Subject", "from"] : [];
      const data = sectionBytes(view, { part, text, fields });
      if (data && !text?.startsWith("HEADER.FIELDS")) {
        assert.equal(data.buffer, raw.buffer, `${label}: a slice of the message`);
        assert.ok(data.byteOffset + data.length <= raw.length, label);
      }
    }
    const section = binarySection(view, part);
    if (section.kind === "data") {
      assert.equal(binaryBytes(view, section.part).length, binarySize(view, section.part), label);
    }
  }
}

Deno.test("structure fuzz: random MIME trees", () => {
  const random = prng(2026);
  for (let n = 0; n < 600; n++) {
    const nl = random.next() < 0.8 ? "\r\n" : "\n";
    const text = entity(random, 4, nl, true);
    exercise(Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff), `random #${n}`);
  }
});

Deno.test("structure fuzz: mutated corpus messages", () => {
  const random = prng(11);
  const corpus = fixtures();
  for (let n = 0; n < 900; n++) {
    const [name, raw] = corpus[n % corpus.length];
    exercise(mutate(random, raw), `${name} mutation #${n}`);
  }
});

Deno.test("structure checker: catches what is not valid", () => {
  const bad = [
    '("a" "b")',
    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
    '"unterminated',
    "{5}\r\nabc",
    '"caf\xe9"',
    '("text" "plain" NIL NIL NIL "7bit" 3)',
    '("text" "plain" ("charset") NIL NIL "7bit" 3 1)',
    '(("text" "plain" NIL NIL NIL "7bit" 3 1))',
  ];
  for (const text of bad) {
    assert.throws(
      () => {
        const value = parseValue(Uint8Array.from(text, (c) => c.charCodeAt(0)));
        if (text.startsWith("(NIL")) checkEnvelope(value);
        else checkBody(value, false);
      },
      SyntaxError,
      text,
    );
  }
  // Group markers must pair up.
  assert.throws(
    () =>
      checkEnvelope(
        parseValue(
          encoder.encode('(NIL NIL ((NIL NIL "g" NIL)) NIL NIL NIL NIL NIL NIL NIL)'),
        ),
      ),
    SyntaxError,
  );
});
