/**
 * The IMAP connection driver: framer events in, responses out, one command at a time
 * (dispatch.ts runs each), with unilateral updates (updates.ts) written during IDLE as they
 * happen. Sans-IO: the transport hands it bytes and gives it a writer.
 *
 * @module
 */

import { isHttpRequestLine } from "../net/http_request_line.ts";
import { allocateShared } from "../mail/shared_bytes.ts";
import type { PendingCommit, StoreEvent } from "../store/types.ts";
import { VERSION } from "../version.ts";
import { capabilities } from "./capabilities.ts";
import { injectConnectFault } from "./chaos.ts";
import { COMMANDS } from "./commands/mod.ts";
import type { AuthedCommandSpec, AuthedSession, ImapContext, Session } from "./context.ts";
import {
  type LiteralDecision,
  literalDecision,
  type LiteralRequest,
  MAX_SMALL_LITERAL,
  runCommand,
} from "./dispatch.ts";
import { continuation, ResponseBuilder, tagged, untagged } from "./encoder.ts";
import { type FrameEvent, ImapFramer } from "./framer.ts";
import { Reader } from "./parser.ts";
import { recordNotification, writeNotifications } from "./notify.ts";
import { sendUpdates } from "./updates.ts";
import { DELIVERY_BATCH } from "./warm.ts";

