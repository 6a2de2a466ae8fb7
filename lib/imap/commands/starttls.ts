/**
 * STARTTLS (RFC 9051 6.2.1): the tagged OK, then the session driver hands the connection to
 * TLS. Only in the not-authenticated state (the dispatcher checks), only where offered.
 *
 * ```abnf
 * starttls = "STARTTLS"                           ; RFC 9051 6.2.1
 * ```
 *
 * @module
 */

import { ImapError, NOT_AUTHENTICATED, type OpenCommandSpec } from "../context.ts";

export const STARTTLS_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["STARTTLS", {
    states: NOT_AUTHENTICATED,
    allowExpunge: true,
    capabilities: ["STARTTLS"],
    // Only where TLS can start: on a plain listener with TLS configured, before login.
    advertised: (session) => session.state === "not-authenticated" && session.tls === "offered",
    run(session, reader) {
      reader.end();
      if (session.tls === "active") throw new ImapError("BAD", null, "TLS is already active");
      if (session.tls === "off") {
        throw new ImapError("BAD", null, "STARTTLS is not offered: TLS is off (ELEKTROMAIL_TLS)");
      }
      session.startTls();
      return { text: "Begin TLS negotiation now" };
    },
  }],
];
