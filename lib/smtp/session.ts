/**
 * The SMTP session (RFC 5321, with RFC 6409 submission, RFC 4954 AUTH, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034 ENHANCEDSTATUSCODES,
 * RFC 3207 STARTTLS): the driver that frames input, dispatches commands through the table in
 * `commands.ts`, applies chaos faults and counts bad commands.
 * Sans-IO: bytes go in through `receive`, replies come out through `io.write`, all replies
 * produced by one chunk are written together (pipelining).
 *
 * @module
 */

import { isHttpRequestLine } from "../net/http_request_line.ts";
import type { ChaosRule } from "../chaos/mod.ts";
import { VERSION } from "../version.ts";
import { continueAuth } from "./auth.ts";
import { faultReply, smtpFault } from "./chaos.ts";
import {
  COMMANDS,
  deliveryFailed,
  finishData,
  parseCommandLine,
  type PendingDelivery,
} from "./commands.ts";
import { type CommandOutcome, mustStartTls, type SmtpContext, type SmtpState } from "./context.ts";
import { type SmtpFrame, SmtpFramer } from "./framer.ts";
import { reply, SmtpError } from "./reply.ts";

export type { SmtpContext } from "./context.ts";

/** Where the session's replies go. */
export interface SmtpIO {
  write(text: string): void;
  /** Closes the connection after the written replies. */
  close(): void;
  /** Switches the connection to TLS after the written replies (see `Connection.startTls`). */
  startTls?(): void;
  /**
   * Message data starts (after `354`) or has all arrived: the transport's receive deadline
   * then asks for progress rather than line ends (see `Connection.expectBody`).
   */
  expectBody?(on: boolean): void;
  /** Stops delivering input (a chaos delay holds it), until `resume` (see `Connection.pause`). */
  pause?(): void;
  resume?(): void;
}

/** A running session. */
export interface SmtpSession {
  /** Writes the greeting. */
  start(): void;
  receive(chunk: Uint8Array): void;
  /** Idle timeout: 421 and close. */
  idle(): void;
  /** A command line or message data did not arrive in time (slowloris): 421 and close. */
  slowInput(): void;
  /** Server shutdown: 421 and close. */
  shutdown(): void;
  /** The connection is gone: what the session holds is given back. */
  closed(): void;
}

/** The connection side of a session: framing, output, the bad-command count. */
interface Driver {
  readonly ctx: SmtpContext;
  readonly io: SmtpIO;
  readonly state: SmtpState;
  framer: SmtpFramer;
  /** Consecutive error replies (5xx or 421); at `maxBadCommands` the connection closes. */
  errors: number;
  closed: boolean;
  /** Replies not written yet: one write per chunk of input (pipelining). */
  pending: string;
  /** A chaos delay is under way: input waits in the framer until it ends. */
  held: boolean;
}

/** Creates a session. Call `start()` to send the greeting. */
export function createSmtpSession(ctx: SmtpContext, io: SmtpIO): SmtpSession {
  const driver: Driver = {
    ctx,
    io,
    state: {
      ctx,
      greeted: null,
      clientName: "",
      authUser: null,
      transaction: null,
      auth: null,
      tls: ctx.tls ?? "off",
      addresses: new Map(),
    },
    framer: newFramer(ctx),
    errors: 0,
    closed: false,
    pending: "",
    held: false,
  };
  // The field a close writes, written twice: see `SocketConnection` in lib/net/transport.ts.
  driver.closed = true;
  driver.closed = false;
  const { hostname } = ctx.config;
  return {
    start() {
      const fault = ctx.chaos?.decide("smtp", "CONNECT") ?? null;
      const sendGreeting = () =>
        send(driver, reply(220, null, `${hostname} ESMTP Elektromail ${VERSION} ready`));
      if (!fault) sendGreeting();
      else if (fault.delayMs === 0) applyFault(driver, fault, sendGreeting);
      else return hold(driver, fault, () => applyFault(driver, fault, sendGreeting));
      if (!driver.closed) flush(driver);
    },
    receive(chunk) {
      if (driver.closed) return;
      driver.framer.push(chunk);
      handleBufferedFrames(driver);
    },
    idle() {
      if (driver.closed) return;
      send(driver, reply(421, "4.4.2", `${hostname} Idle for too long, closing connection`));
      close(driver);
    },
    slowInput() {
      if (driver.closed) return;
      send(
        driver,
        reply(
          421,
          "4.4.2",
          `${hostname} Timeout receiving the command or data, closing connection`,
        ),
      );
      close(driver);
    },
    shutdown() {
      if (driver.closed) return;
      send(driver, reply(421, "4.3.2", `${hostname} Service shutting down, closing connection`));
      close(driver);
    },
    // Unfinished message data gives its room in the listener's budget back.
    closed: () => driver.framer.dispose(),
  };
}

