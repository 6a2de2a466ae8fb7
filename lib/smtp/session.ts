/**
 * The SMTP session (RFC 5321, with RFC 6409 submission, RFC 4954 AUTH, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034 ENHANCEDSTATUSCODES,
 * RFC 3207 STARTTLS).
 * Sans-IO: bytes go in through `receive`, replies come out through `io.write`, all replies
 * produced by one chunk are written together (pipelining).
 *
 * @module
 */

import { acceptsAnyCredentials, authenticate, routeRecipient } from "../auth.ts";
import type { Chaos, ChaosRule } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import { deliver, formatRfc5322Date } from "../delivery.ts";
import type { Logger } from "../log.ts";
import type { TlsState } from "../net/transport.ts";
import type { Store } from "../store/types.ts";
import { VERSION } from "../version.ts";
import { isNonAscii, parsePathArgument } from "./address.ts";
import { faultReply, smtpFault } from "./chaos.ts";
import { type SmtpFrame, SmtpFramer } from "./framer.ts";
import { reply, SmtpError } from "./reply.ts";

/** What a session needs from its server. */
export interface SmtpContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Peer address, `ip:port`. */
  readonly remote: string;
  /** Connection label for logs, e.g. `smtp#3`. */
  readonly label: string;
  /** A new queue id for a Received header; unique within the server. */
  nextQueueId(): string;
  now(): number;
  /** TLS on the connection at the start; `off` when absent. */
  readonly tls?: TlsState;
  /** Fault injection (`POST /chaos`); none when absent. */
  readonly chaos?: Chaos;
}

/** Where the session's replies go. */
export interface SmtpIO {
  write(text: string): void;
  /** Closes the connection after the written replies. */
  close(): void;
  /** Switches the connection to TLS after the written replies (see `Connection.startTls`). */
  startTls?(): void;
}

/** A running session. */
export interface SmtpSession {
  /** Writes the greeting. */
  start(): void;
  receive(chunk: Uint8Array): void;
  /** Idle timeout: 421 and close. */
  idle(): void;
  /** Server shutdown: 421 and close. */
  shutdown(): void;
}

interface Transaction {
  from: string;
  smtpUtf8: boolean;
  recipients: Array<{ address: string; user: string }>;
}

type AuthStep =
  | { mechanism: "PLAIN" }
  | { mechanism: "LOGIN"; user: string | null };

/** ESMTP extensions, in EHLO order; `value` gives the keyword line, or null when not offered. */
const EXTENSIONS: ReadonlyArray<{ value(state: CommandState): string | null }> = [
  { value: (state) => `SIZE ${state.ctx.config.limits.maxMessageSize}` },
  { value: () => "PIPELINING" },
  { value: () => "8BITMIME" },
  { value: () => "ENHANCEDSTATUSCODES" },
  { value: () => "SMTPUTF8" },
  { value: (state) => state.tls === "offered" ? "STARTTLS" : null },
  // With TLS required, AUTH is offered only once the session is encrypted.
  { value: (state) => mustStartTls(state) ? null : "AUTH PLAIN LOGIN" },
  { value: () => "HELP" },
];

/** Commands allowed before STARTTLS when TLS is required (RFC 3207 4). */
const BEFORE_TLS = new Set(["EHLO", "NOOP", "QUIT", "STARTTLS"]);

interface CommandState {
  readonly ctx: SmtpContext;
  greeted: "HELO" | "EHLO" | null;
  clientName: string;
  authUser: string | null;
  transaction: Transaction | null;
  auth: AuthStep | null;
  tls: TlsState;
}

type Handler = (
  state: CommandState,
  args: string,
) => string | { reply: string; data?: true; close?: true; startTls?: true };

/** The command table: verb → handler. */
const COMMANDS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ["EHLO", (state, args) => greet(state, "EHLO", args)],
  ["HELO", (state, args) => greet(state, "HELO", args)],
  ["MAIL", mail],
  ["RCPT", rcpt],
  ["DATA", data],
  ["RSET", (state) => {
    state.transaction = null;
    return reply(250, "2.0.0", "Reset OK");
  }],
  ["NOOP", () => reply(250, "2.0.0", "OK")],
  [
    "QUIT",
    (state) => ({
      reply: reply(221, "2.0.0", `${state.ctx.config.hostname} closing connection`),
      close: true,
    }),
  ],
  [
    "VRFY",
    () => reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
  ],
  ["EXPN", () => reply(502, "5.5.1", "EXPN is not implemented")],
  ["HELP", () =>
    reply(
      214,
      "2.0.0",
      "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP AUTH",
      "Elektromail accepts mail for any address; see the README",
    )],
  ["AUTH", startAuth],
  ["STARTTLS", startTls],
]);

