/**
 * The IMAP session driver: framer events in, responses out, one command at a time, with
 * unilateral updates sent only where RFC 9051 7.5.1 allows. Sans-IO: the transport hands it
 * bytes and gives it a writer.
 *
 * @module
 */

import { StoreError, type StoreEvent } from "../store/types.ts";
import { VERSION } from "../version.ts";
import { capabilities } from "./capabilities.ts";
import { injectCommandFault, injectConnectFault } from "./chaos.ts";
import { COMMANDS } from "./commands/mod.ts";
import {
  type CommandSpec,
  type ImapContext,
  ImapError,
  type ImapState,
  type Selection,
  type Session,
  storeErrorToImap,
} from "./context.ts";
import { continuation, flagList, ResponseBuilder, tagged, untagged } from "./encoder.ts";
import { type FrameEvent, ImapFramer } from "./framer.ts";
import { ParseError, readCommandName, Reader } from "./parser.ts";

/** Where the session's bytes go. */
export interface ImapIO {
  write(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  close(): void;
  /** Switches the connection to TLS after the written bytes (see `Connection.startTls`). */
  startTls?(): void;
}

/** The transport's handle on a session. */
export interface ImapSessionDriver {
  start(): void;
  receive(chunk: Uint8Array): void;
  idle(): void;
  shutdown(): void;
  closed(): void;
}

/** Largest literal accepted outside APPEND (LOGIN passwords, mailbox names). */
const MAX_SMALL_LITERAL = 64 * 1024;

const decoder = new TextDecoder();

/** Creates a session; `start()` sends the greeting. */
export function createImapSession(ctx: ImapContext, io: ImapIO): ImapSessionDriver {
  const { config, logger, store } = ctx;
  const newFramer = () =>
    new ImapFramer({
      maxLineLength: config.limits.maxLineLength,
      maxLiteralSize: Math.max(config.limits.maxMessageSize, MAX_SMALL_LITERAL),
    });
  let framer = newFramer();
  let tlsRequested = false;
  const builder = new ResponseBuilder();
  let busy = false;
  let ended = false;
  let badInARow = 0;
  let lineWaiter: { resolve(line: string): void; reject(error: Error): void } | null = null;

  /** Writes the pending output; literal bodies go out as the stored arrays, not copies. */
  const emit = () => {
    const chunks = builder.takeChunks();
    if (ended) return;
    for (const bytes of chunks) {
      if (logger.verbose) logger.traffic(ctx.label, "S", summarize(bytes));
      io.write(bytes);
    }
  };

  const session: Session = {
    ctx,
    state: "not-authenticated" as ImapState,
    user: null,
    selection: null,
    rev2: false,
    utf8: false,
    idling: false,
    tls: ctx.tls ?? "off",
    startTls() {
      session.tls = "active";
      tlsRequested = true;
    },
    get out() {
      return builder;
    },
    async flush() {
      emit();
      if (!ended) await io.drained();
    },
    awaitLine(prompt: string) {
      builder.push(continuation(prompt));
      emit();
      return new Promise<string>((resolve, reject) => {
        if (ended) return reject(new Error("Connection closed"));
        lineWaiter = { resolve, reject };
        deliverRawLine();
      });
    },
    sendUpdates(allowExpunge: boolean) {
      const selection = session.selection;
      if (!selection) return;
      if (selection.tracker.gone) {
        builder.push(untagged("BYE Selected mailbox was deleted or reset, have to disconnect"));
        session.close();
        return;
      }
      const before = selection.tracker.maxUid;
      for (const update of selection.tracker.flush(allowExpunge)) {
        if (update.type === "expunge") {
          selection.recent.delete(update.uid);
          builder.push(untagged(`${update.seq} EXPUNGE`));
        } else if (update.type === "exists") {
          builder.push(untagged(`${update.count} EXISTS`));
          if (!session.rev2) {
            claimRecent(session, selection, before);
            builder.push(untagged(`${selection.recent.size} RECENT`));
          }
        } else {
          const flags = flagList(update.flags, !session.rev2 && selection.recent.has(update.uid));
          builder.push(untagged(`${update.seq} FETCH (UID ${update.uid} FLAGS ${flags})`));
        }
      }
    },
    close() {
      if (ended) return;
      emit();
      finish();
      io.close();
    },
  };

  const unsubscribe = store.subscribe((event: StoreEvent) => {
    if (ended) return;
    if (event.type === "reset" && session.state !== "not-authenticated") {
      builder.push(untagged("BYE Server state was reset"));
      session.close();
      return;
    }
    session.selection?.tracker.onEvent(event);
    if (session.idling) {
      session.sendUpdates(true);
      emit();
    }
  });

  function finish() {
    if (ended) return;
    ended = true;
    unsubscribe();
    lineWaiter?.reject(new Error("Connection closed"));
    lineWaiter = null;
  }

  function deliverRawLine() {
    if (!lineWaiter) return;
    const raw = framer.readRawLine();
    if (!raw) return;
    const waiter = lineWaiter;
    lineWaiter = null;
    const line = decoder.decode(raw).replace(/\r?\n$/, "");
    logger.traffic(ctx.label, "C", session.idling ? line : "<continuation>");
    waiter.resolve(line);
  }

  async function pump() {
    if (busy) return;
    busy = true;
    try {
      while (!ended && !lineWaiter) {
        const event = framer.next();
        if (!event) break;
        await handleEvent(event);
        if (!ended) {
          emit();
        }
      }
    } catch (error) {
      logger.error(`${ctx.label}: session failed`, error);
      builder.push(untagged("BYE Internal server error"));
      session.close();
    } finally {
      busy = false;
    }
  }

  async function handleEvent(event: FrameEvent) {
    switch (event.type) {
      case "command":
        await runCommand(event.command);
        return;
      case "literal-request": {
        const verb = commandVerb(event.prefix);
        const isAppend = verb === "APPEND";
        const limit = isAppend ? config.limits.maxMessageSize : MAX_SMALL_LITERAL;
        if (isAppend && session.state !== "authenticated" && session.state !== "selected") {
          framer.rejectLiteral();
          countBad(tagged(event.tag, "BAD", null, "APPEND is not allowed before login"));
        } else if (event.size > limit) {
          framer.rejectLiteral();
          builder.push(
            tagged(
              event.tag,
              isAppend ? "NO" : "BAD",
              "TOOBIG",
              `Literal of ${event.size} octets is over the limit of ${limit}`,
            ),
          );
        } else {
          framer.acceptLiteral();
          builder.push(continuation("Ready for literal data"));
        }
        return;
      }
      case "line-too-long":
        countBad(
          tagged(
            event.tag ?? "*",
            "BAD",
            null,
            `Command line too long (limit ${config.limits.maxLineLength} octets)`,
          ),
        );
        return;
      case "literal-too-big":
        countBad(
          tagged(
            event.tag ?? "*",
            "BAD",
            "TOOBIG",
            `Literal of ${event.size} octets is over the limit`,
          ),
        );
        return;
    }
  }

  /**
   * RFC 9051 6.2.1: TLS starts right after the tagged OK; a fresh framer drops whatever the
   * client pipelined after STARTTLS in plaintext (never executed).
   */
  function switchToTls() {
    tlsRequested = false;
    emit();
    framer = newFramer();
    io.startTls!();
  }

  function countBad(response: string) {
    builder.push(response);
    if (++badInARow >= config.limits.maxBadCommands) {
      builder.push(untagged("BYE Too many invalid commands"));
      session.close();
    }
  }

  async function runCommand(command: { line: Uint8Array }) {
    logger.traffic(ctx.label, "C", summarizeCommand(command.line));
    let reader: Reader;
    let tag: string | null = null;
    let spec: CommandSpec | undefined;
    let verb = "";
    try {
      reader = new Reader(command as never);
      tag = reader.readTag();
      reader.sp();
      verb = readCommandName(reader);
      if (verb === "UID") {
        reader.sp();
        verb = `UID ${readCommandName(reader)}`;
      }
      spec = COMMANDS.get(verb);
      if (!spec) throw new ImapError("BAD", null, `Unknown command: ${verb}`);
      if (!spec.states.includes(session.state)) {
        throw new ImapError("BAD", null, `${verb} is not allowed in the ${session.state} state`);
      }
      if (
        ctx.chaos?.active && await injectCommandFault(ctx.chaos, session, verb, command as never)
      ) {
        return;
      }
      if (ended) return;
      const result = await spec.run(session, reader, tag);
      if (ended) return;
      session.sendUpdates(spec.allowExpunge);
      if (ended) return;
      const code = result?.code ?? null;
      builder.push(tagged(tag, "OK", code, result?.text ?? `${verb} completed`));
      badInARow = 0;
      if (session.state === "logout") session.close();
      if (tlsRequested) switchToTls();
    } catch (error) {
      if (ended) return;
      const responseTag = tag ?? (error instanceof ParseError ? error.tag : null) ?? "*";
      if (error instanceof ImapError) {
        if (spec) session.sendUpdates(spec.allowExpunge);
        if (error.status === "BAD") countBad(tagged(responseTag, "BAD", error.code, error.message));
        else {
          builder.push(tagged(responseTag, "NO", error.code, error.message));
          badInARow = 0;
        }
      } else if (error instanceof ParseError) {
        countBad(tagged(responseTag, "BAD", null, error.message || "Syntax error"));
      } else if (error instanceof StoreError) {
        const mapped = storeErrorToImap(error);
        builder.push(tagged(responseTag, mapped.status, mapped.code, mapped.message));
      } else {
        logger.error(`${ctx.label}: ${verb || "command"} failed`, error);
        builder.push(
          tagged(
            responseTag,
            "NO",
            "SERVERBUG",
            "Internal server error; the command was not completed",
          ),
        );
      }
    }
  }

  const greet = () => {
    builder.push(
      untagged(`OK [CAPABILITY ${capabilities(session).join(" ")}] Elektromail ${VERSION} ready`),
    );
    emit();
  };

  return {
    start() {
      const fault = ctx.chaos?.decide("imap", "CONNECT");
      if (!fault) return greet();
      // Commands wait in the framer until the greeting (or the hang-up) is done.
      busy = true;
      injectConnectFault(ctx.chaos!, fault, {
        greet,
        bye: (text) => {
          builder.push(untagged(text));
          session.close();
        },
        drop: () => session.close(),
      }).then(() => {
        busy = false;
        if (!ended) pump();
      });
    },
    receive(chunk) {
      if (ended) return;
      framer.push(chunk);
      if (lineWaiter) deliverRawLine();
      else pump();
    },
    idle() {
      if (ended) return;
      if (session.idling) return;
      builder.push(untagged("BYE Autologout; idle for too long"));
      session.close();
    },
    shutdown() {
      if (ended) return;
      builder.push(untagged("BYE Server shutting down"));
      session.close();
    },
    closed() {
      finish();
    },
  };
}

/**
 * Marks messages above `previousMax` that no session has seen yet as `\Recent` for this one
 * (RFC 3501 2.3.2); a read-only session reports them without claiming them.
 */
export function claimRecent(session: Session, selection: Selection, previousMax: number): void {
  const key = `${selection.tracker.user}\u0000${selection.tracker.mailbox}`;
  const claimed = session.ctx.shared.recentClaims.get(key) ?? 0;
  let highest = claimed;
  // UIDs ascend: walk down from the newest until one was seen (by this session or another).
  const floor = Math.max(previousMax, claimed);
  for (let seq = selection.tracker.count; seq >= 1; seq--) {
    const uid = selection.tracker.uidAt(seq)!;
    if (uid <= floor) break;
    selection.recent.add(uid);
    highest = Math.max(highest, uid);
  }
  if (!selection.readOnly && highest > claimed) session.ctx.shared.recentClaims.set(key, highest);
}

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

function summarize(bytes: Uint8Array): string {
  if (bytes.length <= 2000) return decoder.decode(bytes);
  return `${decoder.decode(bytes.subarray(0, 600))}… <${bytes.length} octets>`;
}
