/**
 * HEADER.FIELDS items read straight from the header bytes (header_fields.ts `scanFields`) hold
 * what the parsed fields give (`headerFields`), over random headers: folding, bare LF and CR,
 * stray continuation lines, lines without a colon, white space around names, 8-bit names.
 */

import assert from "node:assert/strict";
import { HeaderFieldItems, headerFields } from "../../lib/imap/header_fields.ts";
import { MessageView } from "../../lib/imap/message_view.ts";
import type { Section } from "../../lib/imap/parse_fetch.ts";

const enc = new TextEncoder();
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

Deno.test("HEADER.FIELDS from the header bytes equals the parsed fields' section", () => {
  const names = ["From", "fROM", " Subject ", "date", "X-A", "junk", "Gr\xfc\xdfe", "S ubject"];
  const lines = [" folded", "\tmore", "", "value", ": colon", " x\r"];
  const wanted: Array<[string, string[]]> = [
    ["HEADER.FIELDS", ["FROM", "SUBJECT", "DATE"]],
    ["HEADER.FIELDS.NOT", ["from", "x-a"]],
    ["HEADER.FIELDS", ["junk", "X-A"]],
    ["HEADER.FIELDS", ["gr\xfc\xdfe"]],
  ];
  let seed = 5;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const items = new HeaderFieldItems();
  for (let round = 0; round < 1500; round++) {
    let text = random(5) === 0 ? " stray\r\n" : "";
    for (let f = 0, n = 1 + random(6); f < n; f++) {
      const name = names[random(names.length)];
      text += name === "junk" ? "junk line" : `${name}:${lines[random(lines.length)]}`;
      for (let c = random(3); c > 0; c--) {
        text += (random(2) ? "\r\n" : "\n") + (random(2) ? " cont" : "\tcont");
      }
      text += random(4) === 0 ? "\n" : "\r\n";
    }
    const raw = Uint8Array.from(text + "\r\nbody", (ch) => ch.charCodeAt(0));
    for (const [kind, fields] of wanted) {
      const section: Section = { part: [], text: kind, fields } as Section;
      const view = new MessageView(raw);
      const prefix = `BODY[${kind} (${fields.join(" ")})] `;
      const item = latin1(items.item(view, view.root, section, prefix));
      const expected = latin1(headerFields(raw, view.root.fields, section));
      const head = `${latin1(enc.encode(prefix))}{${expected.length}}\r\n`;
      assert.equal(item, head + expected.replaceAll("\0", "\x80"), JSON.stringify(text));
    }
  }
});
