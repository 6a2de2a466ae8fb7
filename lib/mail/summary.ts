/**
 * The listing summary of a message: header values decoded once when it is stored, so
 * listings (HTTP, events, filters) never re-read the bytes.
 *
 * @module
 */

import { decodeEncodedWords, findHeaderEnd, headerValue, parseHeaderFields } from "./headers.ts";

/** Header values decoded once at append time, for listings without re-reading the bytes. */
export interface MessageSummary {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  /** The Date header as written, or "" when absent. */
  readonly date: string;
  readonly messageId: string;
}

/** Reads the listing summary (decoded subject and addresses) from a message's header. */
export function summarizeMessage(raw: Uint8Array): MessageSummary {
  const { headerEnd } = findHeaderEnd(raw);
  const fields = parseHeaderFields(raw, 0, headerEnd);
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
