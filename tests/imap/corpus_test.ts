/**
 * The fixture corpus (`tests/fixtures/mime/*.eml`: realistic, 8-bit, encoded, nested and
 * broken messages) against the expected ENVELOPE and BODYSTRUCTURE beside each file
 * (`NAME.envelope`, `NAME.bodystructure`, reviewed by hand), and every structure form
 * against the RFC 9051 grammar. Real clients read the same files in
 * `tests/interop/fetch_structure_test.ts`.
 */

import assert from "node:assert/strict";
import { encodeBodyStructure } from "../../lib/imap/bodystructure.ts";
import { type Encoded, encodeEnvelope } from "../../lib/imap/envelope.ts";
import { parseMime } from "../../lib/mail/mime.ts";
import { FIXTURE_DIR, fixtures } from "./fixtures.ts";
import { checkBody, checkEnvelope, parseValue } from "./structure_checker.ts";

const DIR = FIXTURE_DIR;
const encoder = new TextEncoder();
const bytes = (value: Encoded) => typeof value === "string" ? encoder.encode(value) : value;

Deno.test("corpus: the fixtures are all there", () => {
  assert.ok(fixtures().length >= 15);
});

for (const [name, raw] of fixtures()) {
  Deno.test(`corpus: ${name}: ENVELOPE and BODYSTRUCTURE as expected, all forms valid`, () => {
    const root = parseMime(raw);
    const envelope = bytes(encodeEnvelope(raw, root));
    const structure = bytes(
      encodeBodyStructure(raw, root, { extended: true, messageGlobal: false }),
    );
    assert.deepEqual(envelope, Deno.readFileSync(new URL(`${name}.envelope`, DIR)), "ENVELOPE");
    assert.deepEqual(
      structure,
      Deno.readFileSync(new URL(`${name}.bodystructure`, DIR)),
      "BODYSTRUCTURE",
    );
    checkEnvelope(parseValue(envelope));
    for (const extended of [false, true]) {
      for (const messageGlobal of [false, true]) {
        const body = bytes(encodeBodyStructure(raw, root, { extended, messageGlobal }));
        checkBody(parseValue(body), extended, messageGlobal);
      }
    }
  });
}
