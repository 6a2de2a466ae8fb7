/**
 * Authentication.
 *
 * ```abnf
 * login        = "LOGIN" SP userid SP password          ; RFC 9051 6.2.3
 * authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)
 *                                                       ; RFC 9051 6.2.2, RFC 4959 SASL-IR
 * command-auth =/ "UNAUTHENTICATE"                      ; RFC 8437 2
 * ```
 *
 * UNAUTHENTICATE (RFC 8437 2) takes the session back to the not authenticated state: the
 * selected mailbox is left without an expunge (as UNSELECT), what ENABLE turned on is off
 * again, TLS stays; the client asks CAPABILITY anew (the list is the one before login).
 * Dovecot 2.3 does not have it.
 *
 * Failed logins count against the connection and the client's address (auth_guard.ts): after
 * a few the tagged NO comes late, at the limit it is followed by `BYE` (the session goes to
 * the logout state, RFC 9051 3.4), and an address with too many failures gets
 * `NO [UNAVAILABLE]` without its credentials being checked.
 *
 * @module
 */

import { authenticate } from "../../auth.ts";
import { decodeSaslPlain } from "../../sasl.ts";
import { untagged } from "../encoder.ts";
import {
  AUTHED,
  type AuthedCommandSpec,
  type CapabilityView,
  type CommandResult,
  ImapError,
  NOT_AUTHENTICATED,
  type OpenCommandSpec,
  type Session,
} from "../context.ts";

function loggedIn(session: Session, user: string): CommandResult {
  session.ctx.store.ensureUser(user);
  session.user = user;
  session.state = "authenticated";
  return { code: `CAPABILITY ${session.capabilities().join(" ")}`, text: "Logged in" };
}

/** TLS is required and not active yet: LOGIN and AUTHENTICATE get `NO [PRIVACYREQUIRED]`. */
function loginDisabled(session: Pick<Session, "tls" | "ctx">): boolean {
  return session.tls === "offered" && session.ctx.config.tls?.required === true;
}

/** Before login: `AUTH=PLAIN`, or `LOGINDISABLED` while TLS is required (RFC 9051 6.2.3). */
const beforeLogin = (disabled: boolean) => (session: CapabilityView) =>
  session.state === "not-authenticated" && loginDisabled(session) === disabled;

/** Checks the credentials and logs in, or answers the failure (counted, maybe late). */
async function logIn(session: Session, user: string, password: string): Promise<CommandResult> {
  const attempts = session.ctx.authAttempts;
  if (attempts?.addressLocked()) {
    await failed(session);
    throw new ImapError("NO", "UNAVAILABLE", "Too many failed logins from your address; try later");
  }
  const name = authenticate(session.ctx.config, user, password);
  if (!name) return refuse(session);
  attempts?.succeeded();
  return loggedIn(session, name);
}

/** `NO [AUTHENTICATIONFAILED]`, once the failure is counted and its delay waited out. */
async function refuse(session: Session): Promise<never> {
  await failed(session);
  throw new ImapError("NO", "AUTHENTICATIONFAILED", "Authentication failed");
}

/** Counts a failure, waits its delay; at the limit the connection ends after the answer. */
async function failed(session: Session): Promise<void> {
  const penalty = session.ctx.authAttempts?.failed();
  if (!penalty) return;
  if (penalty.delayMs > 0) await session.ctx.authAttempts!.sleep(penalty.delayMs);
  if (penalty.disconnect && !session.ended) {
    session.out.push(untagged("BYE Too many authentication failures"));
    session.state = "logout";
  }
}

/** RFC 9051 7.1: PRIVACYREQUIRED while LOGINDISABLED is advertised. */
function requirePrivacy(session: Session): void {
  if (loginDisabled(session)) {
    throw new ImapError("NO", "PRIVACYREQUIRED", "Use STARTTLS before logging in");
  }
}

export const AUTH_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["LOGIN", {
    states: NOT_AUTHENTICATED,
    allowExpunge: true,
    capabilities: ["LOGINDISABLED"],
    advertised: beforeLogin(true),
    run(session, reader) {
      reader.sp();
      const user = reader.readAstring();
      reader.sp();
      const password = reader.readAstring();
      reader.end();
      requirePrivacy(session);
      return logIn(session, user, password);
    },
  }],
  ["AUTHENTICATE", {
    states: NOT_AUTHENTICATED,
    allowExpunge: true,
    capabilities: ["AUTH=PLAIN"],
    advertised: beforeLogin(false),
    async run(session, reader) {
      reader.sp();
      const mechanism = reader.readAtom().toUpperCase();
      let response: string | null = null;
      if (reader.maybeSp()) response = reader.readAtom();
      reader.end();
      requirePrivacy(session);
      if (mechanism !== "PLAIN") {
        throw new ImapError("NO", "CANNOT", `Unsupported mechanism ${mechanism}; use PLAIN`);
      }
      if (response === null) response = await session.awaitLine("");
      if (response.trim() === "*") throw new ImapError("BAD", null, "Authentication cancelled");
      const decoded = decodeSaslPlain(response.trim());
      if (!decoded.ok) {
        if (decoded.failure === "authzid-mismatch") return refuse(session);
        throw new ImapError("BAD", null, "Malformed PLAIN response");
      }
      return logIn(session, decoded.authcid, decoded.password);
    },
  }],
];

/** Registered apart from LOGIN: its capability is listed among the ones after login. */
export const UNAUTHENTICATE_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["UNAUTHENTICATE", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["UNAUTHENTICATE"],
    run(authed, reader) {
      reader.end();
      const session: Session = authed;
      session.selection = null;
      // NOTIFY SET (RFC 5465) was the user's: the next user to log in starts without it.
      session.notify = null;
      session.user = null;
      session.state = "not-authenticated";
      session.rev2 = false;
      session.utf8 = false;
      session.condstore = false;
      session.qresync = false;
      return { text: "UNAUTHENTICATE completed" };
    },
  }],
];
