/**
 * The POP3 connection driver (RFC 1939, RFC 2449 PIPELINING): framer lines in, one command
 * at a time through the table in `commands.ts`, responses out. Sans-IO: the transport hands
 * it bytes and gives it a writer. Every failure becomes `-ERR` here, in one place
 * ({@linkcode errorLine}). Message bytes are written chunk by chunk, waiting for the
 * connection to drain whenever it holds more than its high-water mark, so a client that
 * never reads cannot make the server buffer a whole mailbox.
 *
 * @module
 */

import { isHttpRequestLine } from "../net/http_request_line.ts";
import { StoreError, type StoreEvent } from "../store/types.ts";
import { VERSION } from "../version.ts";
import { injectCommandFault } from "./chaos.ts";
import { COMMANDS } from "./commands.ts";
import type { Pop3Context, Pop3Outcome, Pop3Session } from "./context.ts";
import { type Pop3Frame, Pop3Framer } from "./framer.ts";
import { errLine, multiLine, okLine, Pop3Error, stuffedChunks, TERMINATOR } from "./wire.ts";

export type { Pop3Context } from "./context.ts";

/** Where the session's bytes go. */
export interface Pop3IO {
  /** Queues bytes; false when the caller should wait for {@linkcode drained}. */
  write(data: Uint8Array | string): boolean;
  drained(): Promise<void>;
  /** Stops and restarts reading from the client (while output waits to drain). */
  pause?(): void;
  resume?(): void;
  /** Closes after what was written. */
  close(): void;
  /** Switches the connection to TLS after what was written (see `Connection.startTls`). */
  startTls?(): void;
}

/** The transport's handle on a session. */
export interface Pop3SessionDriver {
  /** Writes the greeting (or applies a `CONNECT` chaos rule). */
  start(): void;
  receive(chunk: Uint8Array): void;
  /** Idle timeout (RFC 1939 3: the autologout timer): `-ERR` and close, no UPDATE. */
  idle(): void;
  /** A started command line did not end in time (slowloris): `-ERR` and close, no UPDATE. */
  slowInput(): void;
  /** Server shutdown: `-ERR` and close, no UPDATE. */
  shutdown(): void;
  /** The connection closed: the maildrop lock is released. */
  closed(): void;
}

interface Driver {
  readonly ctx: Pop3Context;
  readonly io: Pop3IO;
  readonly session: Pop3Session;
  framer: Pop3Framer;
  /** A command (or the greeting) is in progress: new input waits in the framer. */
  busy: boolean;
  ended: boolean;
  badInARow: number;
  /** AUTH waits for the client's next line. */
  lineWaiter: { resolve(line: string): void; reject(error: Error): void } | null;
  unsubscribe(): void;
}

/** Creates a session; `start()` sends the greeting. */
export function createPop3Session(ctx: Pop3Context, io: Pop3IO): Pop3SessionDriver {
  const driver: Driver = {
    ctx,
    io,
    session: undefined as unknown as Pop3Session,
    framer: new Pop3Framer(ctx.config.limits.pop3MaxLineLength),
    busy: false,
    ended: false,
    badInARow: 0,
    lineWaiter: null,
    unsubscribe: () => {},
  };
  (driver as { session: Pop3Session }).session = {
    ctx,
    state: "authorization",
    tls: ctx.tls ?? "off",
    pendingUser: null,
    maildrop: null,
    awaitLine: (prompt) => awaitLine(driver, prompt),
  };
  driver.unsubscribe = ctx.store.subscribe((event) => onStoreEvent(driver, event));
  // The field a close writes, written twice: see `SocketConnection` in lib/net/transport.ts.
  driver.ended = true;
  driver.ended = false;
  return {
    start: () => start(driver),
    receive(chunk) {
      if (driver.ended) return;
      driver.framer.push(chunk);
      if (driver.lineWaiter) deliverLine(driver);
      else pump(driver);
    },
    idle: () => endWith(driver, "Disconnected for inactivity."),
    slowInput: () => endWith(driver, "Timeout while receiving the command."),
    shutdown: () => endWith(driver, "Server shutting down."),
    closed: () => finish(driver),
  };
}

/** Writes `-ERR text` (unless a response is being written) and closes; nothing is expunged. */
function endWith(driver: Driver, text: string): void {
  if (driver.ended) return;
  if (!driver.busy || driver.lineWaiter) write(driver, errLine(null, text));
  close(driver);
}