/** Where the session's bytes go. */
export interface ImapIO {
  write(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  close(): void;
  /** Switches the connection to TLS after the written bytes (see `Connection.startTls`). */
  startTls?(): void;
  /** Compresses both ways after the written bytes (see `Connection.startCompression`). */
  startCompression?(): void;
  /** Stops reading from the client until {@linkcode resume} (see `Connection.pause`). */
  pause?(): void;
  resume?(): void;
}

/** The transport's handle on a session. */
export interface ImapSessionDriver {
  start(): void;
  receive(chunk: Uint8Array): void;
  /** Where the transport may read to: see `ImapFramer.literalSpace`. */
  readTarget(): Uint8Array | null;
  idle(): void;
  /** A started command line did not arrive in time; the transport closes after this. */
  slowInput(): void;
  shutdown(): void;
  closed(): void;
}

/**
 * Smallest rest of a literal read straight into its buffer: below it, one ordinary read
 * takes the rest with the commands that follow (fewer reads for small messages).
 */
const DIRECT_READ_MIN = 16 * 1024;

/**
 * Pipelined APPENDs that share one commit at most (SQLite; see {@linkcode pump}): as many as the
 * index warmer indexes of one burst of store events at delivery (lib/imap/warm.ts); more would
 * leave the rest to the first FETCH (a 1 MB read's ~48 APPENDs to a commit: the first `FETCH 1:*
 * (ENVELOPE BODYSTRUCTURE)` after 5,000 took 104 ms against 26-35). In a script, 21.6 KB messages
 * cost the store 125 us each with a commit each, 75 with eight to a commit, 74 with 32
 * (`bench/sqlite_append_cpu.ts`, issue 13, round 23).
 */
export const APPEND_BATCH = DELIVERY_BATCH;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Input buffered while a command runs, past which the client is no longer read until the
 * command is done: a client that keeps sending during a long FETCH, a delayed failed login or
 * a chaos delay cannot make the server hold more than this (plus one read) of its input.
 */
export const MAX_BUFFERED_INPUT = 64 * 1024;

/** The driver's own state around the {@linkcode Session} that commands see. */
interface Connection {
  readonly ctx: ImapContext;
  readonly io: ImapIO;
  readonly out: ResponseBuilder;
  framer: ImapFramer;
  /** A command (or the greeting) is in progress: new input waits in the framer. */
  busy: boolean;
  ended: boolean;
  badInARow: number;
  /** STARTTLS succeeded: switch after its tagged OK is written. */
  tlsRequested: boolean;
  /** COMPRESS succeeded: compress after its tagged OK is written. */
  compressionRequested: boolean;
  /** A command waits for the client's next raw line (AUTHENTICATE, IDLE). */
  lineWaiter: { resolve(line: string): void; reject(error: Error): void } | null;
  /** Reading is paused: too much input came in while a command was busy. */
  paused: boolean;
  /** NOTIFY and IDLE output waits for the client to read what came before. */
  notifyBlocked: boolean;
  /** Octets of this command's literals held against the server's literal budget. */
  literalReserved: number;
  /**
   * Tagged replies waiting for their commit (`Session.replyAfter`), oldest first; all output
   * after the first of them waits with it.
   */
  held: HeldReply[];
  /** Resolves when `held` empties; null while nothing waits. */
  heldWritten: PromiseWithResolvers<void> | null;
  unsubscribe(): void;
}

/** A tagged reply that waits for a commit, with the output of its command before it. */
interface HeldReply {
  readonly before: Uint8Array[];
  readonly reply: string;
  readonly failed: string;
  /** undefined until the commit is made or fails; then null or the error. */
  outcome: unknown;
}

/** Creates a session; `start()` sends the greeting. */
export function createImapSession(ctx: ImapContext, io: ImapIO): ImapSessionDriver {
  const conn: Connection = {
    ctx,
    io,
    out: new ResponseBuilder(),
    framer: newFramer(ctx),
    busy: false,
    ended: false,
    badInARow: 0,
    tlsRequested: false,
    compressionRequested: false,
    lineWaiter: null,
    paused: false,
    notifyBlocked: false,
    literalReserved: 0,
    held: [],
    heldWritten: null,
    unsubscribe: () => {},
  };
  // The field a close writes, written twice: see `SocketConnection` in lib/net/transport.ts.
  conn.ended = true;
  conn.ended = false;
  const session = newSession(conn);
  conn.unsubscribe = ctx.store.subscribe((event) => onStoreEvent(conn, session, event));
  return {
    start: () => start(conn, session),
    receive(chunk) {
      if (conn.ended) return;
      conn.framer.push(chunk);
      if (conn.lineWaiter) deliverRawLine(conn, session);
      else pump(conn, session);
      if (conn.busy && !conn.lineWaiter && conn.framer.buffered > MAX_BUFFERED_INPUT) {
        conn.paused = true;
        io.pause?.();
      }
    },
    readTarget: () => conn.ended ? null : conn.framer.literalSpace(DIRECT_READ_MIN),
    idle() {
      if (conn.ended || session.idling) return;
      conn.out.push(untagged("BYE Autologout; idle for too long"));
      session.close();
    },
    slowInput() {
      if (conn.ended) return;
      conn.out.push(untagged("BYE Timeout while receiving the command"));
      session.close();
    },
    shutdown() {
      if (conn.ended) return;
      conn.out.push(untagged("BYE Server shutting down"));
      session.close();
    },
    closed: () => finish(conn),
  };
}

function newFramer(ctx: ImapContext): ImapFramer {
  return new ImapFramer({
    maxLineLength: ctx.config.limits.imapMaxLineLength,
    // Past this a non-synchronizing literal goes through literalDecision too.
    maxLiteralSize: MAX_SMALL_LITERAL,
    // The memory store keeps an APPEND's literal as the message: in shared memory, which V8
    // does not count (lib/mail/shared_bytes.ts). SQLite keeps a copy of its own.
    newLiteral: ctx.store.kind === "memory" ? allocateShared : undefined,
  });
}

/** The session commands work on; its methods act on the connection. */
function newSession(conn: Connection): Session {
  const { ctx, io, out } = conn;
  const session: Session = {
    ctx,
    state: "not-authenticated",
    user: null,
    selection: null,
    rev2: false,
    utf8: false,
    condstore: false,
    qresync: false,
    idling: false,
    tls: ctx.tls ?? "off",
    compressed: false,
    notify: null,
    get ended() {
      return conn.ended;
    },
    startTls() {
      session.tls = "active";
      conn.tlsRequested = true;
    },
    startCompression() {
      session.compressed = true;
      conn.compressionRequested = true;
    },
    capabilities: () => capabilities(session, COMMANDS),
    out,
    async flush() {
      if (!emit(conn) && !conn.ended) await io.drained();
    },
    async drained() {
      emit(conn);
      // Output held for a commit is not written yet: wait for it too.
      if (conn.heldWritten !== null) await conn.heldWritten.promise;
      if (!conn.ended) await io.drained();
    },
    replyAfter(commit: PendingCommit, reply: string, failed: string) {
      const held: HeldReply = { before: out.takeChunks(), reply, failed, outcome: undefined };
      conn.held.push(held);
      conn.heldWritten ??= Promise.withResolvers<void>();
      commit.whenCommitted((error) => {
        held.outcome = error;
        if (error !== null) ctx.logger.error(`${ctx.label}: APPEND not stored`, error);
        emit(conn);
      });
    },
    awaitLine(prompt: string) {
      out.push(continuation(prompt));
      emit(conn);
      resumeReading(conn);
      return new Promise<string>((resolve, reject) => {
        if (conn.ended) return reject(new Error("Connection closed"));
        conn.lineWaiter = { resolve, reject };
        deliverRawLine(conn, session);
      });
    },
    close() {
      if (conn.ended) return;
      emit(conn);
      finish(conn);
      io.close();
    },
  };
  return session;
}

/**
 * Writes the pending output; literal bodies go out as the stored arrays, not copies. Returns
 * false when the transport holds more unsent output than it wants (its high-water mark):
 * the caller should wait for `drained()` before producing more.
 */
function emit(conn: Connection): boolean {
  if (conn.held.length > 0) return emitHeld(conn);
  const chunks = conn.out.takeChunks();
  if (conn.ended) return true;
  return write(conn, chunks);
}

/**
 * The replies held for commits that are made, in order, each after its command's output;
 * then, once none waits, the output after them. Output after a reply still waiting stays.
 */
function emitHeld(conn: Connection): boolean {
  let room = true;
  while (conn.held.length > 0) {
    const held = conn.held[0];
    if (held.outcome === undefined && !conn.ended) return room;
    conn.held.shift();
    if (conn.ended) continue;
    room = write(conn, held.before) && room;
    room = write(conn, [encoder.encode(held.outcome === null ? held.reply : held.failed)]) && room;
  }
  conn.heldWritten?.resolve();
  conn.heldWritten = null;
  const chunks = conn.out.takeChunks();
  if (conn.ended) return true;
  return write(conn, chunks) && room;
}

function write(conn: Connection, chunks: readonly Uint8Array[]): boolean {
  const { ctx, io } = conn;
  let room = true;
  for (const bytes of chunks) {
    if (ctx.logger.verbose) ctx.logger.traffic(ctx.label, "S", summarize(bytes));
    room = io.write(bytes) && room;
  }
  return room;
}

function finish(conn: Connection): void {
  if (conn.ended) return;
  conn.ended = true;
  releaseLiterals(conn);
  conn.unsubscribe();
  conn.held.length = 0;
  conn.heldWritten?.resolve();
  conn.heldWritten = null;
  if (conn.lineWaiter) {
    conn.lineWaiter.reject(new Error("Connection closed"));
    conn.lineWaiter = null;
  }
}

function onStoreEvent(conn: Connection, session: Session, event: StoreEvent): void {
  if (conn.ended) return;
  if (event.type === "reset" && session.state !== "not-authenticated") {
    conn.out.push(untagged("BYE Server state was reset"));
    session.close();
    return;
  }
  session.selection?.tracker.onEvent(event);
  if (session.notify) recordNotification(session, event);
  session.selection?.liveResults?.onEvent(event, session.selection.tracker);
  if (session.idling) sendIdleUpdates(conn, session);
  else if (session.notify && !conn.busy) sendNotifications(conn, session);
}

/**
 * IDLE's updates (RFC 2177), as they come; but not to a client that does not read them: once
 * the output is past the connection's high-water mark, they wait in the tracker (which keeps
 * one pending flag change per message, whatever the number of changes) until it drains, as
 * NOTIFY's do. Written at every change, 50 idling clients that never read grew the server by
 * ~60 MB per STORE of 1,000 messages (hostile-client audit, round 34).
 */
function sendIdleUpdates(conn: Connection, session: Session): void {
  if (conn.notifyBlocked || conn.ended) return;
  const before = session.selection?.tracker.maxUid ?? 0;
  sendUpdates(session, true);
  fetchNewMessages(session, before);
  emitOrHold(conn, session);
}

/**
 * Writes the queued output; past the high-water mark, the output the server pushes unasked
 * (IDLE's and NOTIFY's) waits until the client has read it, then goes on.
 */
function emitOrHold(conn: Connection, session: Session): void {
  if (emit(conn) || conn.ended) return;
  conn.notifyBlocked = true;
  conn.io.drained().then(() => {
    conn.notifyBlocked = false;
    if (conn.ended) return;
    if (session.idling) sendIdleUpdates(conn, session);
    else if (conn.busy) return;
    // NOTIFICATIONOVERFLOW turned NOTIFY off meanwhile: its response still goes out now.
    else if (session.notify) sendNotifications(conn, session);
    else emit(conn);
  });
}

/**
 * RFC 5465 3: with NOTIFY, notifications go out as they happen, not only after commands;
 * the selected mailbox's updates too when SELECTED asked for them (EXPUNGE held back by
 * SELECTED-DELAYED). While the client is slow to read, they wait (coalesced, bounded in
 * notify.ts) until it has.
 */
function sendNotifications(conn: Connection, session: Session): void {
  if (conn.notifyBlocked || conn.ended) return;
  const notify = session.notify;
  if (notify?.selected && session.selection) {
    const before = session.selection.tracker.maxUid;
    sendUpdates(session, !notify.selectedDelayed);
    fetchNewMessages(session, before);
  } else writeNotifications(session);
  emitOrHold(conn, session);
}

/**
 * RFC 5465 5.2: MessageNew's fetch attributes, as a `UID FETCH` of the messages just
 * announced (those above `before`). Items that read large data may write out in several
 * steps (FETCH flushes past 256 KiB); small ones complete here.
 */
function fetchNewMessages(session: Session, before: number): void {
  const atts = session.notify?.fetchAtts;
  const after = session.selection?.tracker.maxUid ?? 0;
  if (!atts || after <= before || session.state !== "selected") return;
  const reader = new Reader({
    line: encoder.encode(` ${before + 1}:${after} ${atts}`),
    literals: [],
  });
  const fetch = COMMANDS.get("UID FETCH") as AuthedCommandSpec;
  Promise.resolve(fetch.run(session as AuthedSession, reader, "*")).catch(() => {
    // Expunged meanwhile (NO [EXPUNGEISSUED]): its EXPUNGE follows.
  });
}

function start(conn: Connection, session: Session): void {
  const { chaos } = conn.ctx;
  const fault = chaos?.decide("imap", "CONNECT");
  if (!chaos || !fault) return greet(conn, session);
  // Commands wait in the framer until the greeting (or the hang-up) is done.
  conn.busy = true;
  injectConnectFault(chaos, fault, {
    greet: () => greet(conn, session),
    bye: (text) => {
      conn.out.push(untagged(text));
      session.close();
    },
    drop: () => session.close(),
  }).then(() => {
    conn.busy = false;
    if (!conn.ended) pump(conn, session);
    resumeReading(conn);
  });
}

function greet(conn: Connection, session: Session): void {
  conn.out.push(
    untagged(`OK [CAPABILITY ${session.capabilities().join(" ")}] Elektromail ${VERSION} ready`),
  );
  emit(conn);
}

function deliverRawLine(conn: Connection, session: Session): void {
  if (!conn.lineWaiter) return;
  const raw = conn.framer.readRawLine();
  if (!raw) return;
  const waiter = conn.lineWaiter;
  conn.lineWaiter = null;
  const line = decoder.decode(raw).replace(/\r?\n$/, "");
  conn.ctx.logger.traffic(conn.ctx.label, "C", session.idling ? line : "<continuation>");
  waiter.resolve(line);
}

/**
 * Runs the commands framed so far, one after the other. APPENDs that follow each other in
 * them share one commit (SQLite; up to {@linkcode APPEND_BATCH}): the session holds the store's
 * shared commit open across them (`Store.holdSharedCommit`) and makes it before anything
 * else runs, and their tagged OKs wait for it (`Session.replyAfter`).
 */
async function pump(conn: Connection, session: Session): Promise<void> {
  if (conn.busy) return;
  conn.busy = true;
  let release: (() => void) | null = null;
  let appends = 0;
  try {
    while (!conn.ended && !conn.lineWaiter) {
      const event = conn.framer.next();
      if (!event) break;
      // Not under fault injection, whose delays would hold the commit (and other sessions').
      if (isAppend(event) && !conn.ctx.chaos?.active) {
        release ??= conn.ctx.store.holdSharedCommit();
        appends++;
      } else if (release !== null) {
        release();
        release = null;
        appends = 0;
      }
      await handleEvent(conn, session, event);
      if (release !== null && appends >= APPEND_BATCH) {
        release();
        release = null;
        appends = 0;
      }
      // Pipelined commands wait while the client is slow to read what came before; never
      // with the commit held, which other sessions' deliveries may have joined.
      if (!conn.ended && !emit(conn)) {
        release?.();
        release = null;
        appends = 0;
        await conn.io.drained();
      }
    }
  } catch (error) {
    conn.ctx.logger.error(`${conn.ctx.label}: session failed`, error);
    conn.out.push(untagged("BYE Internal server error"));
    session.close();
  } finally {
    release?.();
    conn.busy = false;
    resumeReading(conn);
    // What happened since the last command's updates were written.
    if (session.notify) sendNotifications(conn, session);
  }
}

/** Whether `event` is an APPEND command: its tag, a space, `APPEND` in any case, a space. */
function isAppend(event: FrameEvent): boolean {
  if (event.type !== "command") return false;
  const line = event.command.line;
  const at = line.indexOf(0x20) + 1;
  if (at === 0 || line.length < at + 7 || line[at + 6] !== 0x20) return false;
  for (let i = 0; i < 6; i++) {
    if ((line[at + i] | 0x20) !== APPEND_LOWER.charCodeAt(i)) return false;
  }
  return true;
}

const APPEND_LOWER = "append";

/** Reads from the client again after {@linkcode MAX_BUFFERED_INPUT} paused it. */
function resumeReading(conn: Connection): void {
  if (!conn.paused || conn.ended) return;
  conn.paused = false;
  conn.io.resume?.();
}

async function handleEvent(conn: Connection, session: Session, event: FrameEvent): Promise<void> {
  const { limits } = conn.ctx.config;
  switch (event.type) {
    case "command": {
      // Its literals are in the command now: handled by it, or garbage after it.
      releaseLiterals(conn);
      if (isHttpRequestLine(event.command.line)) {
        conn.ctx.logger.warn(
          `${conn.ctx.label}: an HTTP request on the IMAP port (a web page?); closed`,
        );
        conn.out.push(untagged("BYE HTTP requests are not IMAP"));
        return session.close();
      }
      const outcome = await runCommand(session, event.command);
      if (outcome === "BAD") countBad(conn, session);
      else if (outcome !== null) conn.badInARow = 0;
      // LOGOUT, or a command that ended the session (too many failed logins): after its answer.
      if (session.state === "logout") return session.close();
      if (outcome === "OK" && conn.tlsRequested) switchToTls(conn);
      if (outcome === "OK" && conn.compressionRequested) switchToDeflate(conn);
      return;
    }
    case "literal-request": {
      const decision = withinLiteralBudget(
        conn,
        event,
        literalDecision(event, session.state, limits.maxMessageSize),
      );
      if (decision.accept) conn.framer.acceptLiteral();
      else conn.framer.rejectLiteral();
      if (decision.response) conn.out.push(decision.response);
      if (decision.close) {
        conn.out.push(untagged("BYE Literal too big before login"));
        session.close();
      } else if (decision.countsAsBad) countBad(conn, session);
      return;
    }
    case "line-too-long": {
      const text = `Command line too long (limit ${limits.imapMaxLineLength} octets)`;
      conn.out.push(tagged(event.tag ?? "*", "BAD", null, text));
      countBad(conn, session);
      return;
    }
  }
}

/**
 * A literal past {@linkcode MAX_SMALL_LITERAL} the decision accepts is reserved against the
 * server's literal budget (lib/net/in_flight.ts) until its command runs; without room it is
 * refused, `NO [LIMIT]` (drained if it comes anyway), not counted as a bad command.
 */
function withinLiteralBudget(
  conn: Connection,
  request: LiteralRequest,
  decision: LiteralDecision,
): LiteralDecision {
  const budget = conn.ctx.shared.literalBudget;
  if (!decision.accept || !budget || request.size <= MAX_SMALL_LITERAL) return decision;
  if (budget.reserve(request.size)) {
    conn.literalReserved += request.size;
    return decision;
  }
  const text = "Too much mail is being received at once; try again later";
  return {
    accept: false,
    response: tagged(request.tag, "NO", "LIMIT", text),
    countsAsBad: false,
    close: false,
  };
}

function releaseLiterals(conn: Connection): void {
  conn.ctx.shared.literalBudget?.release(conn.literalReserved);
  conn.literalReserved = 0;
}

/** Counts a `BAD` just written; too many in a row end the connection. */
function countBad(conn: Connection, session: Session): void {
  if (++conn.badInARow >= conn.ctx.config.limits.maxBadCommands) {
    conn.out.push(untagged("BYE Too many invalid commands"));
    session.close();
  }
}

/**
 * RFC 9051 6.2.1: TLS starts right after the tagged OK; a fresh framer drops whatever the
 * client pipelined after STARTTLS in plaintext (never executed).
 */
function switchToTls(conn: Connection): void {
  conn.tlsRequested = false;
  emit(conn);
  conn.framer = newFramer(conn.ctx);
  conn.io.startTls!();
}

/**
 * RFC 4978 3: compression starts right after the tagged OK, both ways. The client must not
 * send before it has seen the OK, so what it pipelined after COMPRESS (uncompressed by its
 * own account) is dropped with the old framer, as after STARTTLS.
 */
function switchToDeflate(conn: Connection): void {
  conn.compressionRequested = false;
  emit(conn);
  conn.framer = newFramer(conn.ctx);
  conn.io.startCompression!();
}

function summarize(bytes: Uint8Array): string {
  if (bytes.length <= 2000) return decoder.decode(bytes);
  return `${decoder.decode(bytes.subarray(0, 600))}\u2026 <${bytes.length} octets>`;
}
