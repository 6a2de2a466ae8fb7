/**
 * SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms.
 *
 * ```abnf
 * auth-command = "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) [CRLF cancel-response]
 * initial-response = base64 / "="
 * cancel-response  = "*"                                  ; RFC 4954 4
 * ```
 *
 * Failed AUTHs count against the connection and the client's address (auth_guard.ts): later
 * replies wait, the tenth closes the connection with `421 4.7.0`, and an address with too
 * many failures gets `454 4.7.0` without its credentials being checked.
 *
 * @module
 */

import { acceptsAnyCredentials, authenticate } from "../auth.ts";
import { decodeSaslPlain, decodeSaslText, type SaslPlainFailure } from "../sasl.ts";
import { StoreError } from "../store/types.ts";
import type { CommandOutcome, SmtpState } from "./context.ts";
import { reply, SmtpError } from "./reply.ts";

/** How each mechanism starts, with or without an initial response; returns the reply. */
const MECHANISMS: ReadonlyMap<
  string,
  (state: SmtpState, initial?: string) => CommandOutcome
> = new Map([
  ["PLAIN", (state: SmtpState, initial?: string) => {
    if (initial !== undefined) return finishPlain(state, initial);
    state.auth = { mechanism: "PLAIN" };
    return reply(334, null, "");
  }],
  ["LOGIN", (state: SmtpState, initial?: string) => {
    if (initial === undefined) {
      state.auth = { mechanism: "LOGIN", user: null };
      return reply(334, null, btoa("Username:"));
    }
    state.auth = { mechanism: "LOGIN", user: decodeResponse(initial) };
    return reply(334, null, btoa("Password:"));
  }],
]);

/** The AUTH keyword of the EHLO reply (RFC 4954 3), mechanisms in table order. */
export const AUTH_KEYWORD = `AUTH ${[...MECHANISMS.keys()].join(" ")}`;

/** `AUTH mechanism [initial-response]` (RFC 4954 4). */
export function startAuth(state: SmtpState, args: string): CommandOutcome {
  if (!state.greeted) throw new SmtpError(503, "5.5.1", "Send EHLO first");
  if (state.authUser) throw new SmtpError(503, "5.5.1", "Already authenticated");
  if (state.transaction) {
    throw new SmtpError(503, "5.5.1", "AUTH is not allowed during a mail transaction");
  }
  const [mechanism = "", initial, ...extra] = args.trim().split(/\s+/);
  if (extra.length > 0) {
    throw new SmtpError(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  }
  const start = MECHANISMS.get(mechanism.toUpperCase());
  if (!start) {
    throw new SmtpError(504, "5.5.4", `Unrecognized authentication mechanism: ${mechanism}`);
  }
  return start(state, initial);
}

/** The next line of the SASL exchange in `state.auth`: a reply, or an `SmtpError`. */
export function continueAuth(state: SmtpState, line: string): CommandOutcome {
  const step = state.auth!;
  // The exchange ends with this line, failed or not, unless LOGIN asks for the password.
  state.auth = null;
  const response = line.trim();
  if (response === "*") return reply(501, "5.0.0", "Authentication cancelled");
  if (step.mechanism === "PLAIN") return finishPlain(state, response);
  if (step.user === null) {
    state.auth = { mechanism: "LOGIN", user: decodeResponse(response) };
    return reply(334, null, btoa("Password:"));
  }
  return finishLogin(state, step.user, decodeResponse(response));
}

/** SMTP's reply to each way a PLAIN response can be malformed. */
const PLAIN_FAILURES: Readonly<
  Record<Exclude<SaslPlainFailure, "authzid-mismatch">, () => SmtpError>
> = {
  "bad-base64": () => new SmtpError(501, "5.5.2", "Cannot decode base64 response"),
  "malformed": () => new SmtpError(501, "5.5.2", "Malformed PLAIN response"),
};

function finishPlain(state: SmtpState, encoded: string): CommandOutcome {
  const decoded = decodeSaslPlain(encoded);
  if (decoded.ok) return finishLogin(state, decoded.authcid, decoded.password);
  // Asking to act as another user is refused like wrong credentials, and counted.
  if (decoded.failure === "authzid-mismatch") return failed(state);
  throw PLAIN_FAILURES[decoded.failure]();
}

function finishLogin(state: SmtpState, user: string, password: string): CommandOutcome {
  const attempts = state.ctx.authAttempts;
  if (attempts?.addressLocked()) {
    return failed(
      state,
      reply(454, "4.7.0", "Too many failed logins from your address; try later"),
    );
  }
  const name = authenticate(state.ctx.config, user, password);
  if (!name) return failed(state);
  attempts?.succeeded();
  try {
    state.ctx.store.ensureUser(name);
  } catch (error) {
    // RFC 4954 6: a temporary failure, not bad credentials (a reset makes room for users).
    if (error instanceof StoreError && error.kind === "user-limit") {
      throw new SmtpError(454, "4.7.0", `Temporary authentication failure: ${error.message}`);
    }
    throw error;
  }
  state.authUser = name;
  const note = acceptsAnyCredentials(state.ctx.config) ? " (any credentials accepted)" : "";
  return reply(235, "2.7.0", `Authentication successful${note}`);
}

/**
 * A failed (or refused) AUTH: `535 5.7.8` unless told otherwise, sent late after a few
 * failures, and followed by `421 4.7.0` and the end of the connection at the limit.
 */
function failed(
  state: SmtpState,
  text = reply(535, "5.7.8", "Authentication credentials invalid"),
): CommandOutcome {
  const penalty = state.ctx.authAttempts?.failed();
  if (!penalty) return text;
  if (!penalty.disconnect) return { reply: text, delayMs: penalty.delayMs };
  const bye = reply(421, "4.7.0", `${state.ctx.config.hostname} Too many failed logins, closing`);
  return { reply: text + bye, delayMs: penalty.delayMs, close: true };
}

/** A LOGIN response: base64 text. */
function decodeResponse(encoded: string): string {
  const text = decodeSaslText(encoded);
  if (text === null) throw new SmtpError(501, "5.5.2", "Cannot decode base64 response");
  return text;
}
