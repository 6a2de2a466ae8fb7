/**
 * Checks the `Received:` trace header Elektromail prepends (RFC 5321 4.4) and separates it
 * from the bytes the client sent. Shared by the SMTP transcript runner and interop tests.
 *
 * @module
 */

import assert from "node:assert/strict";

const RECEIVED = new RegExp(
  "^Received: from \\S+ \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n" +
    "\\tby localhost \\(Elektromail\\) with (?:UTF8)?E?SMTPS?A? id E[MS][0-9A-Z]{6}" +
    "(?:\\r\\n\\tfor <[^>\\r\\n]+>)?;\\r\\n" +
    "\\t(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\\r\\n",
);

/** Splits stored bytes into the Received header text and the rest. */
export function splitReceived(raw: Uint8Array): { received: string; body: Uint8Array } {
  const latin1 = new TextDecoder("latin1").decode(raw);
  const match = RECEIVED.exec(latin1);
  assert.ok(
    match,
    `stored message does not start with a well-formed Received header:\n${
      JSON.stringify(latin1.slice(0, 300))
    }`,
  );
  return { received: match[0], body: raw.subarray(match[0].length) };
}
