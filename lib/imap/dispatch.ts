/**
 * Running one framed command: read the tag and verb, look the verb up in the command table,
 * check the state, run it, send the updates it allows, and write the tagged response. Every
 * failure becomes a tagged `NO`/`BAD` in {@linkcode statusFromError}, the one place that
 * maps them. Also the literal policy: whether a literal announcement gets its `+`, is read,
 * drained or ends the connection.
 *
 * @module
 */

import { StoreError, type StoreErrorKind } from "../store/types.ts";
import { injectCommandFault } from "./chaos.ts";
import { appendTotalLimit } from "./commands/append.ts";
import { COMMANDS } from "./commands/mod.ts";
import {
  type AuthedSession,
  type CommandResult,
  type CommandSpec,
  ImapError,
  type ImapState,
  type OpenCommandSpec,
  type Session,
} from "./context.ts";
import { continuation, tagged } from "./encoder.ts";
import type { FramedCommand } from "./framer.ts";
import { ParseError, readCommandName, Reader } from "./parser.ts";
import { sendUpdates } from "./updates.ts";

/** Largest literal accepted outside APPEND (LOGIN passwords, mailbox names). */
export const MAX_SMALL_LITERAL = 64 * 1024;

const decoder = new TextDecoder();

/** How a command ended: the tagged status written, or null when the connection ended first. */
export type CommandOutcome = "OK" | "NO" | "BAD" | null;

/**
 * Runs one command and writes its tagged response (and the updates before it) to
 * `session.out`. The caller counts `BAD`s and acts on the session's state after an `OK`.
 */
export async function runCommand(
  session: Session,
  command: FramedCommand,
): Promise<CommandOutcome> {
  const { ctx } = session;
  // Only worked out when it is written: a decode and two patterns for each command otherwise.
  if (ctx.logger.verbose) ctx.logger.traffic(ctx.label, "C", summarizeCommand(command.line));
  let tag: string | null = null;
  let spec: CommandSpec | undefined;
  let verb = "";
  try {
    const reader = new Reader(command);
    tag = reader.readTag();
    reader.sp();
    verb = readCommandName(reader);
    if (verb === "UID") {
      reader.sp();
      verb = `UID ${readCommandName(reader)}`;
    }
    spec = COMMANDS.get(verb);
    if (!spec) throw new ImapError("BAD", null, `Unknown command: ${verb}`);
    if (!allows(spec, session.state)) {
      throw new ImapError("BAD", null, `${verb} is not allowed in the ${session.state} state`);
    }
    if (ctx.chaos?.active && await injectCommandFault(ctx.chaos, session, verb, command)) {
      return null;
    }
    if (session.ended) return null;
    const result = await run(spec, session, reader, tag);
    if (session.ended) return null;
    sendUpdates(session, spec.allowExpunge);
    if (session.ended) return null;
    const reply = tagged(tag, "OK", result?.code ?? null, result?.text ?? `${verb} completed`);
    if (result?.commit) {
      session.replyAfter(result.commit, reply, tagged(tag, "NO", "SERVERBUG", SERVER_BUG_TEXT));
    } else session.out.push(reply);
    return "OK";
  } catch (error) {
    if (session.ended) return null;
    const responseTag = tag ?? (error instanceof ParseError ? error.tag : null) ?? "*";
    let failure = statusFromError(error);
    if (failure) {
      if (spec) sendUpdates(session, spec.allowExpunge);
      if (session.ended) return null;
    } else {
      ctx.logger.error(`${ctx.label}: ${verb || "command"} failed`, error);
      failure = new ImapError("NO", "SERVERBUG", SERVER_BUG_TEXT);
    }
    session.out.push(tagged(responseTag, failure.status, failure.code, failure.message));
    return failure.status;
  }
}

/** A command that needs a user runs only after login: the state check above ensures one. */
function run(
  spec: CommandSpec,
  session: Session,
  reader: Reader,
  tag: string,
): CommandResult | void | Promise<CommandResult | void> {
  if (hasUser(session)) return spec.run(session, reader, tag);
  if (isOpen(spec)) return spec.run(session, reader, tag);
  throw new ImapError("BAD", null, "Log in first");
}

function hasUser(session: Session): session is AuthedSession {
  return session.user !== null;
}

/** A command that may run before login (its states include not-authenticated). */
function isOpen(spec: CommandSpec): spec is OpenCommandSpec {
  return allows(spec, "not-authenticated");
}

function allows(spec: CommandSpec, state: ImapState): boolean {
  const states: readonly ImapState[] = spec.states;
  return states.includes(state);
}

const SERVER_BUG_TEXT = "Internal server error; the command was not completed";

/** RFC 5530 response codes of the store's failures. */
const STORE_ERROR_CODES: Record<StoreErrorKind, string> = {
  "no-such-user": "NONEXISTENT",
  "no-such-mailbox": "NONEXISTENT",
  "mailbox-exists": "ALREADYEXISTS",
  "no-such-message": "NONEXISTENT",
  "invalid-name": "CANNOT",
  "invalid-user": "CANNOT",
  "has-children": "INUSE",
  "cannot-delete-inbox": "CANNOT",
  "closed": "UNAVAILABLE",
  "user-limit": "LIMIT",
};

