import assert from "node:assert/strict";
import { MessageIndex } from "../../lib/mail/message_index.ts";
import { TableSlab } from "../../lib/mail/mime_table.ts";
import { lowerCase } from "../../lib/mail/params.ts";
import {
  decodeBase64Bytes,
  decodeBody,
  decodeBodyText,
  decodeQuotedPrintable,
  extractContent,
  findPart,
  MAX_MIME_PARTS,
  type MimePart,
  parseContentType,
  parseMime,
  parseParameterized,
  splitMultipart,
  splitParameters,
} from "../../lib/mail/mime.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const crlf = (text: string) => text.replace(/\n/g, "\r\n");
const body = (raw: Uint8Array, part: MimePart) => dec(raw.subarray(part.bodyStart, part.bodyEnd));

const MIXED = crlf(`From: a@example.com
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe, soft=
 break
--inner
Content-Type: text/html; charset=utf-8

<p>Hi</p>
--inner--
--outer
Content-Type: application/pdf; name="ignored.pdf"
Content-Disposition: attachment;
 filename*0*=utf-8''%E2%82%AC%20rep;
 filename*1="ort.pdf"
Content-Transfer-Encoding: base64
Content-ID: <pdf@x>

SGVsbG8g
d29ybGQ=
--outer
Content-Type: message/rfc822

Subject: inner message
Content-Type: multipart/mixed; boundary=deep

--deep
Content-Type: text/plain

deep one
--deep
Content-Type: image/png

PNG
--deep--
--outer--
epilogue
`);

Deno.test("mime: nested multipart offsets, numbering and encapsulated messages", () => {
  const raw = enc(MIXED);
  const root = parseMime(raw);
  assert.equal(root.contentType.type, "multipart");
  assert.equal(root.contentType.subtype, "mixed");
  assert.equal(root.children.length, 3);
  const [alternative, pdf, message] = root.children;
  assert.equal(alternative.partNumber, "1");
  assert.deepEqual(alternative.children.map((c) => c.partNumber), ["1.1", "1.2"]);
  assert.equal(body(raw, alternative.children[1]), "<p>Hi</p>");
  assert.equal(dec(raw.subarray(pdf.headerStart, pdf.headerStart + 13)), "Content-Type:");
  assert.equal(pdf.disposition?.params.filename, "€ report.pdf");
  assert.equal(pdf.contentId, "pdf@x");
  assert.equal(dec(decodeBody(raw, pdf)), "Hello world");
  assert.equal(message.contentType.subtype, "rfc822");
  assert.ok(message.message);
  assert.deepEqual(message.message.children.map((c) => c.partNumber), ["3.1", "3.2"]);
  assert.equal(findPart(root, "3.2")?.contentType.subtype, "png");
  assert.equal(findPart(root, "3.1")?.partNumber, "3.1");
  assert.equal(findPart(root, "1.1")?.contentType.subtype, "plain");
  assert.equal(findPart(root, "4"), undefined);
  assert.equal(findPart(root, "2.1"), undefined);
  assert.equal(findPart(root, "0"), undefined);
  assert.equal(decodeBodyText(raw, alternative.children[0]), "Grüße, soft break");
  // The last part ends before the CRLF that precedes the close delimiter.
  assert.equal(body(raw, message.message.children[1]), "PNG");
});

Deno.test("mime: extractContent picks bodies and lists attachments", () => {
  const raw = enc(MIXED);
  const content = extractContent(raw, parseMime(raw));
  assert.equal(content.text, "Grüße, soft break");
  assert.equal(content.html, "<p>Hi</p>");
  assert.equal(content.textPart, "1.1");
  assert.deepEqual(content.attachments.map((a) => [a.part, a.filename, a.contentType, a.size]), [
    ["2", "€ report.pdf", "application/pdf", 11],
    [
      "3",
      null,
      "message/rfc822",
      findPart(parseMime(raw), "3")!.bodyEnd -
      findPart(parseMime(raw), "3")!.bodyStart,
    ],
  ]);
  assert.equal(content.attachments[0].disposition, "attachment");
  assert.equal(content.attachments[0].contentId, "pdf@x");
});