function newFramer(ctx: SmtpContext): SmtpFramer {
  const { limits } = ctx.config;
  return new SmtpFramer(limits.smtpMaxLineLength, limits.maxMessageSize, ctx.dataBudget);
}

function send(driver: Driver, text: string): void {
  driver.ctx.logger.traffic(driver.ctx.label, "S", text);
  driver.pending += text;
}

function flush(driver: Driver): void {
  if (driver.pending === "") return;
  driver.io.write(driver.pending);
  driver.pending = "";
}

function close(driver: Driver): void {
  driver.closed = true;
  flush(driver);
  driver.io.close();
}

/**
 * Sends the reply to a command or message and keeps the bad-command count: an error reply
 * (5xx, 421) counts, any other resets it; at the limit the connection closes with 421.
 */
function sendReply(driver: Driver, text: string): void {
  const { config } = driver.ctx;
  send(driver, text);
  // Every reply starts with its three-digit code (reply.ts).
  const code = (text.charCodeAt(0) - 48) * 100 + (text.charCodeAt(1) - 48) * 10 +
    (text.charCodeAt(2) - 48);
  if (code >= 500 || code === 421) driver.errors++;
  else driver.errors = 0;
  if (driver.errors >= config.limits.maxBadCommands) {
    send(driver, reply(421, "4.7.0", `${config.hostname} Too many errors, closing connection`));
    close(driver);
  }
}

/** Handles buffered frames in order until one is held by a chaos delay. */
function handleBufferedFrames(driver: Driver): void {
  const { ctx, state } = driver;
  while (!driver.closed && !driver.held) {
    const frame = driver.framer.next();
    if (!frame) break;
    // The data has all arrived, whatever a chaos delay then does with it.
    if (frame.type === "data" || frame.type === "data-too-big" || frame.type === "data-no-room") {
      driver.io.expectBody?.(false);
    }
    // Without rules (the usual case) nothing is looked at for chaos.
    const fault = ctx.chaos?.active
      ? smtpFault(ctx.chaos, ctx.config, frame, {
        authUser: state.authUser,
        recipients: state.transaction?.recipients ?? [],
        inAuth: state.auth !== null,
        greeted: state.greeted !== null,
        inTransaction: state.transaction !== null,
      })
      : null;
    if (!fault) handleFrame(driver, frame);
    else if (fault.delayMs === 0) applyFault(driver, fault, () => handleFrame(driver, frame));
    else hold(driver, fault, () => applyFault(driver, fault, () => handleFrame(driver, frame)));
  }
  if (!driver.closed) flush(driver);
}

function handleFrame(driver: Driver, frame: SmtpFrame): void {
  const { ctx, state } = driver;
  const { limits } = ctx.config;
  switch (frame.type) {
    case "line-too-long":
      state.auth = null;
      sendReply(
        driver,
        reply(500, "5.5.6", `Line too long (limit ${limits.smtpMaxLineLength} octets)`),
      );
      return;
    case "data-too-big":
      if (ctx.logger.verbose) {
        ctx.logger.traffic(ctx.label, "C", `<message data: ${frame.size} octets, over the limit>`);
      }
      state.transaction = null;
      if (frame.endless) {
        // Twice the limit and no end in sight: what follows is not read as commands.
        send(
          driver,
          reply(552, "5.3.4", `Message too big (limit ${limits.maxMessageSize} octets); closing`),
        );
        return close(driver);
      }
      sendReply(
        driver,
        reply(552, "5.3.4", `Message too big (limit ${limits.maxMessageSize} octets)`),
      );
      return;
    case "data-no-room":
      if (ctx.logger.verbose) {
        ctx.logger.traffic(ctx.label, "C", `<message data: ${frame.size} octets, no room>`);
      }
      state.transaction = null;
      sendReply(
        driver,
        reply(
          452,
          "4.3.1",
          "Insufficient system storage: too much mail is being received at once; try again later",
        ),
      );
      return;
    case "data":
      if (ctx.logger.verbose) {
        ctx.logger.traffic(ctx.label, "C", `<message data: ${frame.size} octets>`);
      }
      // Not counted as a command: the end of data only resets the bad-command count.
      driver.errors = 0;
      return sendDelivered(driver, finishData(state, frame.parts, frame.size));
    case "line":
      if (state.auth) {
        ctx.logger.traffic(ctx.label, "C", "<credentials>");
        sendOutcome(driver, runGuarded(driver, "AUTH", continueAuth, frame.line));
        return;
      }
      // Only worked out when it is written (the traffic log is off unless verbose).
      if (ctx.logger.verbose) {
        ctx.logger.traffic(
          ctx.label,
          "C",
          /^AUTH\s/i.test(frame.line)
            ? frame.line.split(/\s+/).slice(0, 2).join(" ") + " \u2026"
            : frame.line,
        );
      }
      runCommand(driver, frame.line);
  }
}