/** Creates a session. Call `start()` to send the greeting. */
export function createSmtpSession(ctx: SmtpContext, io: SmtpIO): SmtpSession {
  const { config, logger } = ctx;
  const newFramer = () => new SmtpFramer(config.limits.maxLineLength, config.limits.maxMessageSize);
  let framer = newFramer();
  const state: CommandState = {
    ctx,
    greeted: null,
    clientName: "",
    authUser: null,
    transaction: null,
    auth: null,
    tls: ctx.tls ?? "off",
  };
  let errors = 0;
  let closed = false;
  let pending = "";
  /** A chaos delay is under way: input waits in the framer until it ends. */
  let held = false;

  const send = (text: string) => {
    logger.traffic(ctx.label, "S", text);
    pending += text;
  };
  const flush = () => {
    if (pending === "") return;
    io.write(pending);
    pending = "";
  };
  const close = () => {
    closed = true;
    flush();
    io.close();
  };
  const countError = (text: string) => {
    send(text);
    const code = Number(text.slice(0, 3));
    if (code >= 500 || code === 421) errors++;
    else errors = 0;
    if (errors >= config.limits.maxBadCommands) {
      send(reply(421, "4.7.0", `${config.hostname} Too many errors, closing connection`));
      close();
    }
  };

  const handleFrame = (frame: SmtpFrame) => {
    switch (frame.type) {
      case "line-too-long":
        state.auth = null;
        countError(
          reply(500, "5.5.6", `Line too long (limit ${config.limits.maxLineLength} octets)`),
        );
        return;
      case "data-too-big":
        logger.traffic(ctx.label, "C", `<message data: ${frame.size} octets, over the limit>`);
        state.transaction = null;
        countError(
          reply(552, "5.3.4", `Message too big (limit ${config.limits.maxMessageSize} octets)`),
        );
        return;
      case "data":
        logger.traffic(ctx.label, "C", `<message data: ${frame.size} octets>`);
        send(finishData(state, frame.body));
        errors = 0;
        return;
      case "line":
        if (state.auth) {
          logger.traffic(ctx.label, "C", "<credentials>");
          countError(continueAuth(state, frame.line));
          return;
        }
        logger.traffic(
          ctx.label,
          "C",
          /^AUTH\s/i.test(frame.line)
            ? frame.line.split(/\s+/).slice(0, 2).join(" ") + " …"
            : frame.line,
        );
        handleLine(frame.line);
    }
  };

  const handleLine = (line: string) => {
    const match = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(line.trimEnd());
    const verb = match?.[1].toUpperCase() ?? "";
    const handler = COMMANDS.get(verb);
    if (handler && mustStartTls(state) && !BEFORE_TLS.has(verb)) {
      countError(reply(530, "5.7.0", "Must issue a STARTTLS command first"));
      return;
    }
    if (!handler) {
      countError(
        reply(
          500,
          "5.5.2",
          line.trim() === ""
            ? "Empty command"
            : `Command not recognized: ${verb || line.slice(0, 20)}`,
        ),
      );
      return;
    }
    let result: ReturnType<Handler>;
    try {
      result = handler(state, match?.[2] ?? "");
    } catch (error) {
      if (error instanceof SmtpError) {
        countError(reply(error.code, error.enhanced, error.message));
        return;
      }
      logger.error(`${ctx.label}: ${verb} failed`, error);
      countError(reply(451, "4.3.0", "Internal server error; please try again"));
      return;
    }
    if (typeof result === "string") {
      countError(result);
      return;
    }
    countError(result.reply);
    if (result.data) framer.startData();
    if (result.close) close();
    if (result.startTls) {
      flush();
      // RFC 3207 4.2: back to the state after the greeting, knowing nothing the client said;
      // a fresh framer drops whatever was pipelined after STARTTLS in plaintext.
      framer = newFramer();
      Object.assign(state, {
        greeted: null,
        clientName: "",
        authUser: null,
        transaction: null,
        auth: null,
        tls: "active",
      });
      io.startTls!();
    }
  };

  /** Handles buffered frames in order until one is held by a chaos delay. */
  const process = () => {
    while (!closed && !held) {
      const frame = framer.next();
      if (!frame) break;
      const fault = ctx.chaos
        ? smtpFault(ctx.chaos, config, frame, {
          authUser: state.authUser,
          recipients: state.transaction?.recipients ?? [],
          inAuth: state.auth !== null,
          greeted: state.greeted !== null,
          inTransaction: state.transaction !== null,
        })
        : null;
      if (!fault) handleFrame(frame);
      else if (fault.delayMs === 0) applyFault(fault, () => handleFrame(frame));
      else hold(fault, () => applyFault(fault, () => handleFrame(frame)));
    }
    if (!closed) flush();
  };

  /** A chaos rule fired: fail with its reply, hang up, or (after its delay) go on. */
  const applyFault = (fault: ChaosRule, proceed: () => void) => {
    logger.traffic(ctx.label, "S", `<chaos rule ${fault.id}: ${fault.action}>`);
    if (fault.action === "delay") return proceed();
    if (fault.action === "drop") return close();
    if (fault.command === "DATA") state.transaction = null;
    const text = faultReply(fault);
    if (fault.command === "CONNECT" || fault.code === 421) {
      send(text);
      return close();
    }
    countError(text);
  };

  const hold = (fault: ChaosRule, then: () => void) => {
    held = true;
    flush();
    ctx.chaos!.later(fault.delayMs, () => {
      held = false;
      if (closed) return;
      then();
      process();
    });
  };

  const greet = () => {
    send(reply(220, null, `${config.hostname} ESMTP Elektromail ${VERSION} ready`));
  };

  return {
    start() {
      const fault = ctx.chaos?.decide("smtp", "CONNECT") ?? null;
      if (!fault) greet();
      else if (fault.delayMs === 0) applyFault(fault, greet);
      else return hold(fault, () => applyFault(fault, greet));
      if (!closed) flush();
    },
    receive(chunk) {
      if (closed) return;
      framer.push(chunk);
      process();
    },
    idle() {
      if (closed) return;
      send(reply(421, "4.4.2", `${config.hostname} Idle for too long, closing connection`));
      close();
    },
    shutdown() {
      if (closed) return;
      send(reply(421, "4.3.2", `${config.hostname} Service shutting down, closing connection`));
      close();
    },
  };
}