Deno.test("mime: single-part message is part 1", () => {
  const bytes = Uint8Array.from(
    "Subject: x\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n\xe9t\xe9",
    (c) => c.charCodeAt(0),
  );
  const root = parseMime(bytes);
  assert.equal(findPart(root, "1"), root);
  assert.equal(findPart(root, "1.1"), undefined);
  const content = extractContent(bytes, root);
  assert.equal(content.html, "été");
  assert.equal(content.text, null);
  assert.equal(content.htmlPart, "1");
});

Deno.test("mime: broken mail never throws and gets a sensible structure", () => {
  const cases: Record<string, (root: MimePart, raw: Uint8Array) => void> = {
    "": (root) => {
      assert.equal(root.contentType.subtype, "plain");
      assert.equal(root.bodyStart, 0);
      assert.equal(root.bodyEnd, 0);
    },
    "Subject: no separator\r\nFrom: x": (root, raw) => {
      assert.equal(root.fields.length, 2);
      assert.equal(root.bodyStart, raw.length);
    },
    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbare lf\n--b\n\nsecond, never closed\n":
      (root, raw) => {
        assert.equal(root.children.length, 2);
        assert.equal(body(raw, root.children[0]), "bare lf");
        assert.equal(body(raw, root.children[1]), "second, never closed\n");
      },
    "Content-Type: multipart/mixed\r\n\r\nno boundary": (root) => {
      assert.equal(root.contentType.type, "text");
      assert.equal(root.children.length, 0);
    },
    "Content-Type: multipart/mixed; boundary=zz\r\n\r\nno delimiter here": (root, raw) => {
      assert.equal(root.children.length, 1);
      assert.equal(body(raw, root.children[0]), "no delimiter here");
    },
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nheaderless body\r\n--bb\r\n--b--": (
      root,
      raw,
    ) => {
      // "--bb" starts with the delimiter "--b": a delimiter (RFC 2046 5.1.1; Dovecot too).
      assert.equal(root.children.length, 2);
      assert.equal(body(raw, root.children[0]), "headerless body");
      assert.equal(body(raw, root.children[1]), "");
    },
    "Subject: \xff\xfe 8-bit\r\n\r\nbody": (root) => {
      assert.equal(root.fields[0].name, "Subject");
    },
    "Content-Type: ;;;=\r\nContent-Disposition: attachment; filename*0*=bad'%zz\r\n\r\n": (
      root,
    ) => {
      assert.equal(root.contentType.type, "text");
    },
  };
  for (const [text, check] of Object.entries(cases)) {
    const raw = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const root = parseMime(raw);
    check(root, raw);
    extractContent(raw, root);
  }
});

Deno.test("mime: deep nesting is bounded", () => {
  let text = "";
  for (let i = 0; i < 500; i++) {
    text += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  }
  text += "\r\nleaf\r\n";
  const raw = enc(text);
  const root = parseMime(raw);
  let depth = 0;
  for (let node = root; node.children.length > 0; node = node.children[0]) depth++;
  assert.ok(depth > 10 && depth <= 64, `depth ${depth}`);
});

Deno.test("mime: parameters with RFC 2231 charsets, continuations, quotes and comments", () => {
  const value = 'Text/Plain; CHARSET="UTF-8" (comment); format=flowed';
  assert.deepEqual(parseContentType(value), {
    type: "text",
    subtype: "plain",
    params: { charset: "UTF-8", format: "flowed" },
    // As written too, for BODYSTRUCTURE (tokenized once for both).
    written: {
      source: value,
      type: "Text/Plain",
      params: [
        { name: "CHARSET", value: "UTF-8", quoted: true },
        { name: "format", value: "flowed", quoted: false },
      ],
    },
  });
  assert.equal(
    parseParameterized("attachment; filename*=iso-8859-1'fr'%E9t%E9.txt").params.filename,
    "été.txt",
  );
  assert.equal(
    parseParameterized('attachment; filename="=?UTF-8?B?w6l0w6kudHh0?="').params.filename,
    "été.txt",
  );
  assert.equal(
    parseParameterized('inline; filename*1="b.txt"; filename*0="a "').params.filename,
    "a b.txt",
  );
  assert.equal(parseParameterized('x; a="q\\"uote"').params.a, 'q"uote');
});

