/**
 * CATENATE (RFC 4469): a message appended from text literals and IMAP URLs to the user's own
 * messages and sections. URLs are relative (to the selected mailbox or with a mailbox path)
 * as Dovecot takes them; an absolute URL must carry URLAUTH (RFC 4469 3, RFC 4467). Any
 * URL that cannot be used fails the whole APPEND with `NO [BADURL url]` (RFC 4469 6); a
 * message growing past the size limit fails with `NO [TOOBIG]`.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { type AuthedSession, ImapError } from "./context.ts";
import { ImapUrlError, parseImapUrl } from "./imap_url.ts";
import { urlBytes, UrlTargetError } from "./url_target.ts";
import { authorizedTarget } from "./urlauth.ts";

/** One `cat-part`: text bytes or a URL as the client sent it. */
export type CatenatePart =
  | { readonly kind: "text"; readonly bytes: Uint8Array }
  | { readonly kind: "url"; readonly url: string };

/** The message the parts make, at most `limit` octets. */
export function resolveCatenate(
  session: AuthedSession,
  parts: readonly CatenatePart[],
  limit: number,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const part of parts) {
    const bytes = part.kind === "text" ? part.bytes : catenateUrl(session, part.url);
    total += bytes.length;
    if (total > limit) {
      throw new ImapError("NO", "TOOBIG", `Message is over the limit of ${limit} octets`);
    }
    chunks.push(bytes);
  }
  return concatBytes(chunks, total);
}

function catenateUrl(session: AuthedSession, text: string): Uint8Array {
  try {
    const url = parseImapUrl(text);
    // An absolute URL is usable only with its URLAUTH (RFC 4469 3), which says whose it is.
    if (url.urlauth) return authorizedTarget(session, text).bytes;
    if (url.form === "absolute") {
      throw new UrlTargetError("Invalid IMAP URL: Relative URL required");
    }
    return urlBytes(
      session.ctx.store,
      session.user,
      url,
      session.selection?.tracker.mailbox ?? null,
    );
  } catch (error) {
    if (error instanceof ImapUrlError) throw badUrl(text, `Invalid IMAP URL: ${error.message}`);
    if (error instanceof UrlTargetError) throw badUrl(text, error.message);
    throw error;
  }
}

/** `NO [BADURL url]`, the URL echoed as RFC 4469 6 asks (a `]` in it %-encoded). */
export function badUrl(url: string, reason: string): ImapError {
  let safe = "";
  for (const char of url.slice(0, 1024)) {
    const code = char.charCodeAt(0);
    safe += code <= 0x20 || code >= 0x7f || char === "]" ? encodeURIComponent(char) : char;
  }
  return new ImapError("NO", `BADURL ${safe}`, reason);
}