/** Dispatches a command line through the table. */
function runCommand(driver: Driver, line: string): void {
  if (isHttpRequestLine(line)) {
    const { config, logger, label } = driver.ctx;
    logger.warn(`${label}: an HTTP request on the SMTP port (a web page?); closed`);
    send(driver, reply(421, "4.7.0", `${config.hostname} HTTP requests are not SMTP`));
    return close(driver);
  }
  const parsed = parseCommandLine(line);
  const verb = parsed?.verb ?? "";
  const spec = COMMANDS.get(verb);
  if (!spec) {
    const text = line.trim() === ""
      ? "Empty command"
      : `Command not recognized: ${verb || line.slice(0, 20)}`;
    sendReply(driver, reply(500, "5.5.2", text));
    return;
  }
  if (!spec.beforeTls && mustStartTls(driver.state)) {
    sendReply(driver, reply(530, "5.7.0", "Must issue a STARTTLS command first"));
    return;
  }
  sendOutcome(driver, runGuarded(driver, verb, spec.run, parsed?.args ?? ""));
}

/**
 * Runs a handler; the one place a failure becomes a reply: an `SmtpError` its own, anything
 * else, logged, `451 4.3.0`.
 */
function runGuarded(
  driver: Driver,
  verb: string,
  run: (state: SmtpState, text: string) => CommandOutcome,
  text: string,
): CommandOutcome {
  try {
    return run(driver.state, text);
  } catch (error) {
    if (error instanceof SmtpError) return reply(error.code, error.enhanced, error.message);
    driver.ctx.logger.error(`${driver.ctx.label}: ${verb} failed`, error);
    return reply(451, "4.3.0", "Internal server error; please try again");
  }
}

/**
 * Sends the end of DATA's reply, once the delivery's commit is made if it waits for one. Until
 * then the next frames wait in the framer; reading goes on, as the wait is short (the commit
 * is made in a microtask, before the event loop's next turn).
 */
function sendDelivered(driver: Driver, outcome: string | PendingDelivery): void {
  if (typeof outcome === "string") return send(driver, outcome);
  let text = outcome.reply;
  const wait = (go: () => void) =>
    outcome.commit.whenCommitted((error) => {
      if (error !== null) text = deliveryFailed(driver.state, error);
      go();
    });
  holdWhile(driver, wait, () => send(driver, text), false);
}

/** Sends a command's reply (after its delay), then reads data, closes or starts TLS as it asks. */
function sendOutcome(driver: Driver, outcome: CommandOutcome): void {
  if (typeof outcome === "string") return sendReply(driver, outcome);
  const attempts = driver.ctx.authAttempts;
  if (outcome.delayMs && attempts) {
    const { delayMs, ...now } = outcome;
    return holdWhile(driver, (go) => attempts.later(delayMs, go), () => sendOutcome(driver, now));
  }
  sendReply(driver, outcome.reply);
  if (outcome.data) {
    driver.framer.startData();
    driver.io.expectBody?.(true);
  }
  if (outcome.close) close(driver);
  if (outcome.startTls) {
    flush(driver);
    // RFC 3207 4.2: back to the state after the greeting, knowing nothing the client said;
    // a fresh framer drops whatever was pipelined after STARTTLS in plaintext.
    driver.framer = newFramer(driver.ctx);
    Object.assign(driver.state, {
      greeted: null,
      clientName: "",
      authUser: null,
      transaction: null,
      auth: null,
      tls: "active",
    });
    driver.io.startTls!();
  }
}

/** A chaos rule fired: fail with its reply, hang up, or (after its delay) go on. */
function applyFault(driver: Driver, fault: ChaosRule, proceed: () => void): void {
  driver.ctx.logger.traffic(driver.ctx.label, "S", `<chaos rule ${fault.id}: ${fault.action}>`);
  if (fault.action === "delay") return proceed();
  if (fault.action === "drop") return close(driver);
  if (fault.command === "DATA") driver.state.transaction = null;
  const text = faultReply(fault);
  if (fault.command === "CONNECT" || fault.code === 421) {
    send(driver, text);
    return close(driver);
  }
  sendReply(driver, text);
}

/**
 * Holds input for a chaos delay, then runs `then` and goes on with the buffered frames. The
 * connection is paused meanwhile: input would only pile up in the framer.
 */
function hold(driver: Driver, fault: ChaosRule, then: () => void): void {
  holdWhile(driver, (go) => driver.ctx.chaos!.later(fault.delayMs, go), then);
}

/**
 * Holds input until `wait` calls back (a chaos or failed-AUTH delay, a commit), then as `hold`;
 * `pause`: reading stops meanwhile.
 */
function holdWhile(
  driver: Driver,
  wait: (go: () => void) => void,
  then: () => void,
  pause = true,
): void {
  driver.held = true;
  flush(driver);
  if (pause) driver.io.pause?.();
  wait(() => {
    driver.held = false;
    if (driver.closed) return;
    if (pause) driver.io.resume?.();
    then();
    handleBufferedFrames(driver);
  });
}
