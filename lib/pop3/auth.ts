/**
 * Logging in: USER/PASS and APOP (RFC 1939 7), AUTH PLAIN with an initial response
 * (RFC 5034, RFC 4616), the `[AUTH]`, `[IN-USE]` and `[SYS/TEMP]` codes (RFC 2449 8.1.2,
 * RFC 3206).
 *
 * ```abnf
 * user = "USER" SP name                      ; RFC 1939 7
 * pass = "PASS" SP string                    ; the rest of the line, spaces included
 * apop = "APOP" SP name SP digest            ; digest: MD5(timestamp password), 32 hex
 * auth = "AUTH" [SP mechanism [SP initial-response]]   ; RFC 5034 4
 * ```
 *
 * The rules are IMAP's (DESIGN.md, "Auth and routing"): any credentials without configured
 * users, login by address, failures counted per connection and per client address
 * (auth_guard.ts). APOP needs the password in clear on the server, so it is offered only with
 * configured users; the greeting then carries the timestamp `<conn.time.random@host>`.
 *
 * @module
 */

import { authenticate } from "../auth.ts";
import { nodeCrypto } from "../node_builtins.ts";
import { decodeSaslPlain } from "../sasl.ts";
import { canonicalUserName } from "../store/names.ts";
import {
  AUTHORIZATION,
  type Pop3CommandSpec,
  type Pop3Outcome,
  type Pop3Session,
} from "./context.ts";
import { Maildrop } from "./maildrop.ts";
import { Pop3Error } from "./wire.ts";

/** The SASL mechanisms offered (CAPA `SASL`, bare `AUTH`). */
export const SASL_MECHANISMS = ["PLAIN"] as const;

/** Whether login is refused until STLS (TLS required, not active yet). */
export function plaintextRefused(session: Pick<Pop3Session, "tls" | "ctx">): boolean {
  return session.tls === "offered" && session.ctx.config.tls?.required === true;
}

function requirePrivacy(session: Pop3Session): void {
  if (plaintextRefused(session)) {
    throw new Pop3Error(
      "AUTH",
      "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
    );
  }
}

/**
 * Checks the credentials with `check` (the canonical user or null) and opens the maildrop,
 * or answers the failure, counted and maybe late.
 */
async function logIn(session: Pop3Session, check: () => string | null): Promise<Pop3Outcome> {
  const attempts = session.ctx.authAttempts;
  if (attempts?.addressLocked()) {
    const close = await failed(session);
    throw new Pop3Error("SYS/TEMP", "Too many failed logins from your address; try later.", {
      close,
    });
  }
  const user = check();
  if (!user) {
    const close = await failed(session);
    throw new Pop3Error("AUTH", "Authentication failed.", { close });
  }
  attempts?.succeeded();
  return openMaildrop(session, user);
}

/** Counts a failure and waits its delay; true when the connection must close after it. */
async function failed(session: Pop3Session): Promise<boolean> {
  const attempts = session.ctx.authAttempts;
  const penalty = attempts?.failed();
  if (!penalty) return false;
  if (penalty.delayMs > 0) await attempts!.sleep(penalty.delayMs);
  return penalty.disconnect;
}

/** Takes the user's maildrop lock and its snapshot of INBOX (RFC 1939 4). */
function openMaildrop(session: Pop3Session, user: string): Pop3Outcome {
  const { store, locks } = session.ctx;
  store.ensureUser(user);
  if (!locks.acquire(user)) {
    throw new Pop3Error("IN-USE", "Mailbox is locked by another POP3 session.");
  }
  try {
    session.maildrop = new Maildrop(store, user);
  } catch (error) {
    locks.release(user);
    throw error;
  }
  session.state = "transaction";
  return { text: "Logged in." };
}

/** APOP: the configured user whose MD5(timestamp password) is `digest`, or null. */
function apopUser(session: Pop3Session, name: string, digest: string): string | null {
  const { config, timestamp } = session.ctx;
  let canonical: string;
  try {
    canonical = canonicalUserName(name);
  } catch {
    return null;
  }
  const entry = config.users.find((candidate) => candidate.user === canonical) ??
    config.users.find((candidate) => candidate.address === canonical);
  if (!entry || timestamp === null) return null;
  const expected = nodeCrypto().createHash("md5").update(timestamp + entry.password).digest("hex");
  return expected === digest.toLowerCase() ? entry.user : null;
}

/** AUTH PLAIN's response: the initial one, or the line after an empty `+ ` challenge. */
async function plainResponse(session: Pop3Session, initial: string | undefined) {
  const response = (initial ?? await session.awaitLine("")).trim();
  if (response === "*") throw new Pop3Error(null, "Authentication aborted by client.");
  const decoded = decodeSaslPlain(response);
  if (decoded.ok || decoded.failure === "authzid-mismatch") return decoded;
  const where = initial === undefined ? "response" : "initial response";
  throw new Pop3Error(
    "AUTH",
    decoded.failure === "bad-base64"
      ? `Invalid base64 data in ${where}`
      : `Malformed PLAIN ${where}`,
  );
}

export const AUTH_COMMANDS: ReadonlyArray<[string, Pop3CommandSpec]> = [
  ["USER", {
    states: AUTHORIZATION,
    run(session, args) {
      const name = args.trim();
      if (name === "") throw new Pop3Error(null, "No username given.", { bad: true });
      requirePrivacy(session);
      session.pendingUser = name;
      return { text: "" };
    },
  }],
  ["PASS", {
    states: AUTHORIZATION,
    secret: true,
    run(session, args) {
      const user = session.pendingUser;
      session.pendingUser = null;
      if (user === null) throw new Pop3Error(null, "No username given.", { bad: true });
      requirePrivacy(session);
      return logIn(session, () => authenticate(session.ctx.config, user, args));
    },
  }],
  ["APOP", {
    states: AUTHORIZATION,
    secret: true,
    run(session, args) {
      session.pendingUser = null;
      if (session.ctx.timestamp === null) {
        throw new Pop3Error(null, "APOP not enabled.");
      }
      const parts = args.split(" ").filter((part) => part !== "");
      if (parts.length !== 2 || !/^[0-9A-Fa-f]{32}$/.test(parts[1])) {
        throw new Pop3Error(null, "Syntax: APOP name digest", { bad: true });
      }
      requirePrivacy(session);
      return logIn(session, () => apopUser(session, parts[0], parts[1]));
    },
  }],
  ["AUTH", {
    states: AUTHORIZATION,
    secret: true,
    async run(session, args) {
      session.pendingUser = null;
      const parts = args.split(" ").filter((part) => part !== "");
      // A bare AUTH lists the mechanisms (RFC 1734's form, which Dovecot answers too).
      if (parts.length === 0) return { text: "", lines: [...SASL_MECHANISMS] };
      if (parts.length > 2) {
        throw new Pop3Error(null, "Syntax: AUTH mechanism [initial-response]", { bad: true });
      }
      requirePrivacy(session);
      if (parts[0].toUpperCase() !== "PLAIN") {
        throw new Pop3Error("AUTH", "Unsupported authentication mechanism.");
      }
      const decoded = await plainResponse(session, parts[1]);
      return logIn(
        session,
        () =>
          decoded.ok ? authenticate(session.ctx.config, decoded.authcid, decoded.password) : null,
      );
    },
  }],
];
