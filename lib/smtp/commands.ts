/**
 * The SMTP command table (RFC 5321 4.1.1, with RFC 3207 STARTTLS and RFC 4954 AUTH) and the
 * handlers of the mail transaction. The table also writes the HELP reply and the EHLO
 * keyword list.
 *
 * ```abnf
 * ehlo = "EHLO" SP ( Domain / address-literal ) CRLF          ; RFC 5321 4.1.1.1
 * helo = "HELO" SP Domain CRLF
 * mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF  ; RFC 5321 4.1.1.2
 * rcpt = "RCPT TO:" Forward-path [SP Rcpt-parameters] CRLF    ; RFC 5321 4.1.1.3
 * data = "DATA" CRLF                                          ; RFC 5321 4.1.1.4
 * starttls = "STARTTLS" CRLF                                  ; RFC 3207 4
 * ```
 *
 * @module
 */

import { routeRecipient } from "../auth.ts";
import { deliver, formatRfc5322Date } from "../delivery.ts";
import { type PendingCommit, StoreError } from "../store/types.ts";
import { isNonAscii, parsePathArgument } from "./address.ts";
import { AUTH_KEYWORD, startAuth } from "./auth.ts";
import {
  type CommandOutcome,
  hostOf,
  mustStartTls,
  sessionAddress,
  type SmtpState,
  type Transaction,
} from "./context.ts";
import { reply, SmtpError } from "./reply.ts";

/** A command table entry: where the command may run, what it announces, what it does. */
export interface SmtpCommandSpec {
  /** Allowed while TLS is required and not active yet (RFC 3207 4); else `530 5.7.0`. */
  readonly beforeTls: boolean;
  /** Listed by HELP. */
  readonly help: boolean;
  /** The EHLO keyword this command adds; null when it is not offered in this state. */
  readonly ehlo?: (state: SmtpState) => string | null;
  /** Runs the command; throws `SmtpError` for a failure reply. */
  run(state: SmtpState, args: string): CommandOutcome;
}

/** The command table, in HELP order: verb -> spec. */
export const COMMANDS: ReadonlyMap<string, SmtpCommandSpec> = new Map<string, SmtpCommandSpec>([
  ["EHLO", { beforeTls: true, help: true, run: (state, args) => hello(state, "EHLO", args) }],
  ["HELO", { beforeTls: false, help: true, run: (state, args) => hello(state, "HELO", args) }],
  ["MAIL", { beforeTls: false, help: true, run: mail }],
  ["RCPT", { beforeTls: false, help: true, run: rcpt }],
  ["DATA", { beforeTls: false, help: true, run: data }],
  ["RSET", {
    beforeTls: false,
    help: true,
    run(state) {
      state.transaction = null;
      return reply(250, "2.0.0", "Reset OK");
    },
  }],
  ["NOOP", { beforeTls: true, help: true, run: () => reply(250, "2.0.0", "OK") }],
  ["QUIT", {
    beforeTls: true,
    help: true,
    run: (state) => ({
      reply: reply(221, "2.0.0", `${state.ctx.config.hostname} closing connection`),
      close: true,
    }),
  }],
  ["VRFY", {
    beforeTls: false,
    help: true,
    run: () =>
      reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
  }],
  ["EXPN", {
    beforeTls: false,
    help: false, // not implemented
    run: () => reply(502, "5.5.1", "EXPN is not implemented"),
  }],
  ["HELP", {
    beforeTls: false,
    help: true,
    ehlo: () => "HELP",
    run: help,
  }],
  ["AUTH", {
    beforeTls: false,
    help: true,
    // With TLS required, AUTH is offered only once the session is encrypted.
    ehlo: (state) => mustStartTls(state) ? null : AUTH_KEYWORD,
    run: startAuth,
  }],
  ["STARTTLS", {
    beforeTls: true,
    help: false, // EHLO announces it where it is offered
    ehlo: (state) => state.tls === "offered" ? "STARTTLS" : null,
    run: startTls,
  }],
]);

/**
 * Splits a command line into its verb (upper-cased ASCII letters) and arguments (after the
 * whitespace that follows the verb); null when it does not start with a verb, a non-space
 * follows the verb, or a line break (a bare CR, U+2028, U+2029) is left in the arguments.
 * A linear scan: the pattern it replaces, `^([A-Za-z]+)(?:\s+(.*))?$`, backtracked between
 * `\s+` and `.*` (quadratic in a line of spaces followed by a bare CR).
 */
