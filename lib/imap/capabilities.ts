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
export function capabilities(session: Pick<Session, "state">): string[] {
  if (session.state === "not-authenticated") return [...BASE, "AUTH=PLAIN"];
  return [...BASE, ...AUTHENTICATED];
}
