/**
 * CAPABILITY lists (RFC 9051 6.1.1, 7.2.2): exactly what works, and what changes at login.
 *
 * @module
 */

import type { Session } from "./context.ts";

/** Capabilities in every state. */
const BASE = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ENABLE", "ID"];

/** Added once authenticated. */
const AUTHENTICATED = [
  "IDLE",
  "MOVE",
  "UIDPLUS",
  "NAMESPACE",
  "UNSELECT",
  "CHILDREN",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "SPECIAL-USE",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "STATUS=SIZE",
  "UTF8=ACCEPT",
  "ESEARCH",
  "SEARCHRES",
  "BINARY",
];

/** The capability list for the session's current state. */
export function capabilities(session: Pick<Session, "state" | "tls" | "ctx">): string[] {
  if (session.state !== "not-authenticated") return [...BASE, ...AUTHENTICATED];
  const list = [...BASE];
  if (session.tls === "offered") list.push("STARTTLS");
  // RFC 9051 6.2.3: no plaintext login before TLS when it is required.
  list.push(...(loginDisabled(session) ? ["LOGINDISABLED"] : ["AUTH=PLAIN"]));
  return list;
}

/** TLS is required and not active yet: LOGIN and AUTHENTICATE get `NO [PRIVACYREQUIRED]`. */
export function loginDisabled(session: Pick<Session, "tls" | "ctx">): boolean {
  return session.tls === "offered" && session.ctx.config.tls?.required === true;
}
