/**
 * CAPABILITY lists (RFC 9051 6.1.1, 7.2.2): exactly what works, and what changes at login.
 * A command names its own capabilities in the command table (`capabilities`, `advertised`);
 * this file holds the rest, which no single command owns.
 *
 * @module
 */

import type { CapabilityView, CommandSpec } from "./context.ts";

/**
 * The protocol revisions and syntax extensions, in every state. Not `LITERAL-` (RFC 7888):
 * it tells a client that non-synchronizing literals over 4096 octets are refused, where
 * `LITERAL+` (any size, which the server honours) tells it they are not; Dovecot 2.3 lists
 * `LITERAL+` alone too.
 */
const PROTOCOL = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR"];

/**
 * Added once authenticated, after the commands' own: extensions that change several
 * commands (UTF-8 names and strings, mod-sequences and quick resynchronisation, ESEARCH
 * results, `$`, BINARY fetch and literal8, object identifiers in FETCH, STATUS, SELECT and
 * CREATE, and FETCH PREVIEW).
 */
const EXTENSIONS = [
  "UTF8=ACCEPT",
  "CONDSTORE",
  "QRESYNC",
  "ESEARCH",
  "ESORT",
  "SEARCHRES",
  "BINARY",
  "OBJECTID",
  "PREVIEW",
];

/** Capabilities a command names whose value comes from the configuration. */
const CONFIGURED: Readonly<Record<string, (session: CapabilityView) => string>> = {
  // RFC 7889 3: one limit for every mailbox, the message size limit APPEND enforces.
  APPENDLIMIT: (session) => `APPENDLIMIT=${session.ctx.config.limits.maxMessageSize}`,
};

/** By default a command's capabilities are advertised once logged in. */
const afterLogin = (session: CapabilityView) => session.state !== "not-authenticated";

/**
 * The capability list for the session's current state: the protocol's, then each command's
 * in table order (each name once), then the extensions once logged in.
 */
export function capabilities(
  session: CapabilityView,
  commands: ReadonlyMap<string, CommandSpec>,
): string[] {
  const list = [...PROTOCOL];
  for (const spec of commands.values()) {
    if (!spec.capabilities || !(spec.advertised ?? afterLogin)(session)) continue;
    for (const name of spec.capabilities) if (!list.includes(name)) list.push(name);
  }
  if (afterLogin(session)) list.push(...EXTENSIONS);
  return list.map((name) => Object.hasOwn(CONFIGURED, name) ? CONFIGURED[name](session) : name);
}