/**
 * The one mapping from a failed command to its tagged status: a handler's
 * {@linkcode ImapError} as it is, bad syntax as `BAD`, a store failure as `NO` with its
 * RFC 5530 code; null for an unexpected exception (the caller logs it, `NO [SERVERBUG]`).
 */
export function statusFromError(error: unknown): ImapError | null {
  if (error instanceof ImapError) return error;
  if (error instanceof ParseError) {
    return new ImapError("BAD", null, error.message || "Syntax error");
  }
  if (error instanceof StoreError) {
    return new ImapError("NO", STORE_ERROR_CODES[error.kind], error.message);
  }
  return null;
}

/** What to answer a literal's announcement (`{n}`, `{n+}`, `~{n}`, `~{n+}`). */
export interface LiteralDecision {
  /**
   * Whether the literal is taken. If not, the framer drops the command: a synchronizing
   * literal's bytes never come, a non-synchronizing one's are drained.
   */
  readonly accept: boolean;
  /** What to write now: `+` for a synchronizing literal taken, the tagged refusal, or null. */
  readonly response: string | null;
  /** The refusal counts towards the limit of bad commands in a row. */
  readonly countsAsBad: boolean;
  /** Close the connection after the refusal, without reading the literal (RFC 7888 4). */
  readonly close: boolean;
}

/** What the policy needs to know of an announcement (a framer `literal-request`). */
export interface LiteralRequest {
  readonly tag: string;
  readonly size: number;
  readonly nonSync: boolean;
  readonly prefix: Uint8Array;
  /** Literal bytes the command already carries. */
  readonly buffered: number;
}

/**
 * The literal policy (STYLE.md 3). A command's literals add up to at most
 * {@linkcode MAX_SMALL_LITERAL} (LOGIN passwords, mailbox names, search strings), except
 * APPEND's after login: each message up to the message size limit, all of them (MULTIAPPEND)
 * up to `appendTotalLimit` (commands/append.ts), and 64 KiB more for the rest. Over the limit: `NO [TOOBIG]` for APPEND's synchronizing literal, `BAD [TOOBIG]`
 * otherwise (RFC 7888 4 for a non-synchronizing one). Before login, a non-synchronizing
 * literal over the limit also ends the connection: the server will not read megabytes from a
 * stranger to stay in step (RFC 7888 4 allows closing). After login the refused bytes are
 * drained instead, so the session goes on. Only a synchronizing literal within the limit
 * gets the `+` continuation.
 */
export function literalDecision(
  request: LiteralRequest,
  state: ImapState,
  maxMessageSize: number,
): LiteralDecision {
  const loggedIn = state === "authenticated" || state === "selected";
  const isAppend = commandVerb(request.prefix) === "APPEND";
  const refuse = (status: "NO" | "BAD", code: string | null, text: string, bad: boolean) => ({
    accept: false,
    response: tagged(request.tag, status, code, text),
    countsAsBad: bad,
    close: request.nonSync && !loggedIn,
  });
  if (isAppend && !loggedIn && !request.nonSync) {
    return refuse("BAD", null, "APPEND is not allowed before login", true);
  }
  const appendAfterLogin = isAppend && loggedIn;
  const perLiteral = appendAfterLogin ? maxMessageSize : MAX_SMALL_LITERAL;
  const inAll = appendAfterLogin
    ? appendTotalLimit(maxMessageSize) + MAX_SMALL_LITERAL
    : MAX_SMALL_LITERAL;
  const total = request.buffered + request.size;
  const text = request.size > perLiteral
    ? `Literal of ${request.size} octets is over the limit of ${perLiteral}`
    : total > inAll
    ? `Literals of ${total} octets in all are over the limit of ${inAll}`
    : null;
  // A refused {n+} still costs its bytes to drain: it counts as a bad command.
  if (text) {
    return refuse(isAppend && !request.nonSync ? "NO" : "BAD", "TOOBIG", text, request.nonSync);
  }
  const response = request.nonSync ? null : continuation("Ready for literal data");
  return { accept: true, response, countsAsBad: false, close: false };
}

/** The verb of a command's first bytes, with `UID ` for UID commands. */
function commandVerb(prefix: Uint8Array): string {
  const words = decoder.decode(prefix.subarray(0, 64)).split(" ");
  const verb = (words[1] ?? "").toUpperCase();
  return verb === "UID" ? `UID ${(words[2] ?? "").toUpperCase()}` : verb;
}

function summarizeCommand(line: Uint8Array): string {
  const text = decoder.decode(line.subarray(0, 300));
  // Never log passwords.
  const login = /^(\S+ LOGIN \S+) .*/i.exec(text);
  if (login) return `${login[1]} <password>`;
  const auth = /^(\S+ AUTHENTICATE \S+) .*/i.exec(text);
  return auth ? `${auth[1]} <credentials>` : text;
}