function greet(state: CommandState, verb: "HELO" | "EHLO", args: string): string {
  const name = args.trim();
  if (name === "" || /\s/.test(name)) throw new SmtpError(501, "5.5.4", `Syntax: ${verb} hostname`);
  state.greeted = verb;
  state.clientName = name;
  state.transaction = null;
  const { config } = state.ctx;
  const hello = `${config.hostname} Hello ${name} [${hostOf(state.ctx.remote)}]`;
  if (verb === "HELO") return reply(250, null, hello);
  const keywords = EXTENSIONS.map((extension) => extension.value(state));
  return reply(250, null, hello, ...keywords.filter((keyword) => keyword !== null));
}

/** TLS is required and not active yet. */
function mustStartTls(state: CommandState): boolean {
  return state.tls === "offered" && state.ctx.config.tls?.required === true;
}

/** RFC 3207 4: the go-ahead; the caller switches to TLS once it is written. */
function startTls(state: CommandState, args: string): { reply: string; startTls: true } {
  if (args.trim() !== "") throw new SmtpError(501, "5.5.4", "Syntax: STARTTLS takes no arguments");
  if (state.tls === "active") throw new SmtpError(503, "5.5.1", "TLS is already active");
  if (state.tls === "off") {
    throw new SmtpError(502, "5.5.1", "STARTTLS is not offered: TLS is off (ELEKTROMAIL_TLS)");
  }
  if (state.transaction) {
    throw new SmtpError(503, "5.5.1", "STARTTLS is not allowed during a mail transaction");
  }
  return { reply: reply(220, "2.0.0", "Ready to start TLS"), startTls: true };
}

