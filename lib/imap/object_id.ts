/**
 * Object identifiers (RFC 8474, OBJECTID): the EMAILID of a message and its THREADID.
 * MAILBOXID comes from the store (`MailboxInfo.mailboxId`).
 *
 * ```abnf
 * fetch-att      =/ "EMAILID" / "THREADID"                      ; RFC 8474 7
 * msg-att-static =/ "EMAILID" SP "(" objectid ")" / "THREADID" SP ("(" objectid ")" / nil)
 * search-key     =/ "EMAILID" SP objectid / "THREADID" SP objectid
 * objectid       = 1*255(ALPHA / DIGIT / "_" / "-")
 * ```
 * EMAILID is `M` and the first 24 hex digits of the SHA-256 of the message's bytes, as Cyrus
 * derives it from its content GUID: the same on every run, kept by COPY and MOVE (the bytes
 * do not change), and shared only by messages with identical content, which RFC 8474 5.1
 * allows. It is computed on first use and kept in the message's cached MIME index.
 *
 * THREADID is NIL: the server has no thread index (RFC 8474 5.2 lets a server that does not
 * thread answer NIL), so `SEARCH THREADID` matches nothing. Dovecot 2.3 has no OBJECTID at
 * all.
 *
 * @module
 */

import type { MessageView } from "./message_view.ts";

/** A SHA-256 of some bytes, as lower-case hex. */
export type Sha256 = (bytes: Uint8Array) => string;

/**
 * Loads SHA-256 from `node:crypto`, imported on first use only: most sessions never ask for
 * an EMAILID, and the module costs start-up time.
 */
export async function loadSha256(): Promise<Sha256> {
  const { createHash } = await import("node:crypto");
  return (bytes) => createHash("sha256").update(bytes).digest("hex");
}

const EMAILID_KEY = Symbol("emailid");

/** The message's EMAILID (see the module text), cached in its index. */
export function emailId(view: MessageView, sha256: Sha256): string {
  return view.index.memo(EMAILID_KEY, () => `M${sha256(view.raw).slice(0, 24)}`);
}

/** Whether `text` is an RFC 8474 `objectid`. */
export function isObjectId(text: string): boolean {
  if (text.length === 0 || text.length > 255) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}
