/**
 * Authentication.
 *
 * ```abnf
 * login        = "LOGIN" SP userid SP password          ; RFC 9051 6.2.3
 * authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)
 *                                                       ; RFC 9051 6.2.2, RFC 4959 SASL-IR
 * ```
 *
 * @module
 */

import { authenticate } from "../../auth.ts";
import { decodeSaslPlain } from "../../sasl.ts";
import {
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

function refuse(): never {
  throw new ImapError("NO", "AUTHENTICATIONFAILED", "Authentication failed");
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
      const name = authenticate(session.ctx.config, user, password);
      return name ? loggedIn(session, name) : refuse();
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
        if (decoded.failure === "authzid-mismatch") refuse();
        throw new ImapError("BAD", null, "Malformed PLAIN response");
      }
      const name = authenticate(session.ctx.config, decoded.authcid, decoded.password);
      return name ? loggedIn(session, name) : refuse();
    },
  }],
];