Deno.test("mime: transfer decoders", () => {
  assert.equal(dec(decodeBase64Bytes(enc("SGV\r\nsbG8=\r\n"))), "Hello");
  assert.equal(dec(decodeBase64Bytes(enc("SGVsbG8"))), "Hello");
  assert.equal(dec(decodeQuotedPrintable(enc("a=3Db  \r\nc=\r\nd =ZZ"))), "a=b\r\ncd =ZZ");
  assert.equal(dec(decodeQuotedPrintable(enc("x=\ny\n"))), "xy\n");
  const big = new Uint8Array(3_000_000).fill(0x41);
  const started = performance.now();
  assert.equal(decodeBase64Bytes(big).length, 2_250_000);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("mime: every truncation of a nested message parses with offsets in bounds", () => {
  const full = enc(MIXED);
  const check = (part: MimePart, length: number) => {
    assert.ok(part.headerStart <= part.headerEnd && part.headerEnd <= part.bodyStart);
    assert.ok(part.bodyStart <= part.bodyEnd && part.bodyEnd <= length);
    for (const child of part.children) {
      assert.ok(child.headerStart >= part.bodyStart && child.bodyEnd <= part.bodyEnd);
      check(child, length);
    }
    if (part.message) check(part.message, length);
  };
  for (let length = 0; length <= full.length; length++) {
    const raw = full.subarray(0, length);
    const root = parseMime(raw);
    check(root, length);
    extractContent(raw, root);
  }
  // And with bare LF line ends throughout.
  const lf = enc(MIXED.replace(/\r\n/g, "\n"));
  const root = parseMime(lf);
  assert.deepEqual(root.children.map((c) => c.contentType.subtype), [
    "alternative",
    "pdf",
    "rfc822",
  ]);
  assert.equal(extractContent(lf, root).html, "<p>Hi</p>");
});

Deno.test("mime: digest defaults, message/global, and encoded message parts", () => {
  const raw = enc(crlf(`Content-Type: multipart/digest; boundary=d

--d

Subject: first

one
--d
Content-Type: message/global

Subject: =?UTF-8?Q?gl=C3=B6bal?=

two
--d
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogeAoKeQ==
--d--
`));
  const root = parseMime(raw);
  const [first, global, encoded] = root.children;
  assert.equal(first.contentType.type, "message");
  assert.equal(first.message?.fields[0].value, "first");
  assert.equal(body(raw, first.message!), "one");
  assert.equal(global.message?.fields[0].name, "Subject");
  assert.equal(findPart(root, "2.1"), global.message);
  assert.equal(encoded.message, null, "an encoded message part is a leaf");
  assert.equal(dec(decodeBody(raw, encoded)), "Subject: x\n\ny");
});

Deno.test("mime: an 8 MB attachment parses and decodes quickly", () => {
  const payload = "QUJD".repeat(2 * 1024 * 1024).replace(/(.{76})/g, "$1\r\n");
  const raw = enc(
    crlf(`Content-Type: multipart/mixed; boundary=big

--big
Content-Type: text/plain

hello
--big
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

`) + payload + "\r\n--big--\r\n",
  );
  const started = performance.now();
  const root = parseMime(raw);
  const content = extractContent(raw, root);
  const decoded = decodeBody(raw, root.children[1]);
  const elapsed = performance.now() - started;
  assert.equal(content.text, "hello");
  assert.equal(content.attachments[0].size, decoded.length);
  assert.equal(dec(decoded.subarray(0, 6)), "ABCABC");
  assert.ok(elapsed < 2000, `took ${elapsed} ms`);
});

Deno.test("TableSlab: tables cut from a shared slab read as tables of their own", () => {
  const encoder = new TextEncoder();
  const slab = new TableSlab(512);
  const messages = Array.from({ length: 40 }, (_, i) =>
    encoder.encode(
      i % 7 === 3
        ? `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none ${i}\r\n--b--\r\n`
        : `Subject: ${"x".repeat(i * 17)}\r\nFrom: a${i}@b.org\r\n\r\nbody ${i}\r\n`,
    ));
  const shared = messages.map((raw) => new MessageIndex(raw, slab));
  messages.forEach((raw, i) => {
    const own = new MessageIndex(raw).parts;
    const cut = shared[i].parts;
    assert.equal(cut.size, own.size);
    assert.deepEqual(cut.rootHeader, own.rootHeader);
    for (let row = 0; row < own.size; row++) {
      for (let column = 0; column < 4; column++) {
        assert.equal(cut.offset(row, column), own.offset(row, column));
      }
      assert.deepEqual(
        cut.fields(row).map((field) => [field.name, field.value, field.start, field.end]),
        own.fields(row).map((field) => [field.name, field.value, field.start, field.end]),
      );
    }
  });
});

Deno.test("mime: the root's content type handed over from the parse is a parse of its own", () => {
  // The first view of the root takes the type the parser read (see MimeTable
  // takeRootContentType); a later view parses the field again: both must agree.
  const messages = [
    "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n\r\nhi\r\n",
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n',
    "Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n",
    "Content-Type: Text/HTML; Name*0=a; Name*1=b\r\n\r\n<p>\r\n",
    "Content-Type: bogus\r\n\r\nx\r\n",
    "Subject: none\r\n\r\nx\r\n",
  ];
  for (const message of messages) {
    const table = new MessageIndex(enc(message)).parts;
    const first = table.root().contentType;
    const again = table.root().contentType;
    assert.deepEqual(first, again, message);
    assert.deepEqual(first, parseMime(enc(message)).contentType, message);
  }
});

Deno.test("params: lowerCase gives the text itself when nothing changes, else toLowerCase's", () => {
  const plain = ["text/plain", "charset", "x-y_z.1"].map((text) => text.split("").join(""));
  for (const text of plain) assert.equal(lowerCase(text), text);
  assert.equal(lowerCase("Text/Plain"), "text/plain");
  assert.equal(lowerCase("CHARSET"), "charset");
  // Beyond ASCII: what toLowerCase gives (one character can become two).
  assert.equal(lowerCase("\u00c9T\u00c9"), "\u00e9t\u00e9");
  assert.equal(lowerCase("\u0130"), "\u0130".toLowerCase());
});

Deno.test("params: tokens most mail has come out as written, near misses too", () => {
  // Known tokens (media types, names, charsets) are shared strings; a token of the same length
  // that differs in one character, or in case, must still come out as written.
  const { type, params } = splitParameters(
    ' text/plaim ; charseT = "utf-8" ; Boundary=UTF-9; name="a\\"b"; format = flowed',
  );
  assert.equal(type, "text/plaim");
  assert.deepEqual(params, [
    { name: "charseT", value: "utf-8", quoted: true },
    { name: "Boundary", value: "UTF-9", quoted: false },
    { name: "name", value: 'a"b', quoted: true },
    { name: "format", value: "flowed", quoted: false },
  ]);
  assert.deepEqual(parseContentType("TEXT/html; charset=us-ascii").type, "text");
  assert.deepEqual(parseContentType("text/htmm").subtype, "htmm");
});

/**
 * splitMultipart as RFC 2046 5.1.1 reads, tried at every byte: a delimiter is `--boundary` at
 * the range's start or after an LF, then white space to the line's end (or `--` for the
 * close delimiter); the line end before it belongs to it.
 */
function referenceSplit(
  raw: Uint8Array,
  start: number,
  end: number,
  boundary: string,
  limit: number,
): Array<[number, number]> {
  const dashes = enc("--" + boundary);
  const length = dashes.length;
  const find = (from: number) => {
    for (let s = from; s + length <= end; s++) {
      if (s > from && raw[s - 1] !== 0x0a) continue;
      if (dashes.some((byte, j) => raw[s + j] !== byte)) continue;
      let i = s + length;
      const close = i + 1 < end && raw[i] === 0x2d && raw[i + 1] === 0x2d;
      if (close) i += 2;
      // RFC 2046 5.1.1: the boundary at the start of the line is enough, whatever follows.
      const lf = raw.indexOf(0x0a, i);
      const next = lf < 0 || lf >= end ? end : lf + 1;
      let before = s;
      if (before > from && raw[before - 1] === 0x0a) before--;
      if (before > from && raw[before - 1] === 0x0d) before--;
      return { before, next, close };
    }
    return null;
  };
  // Each part runs from a delimiter line's end to the next delimiter (or the range's end); what
  // comes before the first delimiter is the preamble. One range past `limit` says there are more.
  const ranges: Array<[number, number]> = [];
  let hit = find(start);
  while (hit !== null && !hit.close && ranges.length <= limit) {
    const next = hit.next < end ? find(hit.next) : null;
    ranges.push([hit.next, next === null ? end : Math.max(hit.next, next.before)]);
    hit = next;
  }
  return ranges;
}

Deno.test("mime: splitMultipart finds what a search at every byte finds, hyphens dense or rare", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const boundaries = ["b", "ab", "----=_Part_1", "a-b", "-"];
  for (let round = 0; round < 3000; round++) {
    const boundary = boundaries[round % boundaries.length];
    // Hyphen-dense texts take the skip search past DASH_MISSES; sparse ones stay on hyphens.
    const dense = round % 3 === 0;
    const pieces = ["-", "\n", "\r\n", " ", "\t", "a", "b", "x", "=", `--${boundary}`, "--"];
    let text = "";
    const size = Math.floor(random() * (round % 10 === 0 ? 20_000 : 600));
    while (text.length < size) {
      const r = random();
      if (!dense && r < 0.9) text += "QUJD".repeat(1 + Math.floor(random() * 30));
      else text += pieces[Math.floor(random() * pieces.length)];
    }
    const raw = enc(text);
    const start = Math.floor(random() * Math.min(raw.length + 1, 20));
    const end = raw.length - Math.floor(random() * Math.min(raw.length - start + 1, 20));
    const limit = random() < 0.2 ? Math.floor(random() * 4) : Infinity;
    assert.deepEqual(
      splitMultipart(raw, start, end, boundary, limit),
      referenceSplit(raw, start, end, boundary, limit),
      `round ${round}, boundary ${boundary}, ${start}..${end} of ${JSON.stringify(text)}`,
    );
  }
});

Deno.test("mime: hostile bodies of near-delimiters stay linear", () => {
  // Each shape makes the hyphen search miss at every hyphen: LF then one hyphen, the needle
  // short of its last byte, hyphens just far enough apart not to go to the skip search.
  const shapes = ["\n-", "\n--mixe", "--mixedX\n", "x".repeat(257) + "-", "-"];
  for (const shape of shapes) {
    const body = shape.repeat(Math.ceil((4 << 20) / shape.length));
    const raw = enc(
      'Content-Type: multipart/mixed; boundary="mixed"\r\n\r\n--mixed\r\n\r\n' + body +
        "\r\n--mixed--\r\n",
    );
    const started = performance.now();
    const root = parseMime(raw);
    const elapsed = performance.now() - started;
    // "--mixedX" lines are delimiters (RFC 2046 5.1.1): parts up to the cap, the rest in the
    // last; no other shape holds one.
    const parts = shape === "--mixedX\n" ? MAX_MIME_PARTS - 1 : 1;
    assert.equal(root.children.length, parts, JSON.stringify(shape));
    // A guard against a quadratic search (seconds, not a speed figure).
    assert.ok(elapsed < 5000, `${JSON.stringify(shape)}: ${elapsed} ms`);
  }
});

Deno.test("mime: a line that starts with the delimiter is one, unless the part's own multipart's", () => {
  const parts = (text: string) => {
    const raw = enc(text);
    const root = parseMime(raw);
    return root.children.map((child) =>
      child.children.length > 0 ? child.children.map((inner) => body(raw, inner)) : body(raw, child)
    );
  };
  const head = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n";
  // RFC 2046 5.1.1: the boundary at the start of the line is enough (as Dovecot reads it).
  assert.deepEqual(parts(`${head}\r\none\r\n--b-x\r\n\r\ntwo\r\n--b--\r\n`), ["one", "two"]);
  assert.deepEqual(parts(`${head}\r\none\r\n--b--junk\r\nepilogue\r\n`), ["one"]);
  // A nested multipart whose boundary starts with this one's (5.1.2 forbids it, but Dovecot
  // tries the innermost boundary first): its delimiters stay its own.
  assert.deepEqual(
    parts(
      `${head}Content-Type: multipart/alternative; boundary=bx\r\n\r\n--bx\r\n\r\ninner one\r\n` +
        "--bx\r\n\r\ninner two\r\n--bx--\r\n--b\r\n\r\nouter two\r\n--b--\r\n",
    ),
    [["inner one", "inner two"], "outer two"],
  );
});