function mail(state: CommandState, args: string): string {
  const { config } = state.ctx;
  if (!state.greeted) throw new SmtpError(503, "5.5.1", "Send EHLO or HELO first");
  if (state.transaction) {
    throw new SmtpError(503, "5.5.1", "Nested MAIL command: finish or RSET the current one");
  }
  if (config.smtpAuthRequired && !state.authUser) {
    throw new SmtpError(530, "5.7.0", "Authentication required");
  }
  const { address, params } = parsePathArgument(args, "FROM");
  let smtpUtf8 = false;
  for (const [keyword, value] of params) {
    switch (keyword) {
      case "SIZE": {
        if (value === null || !/^[0-9]{1,20}$/.test(value)) {
          throw new SmtpError(501, "5.5.4", "Syntax: SIZE=<octets>");
        }
        if (Number(value) > config.limits.maxMessageSize) {
          throw new SmtpError(
            552,
            "5.3.4",
            `Message too big (limit ${config.limits.maxMessageSize} octets)`,
          );
        }
        break;
      }
      case "BODY":
        if (value === null || !["7BIT", "8BITMIME"].includes(value.toUpperCase())) {
          throw new SmtpError(555, "5.5.4", "BODY must be 7BIT or 8BITMIME");
        }
        break;
      case "SMTPUTF8":
        if (value !== null) throw new SmtpError(501, "5.5.4", "SMTPUTF8 takes no value");
        smtpUtf8 = true;
        break;
      case "AUTH": // RFC 4954 5: accepted, not used.
        break;
      default:
        throw new SmtpError(555, "5.5.4", `Unsupported MAIL parameter: ${keyword}`);
    }
  }
  if (isNonAscii(address) && !smtpUtf8) {
    throw new SmtpError(553, "5.6.7", "Non-ASCII address needs the SMTPUTF8 parameter");
  }
  state.transaction = { from: address, smtpUtf8, recipients: [] };
  return reply(250, "2.1.0", `Sender <${address}> OK`);
}

function rcpt(state: CommandState, args: string): string {
  const { config } = state.ctx;
  const transaction = state.transaction;
  if (!transaction) throw new SmtpError(503, "5.5.1", "Send MAIL first");
  const { address, params } = parsePathArgument(args, "TO");
  if (address === "") throw new SmtpError(501, "5.1.3", "Bad recipient address: <>");
  if (params.size > 0) {
    throw new SmtpError(555, "5.5.4", `Unsupported RCPT parameter: ${[...params.keys()][0]}`);
  }
  if (isNonAscii(address) && !transaction.smtpUtf8) {
    throw new SmtpError(553, "5.6.7", "Non-ASCII address needs SMTPUTF8 on MAIL FROM");
  }
  if (transaction.recipients.length >= config.limits.maxRecipients) {
    throw new SmtpError(452, "4.5.3", `Too many recipients (limit ${config.limits.maxRecipients})`);
  }
  const user = routeRecipient(config, address);
  if (!user) throw new SmtpError(550, "5.1.1", `No mailbox for <${address}>`);
  transaction.recipients.push({ address, user });
  return reply(250, "2.1.5", `Recipient <${address}> OK`);
}

function data(state: CommandState, args: string): { reply: string; data: true } | string {
  if (args.trim() !== "") throw new SmtpError(501, "5.5.4", "Syntax: DATA takes no arguments");
  if (!state.transaction) throw new SmtpError(503, "5.5.1", "Send MAIL first");
  if (state.transaction.recipients.length === 0) {
    throw new SmtpError(554, "5.5.1", "No valid recipients");
  }
  return { reply: reply(354, null, "End data with <CR><LF>.<CR><LF>"), data: true };
}

function finishData(state: CommandState, body: Uint8Array): string {
  const { ctx } = state;
  const transaction = state.transaction!;
  state.transaction = null;
  const queueId = ctx.nextQueueId();
  const received = receivedHeader(state, transaction, queueId);
  const raw = new Uint8Array(received.length + body.length);
  raw.set(received, 0);
  raw.set(body, received.length);
  try {
    deliver(ctx.store, transaction.recipients.map((r) => r.user), raw);
  } catch (error) {
    ctx.logger.error(`${ctx.label}: delivery failed`, error);
    return reply(451, "4.3.0", "Delivery failed; please try again");
  }
  return reply(250, "2.0.0", `OK queued as ${queueId}`);
}

