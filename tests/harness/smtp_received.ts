/**
 * Checks the trace headers Elektromail prepends at final delivery — `Return-Path:` and
 * `Delivered-To:` as a delivery agent writes them, then its `Received:` header (RFC 5321
 * 4.4) — and separates them from the bytes the client sent. Shared by the SMTP transcript
 * runner and interop tests.
 *
 * @module
 */

import assert from "node:assert/strict";

const TRACE = "^(Return-Path: <[^>\\r\\n]*>\\r\\nDelivered-To: [^\\r\\n]+\\r\\n)";

const RECEIVED = "(Received: from \\S+ \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n" +
  "\\tby localhost \\(Elektromail\\) with (?:UTF8)?E?SMTPS?A? id E[MS][0-9A-Z]{6}" +
  "(?:\\r\\n\\tfor <[^>\\r\\n]+>)?;\\r\\n" +
  "\\t(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\\r\\n)";

const TRACE_HEADERS = new RegExp(TRACE + RECEIVED);

/**
 * Splits stored bytes into the envelope headers (`Return-Path:` and `Delivered-To:`, as
 * text), the Received header text, and the rest: the bytes the client sent.
 */
export function splitReceived(
  raw: Uint8Array,
): { envelope: string; received: string; body: Uint8Array } {
  const latin1 = new TextDecoder("latin1").decode(raw);
  const match = TRACE_HEADERS.exec(latin1);
  assert.ok(
    match,
    `stored message does not start with well-formed Return-Path, Delivered-To and Received headers:\n${
      JSON.stringify(latin1.slice(0, 400))
    }`,
  );
  return { envelope: match[1], received: match[2], body: raw.subarray(match[0].length) };
}
