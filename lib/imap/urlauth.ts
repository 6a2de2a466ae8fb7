/**
 * URLAUTH (RFC 4467): making and checking authorized IMAP URLs with the INTERNAL mechanism.
 *
 * A token is the mechanism version octet (1, as Dovecot writes it) and the HMAC-SHA256 of the
 * rump URL (everything up to and including `;URLAUTH=access`, RFC 4467 3) under the mailbox
 * access key of the URL's user and mailbox, in hex. The access identifiers are RFC 4467 3's:
 * `anonymous` and `authuser` (any logged-in user), `user+name` (that user only); `submit+name`
 * is for a submission server, which Elektromail has none of, so as in Dovecot's IMAP it is
 * refused. The URL's host and port are not checked: a test server runs on any port and name.
 * Failures carry Dovecot's wording.
 *
 * @module
 */

import { nodeCrypto } from "../node_builtins.ts";
import { type AuthedSession, ImapError } from "./context.ts";
import { type ImapUrl, ImapUrlError, parseImapUrl } from "./imap_url.ts";
import { resolveUrl, type UrlTarget, UrlTargetError } from "./url_target.ts";

/** The one mechanism (RFC 4467 7). */
export const INTERNAL = "INTERNAL";

const TOKEN_VERSION = "01";
const encoder = new TextEncoder();

/** The INTERNAL token of `rump` under `key`. */
export function urlAuthToken(rump: string, key: Uint8Array): string {
  return TOKEN_VERSION + nodeCrypto().createHmac("sha256", key).update(rump).digest("hex");
}

/**
 * GENURLAUTH of one `url-rump` (RFC 4467 6.1): the full URL, or `BAD` with the reason. The
 * URL must be absolute, name the session's own user and an existing message, and end in
 * `;URLAUTH=access`; the mailbox gets its access key on first use.
 */
export function generateUrlAuth(
  session: AuthedSession,
  rumpText: string,
  mechanism: string,
): string {
  const bad = (text: string) => new ImapError("BAD", null, text);
  if (mechanism.toUpperCase() !== INTERNAL) {
    throw bad(`Unsupported URLAUTH mechanism: ${mechanism}`);
  }
  let url: ImapUrl;
  try {
    url = parseImapUrl(rumpText);
  } catch (error) {
    if (error instanceof ImapUrlError) throw bad(`Invalid URL: ${error.message}`);
    throw error;
  }
  if (url.form !== "absolute" || !url.urlauth || url.urlauth.mechanism !== null || !url.rump) {
    throw bad("Invalid URL: Must be an URLAUTH rump URL");
  }
  const access = checkAccessSyntax(url.urlauth.access);
  if (access) throw bad(`Invalid URL: ${access}`);
  const expired = expiry(url, Date.now());
  if (expired) {
    throw bad(expired === "invalid" ? "Invalid URL: Bad EXPIRE" : "URLAUTH has already expired");
  }
  if (url.user === null) throw bad("Invalid URL: Missing user name");
  if (url.user.toLowerCase() !== session.user.toLowerCase()) {
    throw bad(`Not permitted to generate URLAUTH for user ${url.user}`);
  }
  const { store } = session.ctx;
  try {
    resolveUrl(store, session.user, url, null);
  } catch (error) {
    if (error instanceof UrlTargetError) throw bad(`Invalid URL: ${error.message}`);
    throw error;
  }
  const key = store.mailboxAccessKey(session.user, url.mailbox!, true)!;
  // Dovecot writes the mechanism in lower case; it is compared without case.
  return `${url.rump}:internal:${urlAuthToken(url.rump, key)}`;
}

/**
 * What a URLAUTH-authorized URL names, for the session's user (URLFETCH, CATENATE): checks
 * the form, mechanism, expiry, access identifier and token, then resolves it in the URL
 * user's mailbox. Throws {@linkcode UrlTargetError} with the reason.
 */
export function authorizedTarget(session: AuthedSession, text: string): UrlTarget {
  let url: ImapUrl;
  try {
    url = parseImapUrl(text);
  } catch (error) {
    if (error instanceof ImapUrlError) {
      throw new UrlTargetError(`Invalid URLAUTH: ${error.message}`);
    }
    throw error;
  }
  const auth = url.urlauth;
  if (url.form !== "absolute") throw new UrlTargetError("Relative URL not allowed");
  if (!auth || !auth.mechanism || !auth.token || !url.rump) {
    throw new UrlTargetError("Invalid URL: Must be a full URLAUTH URL");
  }
  if (url.user === null) throw new UrlTargetError("Invalid URLAUTH: Missing user name");
  if (auth.mechanism !== INTERNAL) {
    throw new UrlTargetError(`Unsupported URLAUTH mechanism: ${auth.mechanism}`);
  }
  if (expiry(url, Date.now())) throw new UrlTargetError("URLAUTH has expired");
  const denied = accessDenied(auth.access, session.user);
  if (denied) throw new UrlTargetError(denied);
  const { store } = session.ctx;
  const owner = url.user;
  const info = url.mailbox === null ? undefined : store.getMailbox(owner, url.mailbox);
  // RFC 4467 7: without a mailbox the token is still computed (with a random key), so the
  // time taken does not tell which mailbox names exist.
  const key = (info && store.mailboxAccessKey(owner, info.name, false)) ??
    crypto.getRandomValues(new Uint8Array(32));
  const valid = sameToken(urlAuthToken(url.rump, key), auth.token);
  if (!info) throw new UrlTargetError(`Invalid URLAUTH: Mailbox doesn't exist: ${url.mailbox}`);
  if (!valid) throw new UrlTargetError("URLAUTH verification failed");
  return resolveUrl(store, owner, url, null);
}

function sameToken(expected: string, given: string): boolean {
  const a = encoder.encode(expected);
  const b = encoder.encode(given);
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b);
}

/** Why an access identifier is malformed (RFC 4467 3 `access`), or null. */
function checkAccessSyntax(access: string): string | null {
  const lower = access.toLowerCase();
  if (lower === "anonymous" || lower === "authuser") return null;
  const plus = lower.indexOf("+");
  const application = plus < 0 ? lower : lower.slice(0, plus);
  if ((application === "user" || application === "submit") && plus > 0) {
    return access.length > plus + 1 ? null : `Missing user in URLAUTH access ${access}`;
  }
  return `Unknown URLAUTH access identifier: ${access}`;
}

/** Why `user` may not use a URL with this access identifier, or null. */
function accessDenied(access: string, user: string): string | null {
  const malformed = checkAccessSyntax(access);
  if (malformed) return malformed;
  const lower = access.toLowerCase();
  if (lower === "anonymous" || lower === "authuser") return null;
  const named = access.slice(access.indexOf("+") + 1);
  if (lower.startsWith("user+") && named.toLowerCase() === user.toLowerCase()) return null;
  return `No '${access}' access allowed for user ${user}`;
}

/** "expired", "invalid" (not an RFC 3339 date-time), or null while valid or without one. */
function expiry(url: ImapUrl, now: number): "expired" | "invalid" | null {
  if (url.expire === null) return null;
  const at = url.expire.includes("T") ? Date.parse(url.expire) : NaN;
  if (Number.isNaN(at)) return "invalid";
  return now > at ? "expired" : null;
}