/** The RFC 5321 4.4 trace header for this transaction. */
function receivedHeader(
  state: CommandState,
  transaction: Transaction,
  queueId: string,
): Uint8Array {
  const { ctx } = state;
  // RFC 3848: ESMTPS when encrypted, ESMTPSA when also authenticated; RFC 6531 3.7.3:
  // UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA for an SMTPUTF8 transaction.
  const base = transaction.smtpUtf8 ? "UTF8SMTP" : state.greeted === "EHLO" ? "ESMTP" : "SMTP";
  const protocol = base + (state.tls === "active" ? "S" : "") + (state.authUser ? "A" : "");
  const forClause = transaction.recipients.length === 1
    ? `\r\n\tfor <${transaction.recipients[0].address}>`
    : "";
  const text = `Received: from ${state.clientName} ([${hostOf(ctx.remote)}])\r\n` +
    `\tby ${ctx.config.hostname} (Elektromail) with ${protocol} id ${queueId}${forClause};\r\n` +
    `\t${formatRfc5322Date(ctx.now())}\r\n`;
  return new TextEncoder().encode(text);
}

function startAuth(state: CommandState, args: string): string {
  if (!state.greeted) throw new SmtpError(503, "5.5.1", "Send EHLO first");
  if (state.authUser) throw new SmtpError(503, "5.5.1", "Already authenticated");
  if (state.transaction) {
    throw new SmtpError(503, "5.5.1", "AUTH is not allowed during a mail transaction");
  }
  const [mechanism = "", initial, ...extra] = args.trim().split(/\s+/);
  if (extra.length > 0) {
    throw new SmtpError(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  }
  switch (mechanism.toUpperCase()) {
    case "PLAIN":
      if (initial === undefined) {
        state.auth = { mechanism: "PLAIN" };
        return reply(334, null, "");
      }
      return finishPlain(state, initial);
    case "LOGIN":
      if (initial === undefined) {
        state.auth = { mechanism: "LOGIN", user: null };
        return reply(334, null, btoa("Username:"));
      }
      state.auth = { mechanism: "LOGIN", user: decodeSasl(initial) };
      return reply(334, null, btoa("Password:"));
    default:
      throw new SmtpError(504, "5.5.4", `Unrecognized authentication mechanism: ${mechanism}`);
  }
}

/** The next line of a SASL exchange; always returns a reply. */
function continueAuth(state: CommandState, line: string): string {
  const step = state.auth!;
  try {
    if (line.trim() === "*") {
      state.auth = null;
      return reply(501, "5.0.0", "Authentication cancelled");
    }
    if (step.mechanism === "PLAIN") {
      state.auth = null;
      return finishPlain(state, line.trim());
    }
    if (step.user === null) {
      state.auth = { mechanism: "LOGIN", user: decodeSasl(line.trim()) };
      return reply(334, null, btoa("Password:"));
    }
    state.auth = null;
    return finishLogin(state, step.user, decodeSasl(line.trim()));
  } catch (error) {
    state.auth = null;
    if (error instanceof SmtpError) return reply(error.code, error.enhanced, error.message);
    throw error;
  }
}

function finishPlain(state: CommandState, encoded: string): string {
  const text = encoded === "=" ? "" : decodeSasl(encoded);
  const parts = text.split("\u0000");
  if (parts.length !== 3) throw new SmtpError(501, "5.5.2", "Malformed PLAIN response");
  const [authzid, authcid, password] = parts;
  if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
    throw new SmtpError(535, "5.7.8", "Authentication credentials invalid");
  }
  return finishLogin(state, authcid, password);
}

function finishLogin(state: CommandState, user: string, password: string): string {
  const name = authenticate(state.ctx.config, user, password);
  if (!name) throw new SmtpError(535, "5.7.8", "Authentication credentials invalid");
  state.authUser = name;
  state.ctx.store.ensureUser(name);
  const note = acceptsAnyCredentials(state.ctx.config) ? " (any credentials accepted)" : "";
  return reply(235, "2.7.0", `Authentication successful${note}`);
}

function decodeSasl(encoded: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new SmtpError(501, "5.5.2", "Cannot decode base64 response");
  }
  const binary = atob(encoded);
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon < 0 ? remote : remote.slice(0, colon);
}