export function parseCommandLine(line: string): { verb: string; args: string } | null {
  const text = line.trimEnd();
  let end = 0;
  while (end < text.length && isAsciiLetter(text.charCodeAt(end))) end++;
  if (end === 0) return null;
  const verb = text.slice(0, end).toUpperCase();
  const rest = text.slice(end);
  // trimStart removes exactly the characters `\s` matches.
  const args = rest.trimStart();
  if (rest !== "" && args.length === rest.length) return null;
  for (let i = 0; i < args.length; i++) {
    const code = args.charCodeAt(i);
    if (code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029) return null;
  }
  return { verb, args };
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** EHLO keywords that belong to the session or to MAIL parameters, not to one command. */
const SESSION_KEYWORDS: ReadonlyArray<(state: SmtpState) => string> = [
  (state) => `SIZE ${state.ctx.config.limits.maxMessageSize}`, // RFC 1870
  () => "PIPELINING", // RFC 2920
  () => "8BITMIME", // RFC 6152
  () => "ENHANCEDSTATUSCODES", // RFC 2034
  () => "SMTPUTF8", // RFC 6531
];

/**
 * The commands whose `ehlo` column gives a keyword, in EHLO order, after the session's. Not
 * the table's order: HELP lists HELP before AUTH, EHLO announces AUTH before HELP, and both
 * replies stay as they were. A command with an `ehlo` column must be listed here (a test
 * checks).
 */
export const EHLO_COMMAND_ORDER: readonly string[] = ["STARTTLS", "AUTH", "HELP"];

/** The EHLO keyword lines offered in this state (RFC 5321 4.1.1.1). */
export function ehloKeywords(state: SmtpState): string[] {
  const keywords = SESSION_KEYWORDS.map((keyword) => keyword(state));
  for (const verb of EHLO_COMMAND_ORDER) {
    const keyword = COMMANDS.get(verb)?.ehlo?.(state) ?? null;
    if (keyword !== null) keywords.push(keyword);
  }
  return keywords;
}

/** HELP (RFC 5321 4.1.1.8): the commands with a help column, in table order. */
function help(): string {
  const verbs = [...COMMANDS].filter(([, spec]) => spec.help).map(([verb]) => verb);
  return reply(
    214,
    "2.0.0",
    `Commands: ${verbs.join(" ")}`,
    "Elektromail accepts mail for any address; see the README",
  );
}

/** EHLO and HELO: a new session greeting; any transaction is cleared. */
function hello(state: SmtpState, verb: "HELO" | "EHLO", args: string): string {
  const name = args.trim();
  // No control characters either (RFC 5321 4.1.1.1: a domain or an address literal): the name is
  // written into the stored Received header.
  if (name === "" || /[\s\x00-\x1f\x7f]/.test(name)) {
    throw new SmtpError(501, "5.5.4", `Syntax: ${verb} hostname`);
  }
  state.greeted = verb;
  state.clientName = name;
  state.transaction = null;
  const { config } = state.ctx;
  const greeting = `${config.hostname} Hello ${name} [${hostOf(state.ctx.remote)}]`;
  if (verb === "HELO") return reply(250, null, greeting);
  return reply(250, null, greeting, ...ehloKeywords(state));
}

/** RFC 3207 4: the go-ahead; the driver switches to TLS once it is written. */
function startTls(state: SmtpState, args: string): CommandOutcome {
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

function mail(state: SmtpState, args: string): string {
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
  // forEach, not `for...of`: an entry array and iterator steps a parameter (a MAIL per message).
  params.forEach((value, keyword) => {
    switch (keyword) {
      case "SIZE": {
        if (value === null || !SIZE_VALUE.test(value)) {
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
  });
  if (isNonAscii(address) && !smtpUtf8) {
    throw new SmtpError(553, "5.6.7", "Non-ASCII address needs the SMTPUTF8 parameter");
  }
  state.transaction = { from: sessionAddress(state, address), smtpUtf8, recipients: [] };
  return reply(250, "2.1.0", `Sender <${address}> OK`);
}

/** `SIZE=` takes a number (RFC 1870); one pattern object for every MAIL, not one each. */
const SIZE_VALUE = /^[0-9]{1,20}$/;

function rcpt(state: SmtpState, args: string): string {
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
  try {
    // The first recipient (nearly every transaction) without a copy of the list.
    state.ctx.store.checkUserLimit(
      transaction.recipients.length === 0
        ? [user]
        : [...transaction.recipients.map((r) => r.user), user],
    );
  } catch (error) {
    throw userLimitReply(error, address, config.limits.maxUsers);
  }
  transaction.recipients.push({
    address: sessionAddress(state, address),
    user: sessionAddress(state, user),
  });
  return reply(250, "2.1.5", `Recipient <${address}> OK`);
}

/**
 * The reply for a recipient whose user cannot be created: RFC 5321 4.2.2's 452 "insufficient
 * system storage" with RFC 3463's X.3.1 "mail system full". Temporary, because a reset makes
 * room (a test suite's next run gets in), and because a 4xx RCPT lets the client go on with
 * its other recipients; 550 5.1.1 would wrongly say the address does not exist.
 */
function userLimitReply(error: unknown, address: string, limit: number): unknown {
  if (!(error instanceof StoreError) || error.kind !== "user-limit") return error;
  return new SmtpError(
    452,
    "4.3.1",
    `Cannot accept <${address}>: the limit of ${limit} users is reached ` +
      `(ELEKTROMAIL_MAX_USERS; a reset clears them)`,
  );
}

/** DATA: the go-ahead; the driver reads the message and calls {@linkcode finishData}. */
function data(state: SmtpState, args: string): CommandOutcome {
  if (args.trim() !== "") throw new SmtpError(501, "5.5.4", "Syntax: DATA takes no arguments");
  if (!state.transaction) throw new SmtpError(503, "5.5.1", "Send MAIL first");
  if (state.transaction.recipients.length === 0) {
    throw new SmtpError(554, "5.5.1", "No valid recipients");
  }
  return DATA_GO_AHEAD;
}

/** DATA's reply, the same for every message. */
const DATA_GO_AHEAD: CommandOutcome = Object.freeze({
  reply: reply(354, null, "End data with <CR><LF>.<CR><LF>"),
  data: true,
});

/** The end of DATA's reply while the delivery's commit is still to come. */
export interface PendingDelivery {
  readonly commit: PendingCommit;
  /** The reply once the commit is made. */
  readonly reply: string;
}

/**
 * The end of DATA: delivers the message, one copy per distinct recipient address, each
 * with `Return-Path:` and `Delivered-To:` before the Received header (see `deliver`), and
 * ends the transaction. The reply, or the commit it waits for (`Store.shareCommit`: the
 * 250 says the message is stored).
 */
export function finishData(
  state: SmtpState,
  parts: readonly Uint8Array[],
  size: number,
): string | PendingDelivery {
  const { ctx } = state;
  const transaction = state.transaction!;
  state.transaction = null;
  const queueId = ctx.nextQueueId();
  const head = receivedHeader(state, transaction, queueId);
  let commit: PendingCommit | null;
  try {
    commit = ctx.store.shareCommit(() => {
      deliver(ctx.store, transaction.recipients, { head, parts, size }, {
        envelopeFrom: transaction.from,
        envelopeHelo: state.clientName,
        envelopeHeaders: true,
        slab: ctx.messageSlab,
      });
    });
  } catch (error) {
    return deliveryFailed(state, error);
  }
  const done = reply(250, "2.0.0", `OK queued as ${queueId}`);
  return commit === null ? done : { commit, reply: done };
}

/** The reply to a message not delivered because of `error`. */
export function deliveryFailed(state: SmtpState, error: unknown): string {
  // Another session took the last room for users since RCPT: nothing was delivered.
  if (error instanceof StoreError && error.kind === "user-limit") {
    return reply(452, "4.3.1", error.message);
  }
  state.ctx.logger.error(`${state.ctx.label}: delivery failed`, error);
  return reply(451, "4.3.0", "Delivery failed; please try again");
}

/** The RFC 5321 4.4 trace header for this transaction. */
function receivedHeader(state: SmtpState, transaction: Transaction, queueId: string): string {
  // RFC 3848: ESMTPS when encrypted, ESMTPSA when also authenticated; RFC 6531 3.7.3:
  // UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA for an SMTPUTF8 transaction.
  const base = transaction.smtpUtf8 ? "UTF8SMTP" : state.greeted === "EHLO" ? "ESMTP" : "SMTP";
  const protocol = base + (state.tls === "active" ? "S" : "") + (state.authUser ? "A" : "");
  const forClause = transaction.recipients.length === 1
    ? `\r\n\tfor <${transaction.recipients[0].address}>`
    : "";
  return `${receivedStart(state, protocol)}${queueId}${forClause};\r\n\t${receivedDate(state)}\r\n`;
}

/** The Received header up to its queue id, made once per client name and protocol. */
function receivedStart(state: SmtpState, protocol: string): string {
  const { ctx, clientName } = state;
  let start = state.receivedStart;
  if (start?.clientName !== clientName || start.protocol !== protocol) {
    const text = `Received: from ${clientName} ([${hostOf(ctx.remote)}])\r\n` +
      `\tby ${ctx.config.hostname} (Elektromail) with ${protocol} id `;
    state.receivedStart = start = { clientName, protocol, text };
  }
  return start.text;
}

/** Now as an RFC 5322 date, formatted once a second per session (a client sends many). */
function receivedDate(state: SmtpState): string {
  const ms = state.ctx.now();
  const second = Math.floor(ms / 1000);
  let date = state.receivedDate;
  if (date?.second !== second) state.receivedDate = date = { second, text: formatRfc5322Date(ms) };
  return date.text;
}