function onStoreEvent(driver: Driver, event: StoreEvent): void {
  // The maildrop's messages and numbers are gone with a reset: the session ends.
  if (event.type === "reset" && driver.session.maildrop) {
    endWith(driver, "[SYS/TEMP] Server state was reset.");
  }
}

function start(driver: Driver): void {
  const { chaos } = driver.ctx;
  const fault = chaos?.decide("pop3", "CONNECT") ?? null;
  if (!fault) return greet(driver);
  driver.ctx.logger.traffic(driver.ctx.label, "S", `<chaos rule ${fault.id}: ${fault.action}>`);
  driver.busy = true;
  chaos!.sleep(fault.delayMs).then(() => {
    driver.busy = false;
    if (driver.ended) return;
    if (fault.action === "delay") {
      greet(driver);
      pump(driver);
    } else if (fault.action === "drop") close(driver);
    else {
      const text = fault.text ?? `Injected fault (chaos rule ${fault.id})`;
      write(driver, errLine(fault.code as string | null, text));
      close(driver);
    }
  });
}

function greet(driver: Driver): void {
  const { timestamp } = driver.ctx;
  write(driver, okLine(`Elektromail ${VERSION} ready.${timestamp ? ` ${timestamp}` : ""}`));
}

function write(driver: Driver, data: Uint8Array | string): boolean {
  if (driver.ended) return true;
  if (typeof data === "string") driver.ctx.logger.traffic(driver.ctx.label, "S", data);
  return driver.io.write(data);
}

/** Writes and, when the connection is full, waits until it drains. */
async function send(driver: Driver, data: Uint8Array | string): Promise<void> {
  if (!write(driver, data)) await untilDrained(driver);
}

/**
 * Waits for the client to read what is queued, reading nothing from it meanwhile: a client
 * that pipelines commands and never reads the answers holds neither output nor input here.
 */
async function untilDrained(driver: Driver): Promise<void> {
  if (driver.ended) return;
  driver.io.pause?.();
  await driver.io.drained();
  if (!driver.ended) driver.io.resume?.();
}

function close(driver: Driver): void {
  if (driver.ended) return;
  finish(driver);
  driver.io.close();
}

function finish(driver: Driver): void {
  if (driver.ended) return;
  driver.ended = true;
  driver.unsubscribe();
  if (driver.lineWaiter) {
    driver.lineWaiter.reject(new Error("Connection closed"));
    driver.lineWaiter = null;
  }
  const maildrop = driver.session.maildrop;
  if (maildrop) driver.ctx.locks.release(maildrop.user);
  driver.session.maildrop = null;
}

function awaitLine(driver: Driver, prompt: string): Promise<string> {
  write(driver, `+ ${prompt}\r\n`);
  return new Promise<string>((resolve, reject) => {
    if (driver.ended) return reject(new Error("Connection closed"));
    driver.lineWaiter = { resolve, reject };
    deliverLine(driver);
  });
}

function deliverLine(driver: Driver): void {
  const waiter = driver.lineWaiter;
  if (!waiter) return;
  const frame = driver.framer.next();
  if (!frame) return;
  driver.lineWaiter = null;
  driver.ctx.logger.traffic(driver.ctx.label, "C", "<credentials>");
  if (frame.type === "line") waiter.resolve(frame.line);
  else waiter.reject(new Pop3Error("AUTH", "Response line too long.", { bad: true }));
}

async function pump(driver: Driver): Promise<void> {
  if (driver.busy) return;
  driver.busy = true;
  try {
    while (!driver.ended && !driver.lineWaiter) {
      const frame = driver.framer.next();
      if (!frame) break;
      await handleFrame(driver, frame);
    }
  } catch (error) {
    driver.ctx.logger.error(`${driver.ctx.label}: session failed`, error);
    close(driver);
  } finally {
    driver.busy = false;
  }
}

async function handleFrame(driver: Driver, frame: Pop3Frame): Promise<void> {
  const { ctx, session } = driver;
  if (frame.type === "line-too-long") {
    const limit = ctx.config.limits.pop3MaxLineLength;
    return fail(
      driver,
      new Pop3Error(null, `Line too long (limit ${limit} octets).`, { bad: true }),
    );
  }
  if (isHttpRequestLine(frame.line)) {
    ctx.logger.warn(`${ctx.label}: an HTTP request on the POP3 port (a web page?); closed`);
    write(driver, errLine(null, "HTTP requests are not POP3."));
    return close(driver);
  }
  const space = frame.line.indexOf(" ");
  const verb = (space < 0 ? frame.line : frame.line.slice(0, space)).toUpperCase();
  const args = space < 0 ? "" : frame.line.slice(space + 1);
  const spec = COMMANDS.get(verb);
  ctx.logger.traffic(ctx.label, "C", spec?.secret && args !== "" ? `${verb} \u2026` : frame.line);
  try {
    if (!spec) {
      throw new Pop3Error(null, verb === "" ? "Unknown command." : `Unknown command: ${verb}`, {
        bad: true,
      });
    }
    if (!spec.states.includes(session.state)) {
      throw new Pop3Error(
        null,
        session.state === "authorization" ? "Not logged in." : "Already logged in.",
        { bad: true },
      );
    }
    if (ctx.chaos?.active) {
      const fault = await injectCommandFault(ctx.chaos, session, verb, args);
      if (fault === "drop" || driver.ended) return close(driver);
    }
    const outcome = await spec.run(session, args);
    driver.badInARow = 0;
    await sendOutcome(driver, outcome);
  } catch (error) {
    await fail(driver, error);
  }
}

/** Writes a command's response, its multi-line body, then closes or starts TLS as asked. */
async function sendOutcome(driver: Driver, outcome: Pop3Outcome): Promise<void> {
  let head = okLine(outcome.text);
  if (outcome.lines) head += multiLine(outcome.lines);
  await send(driver, head);
  if (outcome.message) {
    driver.ctx.logger.traffic(driver.ctx.label, "S", `<${outcome.message.length} octets>`);
    const message = outcome.message;
    /** Whether a chunk written is a view of the message's own bytes, maybe still queued. */
    let viewed = false;
    try {
      for (const chunk of stuffedChunks(message)) {
        if (driver.ended) return;
        if (chunk.buffer === message.buffer) viewed = true;
        if (!driver.io.write(chunk)) await untilDrained(driver);
      }
    } finally {
      // A SQLite store's read frees its bytes (see `Store.releaseRaw`), not at a later
      // collection: now if every chunk was a copy, else once the output queue has drained
      // (the transport holds what it queued, not a copy). Not waited for here.
      const release = () => driver.ctx.store.releaseRaw?.(message);
      if (viewed) void driver.io.drained().then(release);
      else release();
    }
    await send(driver, TERMINATOR);
  }
  if (outcome.close) return close(driver);
  if (outcome.startTls) {
    // RFC 2595 4: TLS starts right after the +OK; a fresh framer drops whatever the client
    // pipelined after STLS in plaintext (never executed), and a USER given before is forgotten.
    driver.framer = new Pop3Framer(driver.ctx.config.limits.pop3MaxLineLength);
    driver.session.pendingUser = null;
    driver.session.tls = "active";
    driver.io.startTls!();
  }
}

/** Answers a failure; bad commands in a row, a failed UPDATE or the login limit close. */
async function fail(driver: Driver, error: unknown): Promise<void> {
  if (driver.ended) return;
  const { line, bad, close: mustClose } = errorLine(driver, error);
  await send(driver, line);
  if (bad) driver.badInARow++;
  else driver.badInARow = 0;
  if (driver.badInARow >= driver.ctx.config.limits.maxBadCommands) {
    write(driver, errLine(null, "Too many bad commands."));
    return close(driver);
  }
  if (mustClose || driver.session.state === "update") close(driver);
}

/** The one mapping from a failure to its `-ERR` line. */
function errorLine(driver: Driver, error: unknown): { line: string; bad: boolean; close: boolean } {
  if (error instanceof Pop3Error) {
    return { line: errLine(error.code, error.message), bad: error.bad, close: error.close };
  }
  if (error instanceof StoreError && error.kind === "user-limit") {
    return { line: errLine("SYS/TEMP", error.message), bad: false, close: false };
  }
  driver.ctx.logger.error(`${driver.ctx.label}: command failed`, error);
  const text = driver.session.state === "update"
    ? "Could not remove the deleted messages; none were removed."
    : "Internal error occurred. Refer to server log for more information.";
  return { line: errLine("SYS/TEMP", text), bad: false, close: false };
}
