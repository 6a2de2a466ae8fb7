/**
 * Types shared by the IMAP session and its command handlers: session state, the command
 * table entry, and the typed error that becomes a tagged `NO`/`BAD`.
 *
 * @module
 */

import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TlsState } from "../net/transport.ts";
import type { Store, StoreError, StoreErrorKind } from "../store/types.ts";
import type { ResponseBuilder } from "./encoder.ts";
import type { Reader } from "./parser.ts";
import type { MailboxTracker } from "./tracker.ts";

/** Bytes of pending output past which a long response is written out mid-command. */
export const FLUSH_THRESHOLD = 256 * 1024;

/** RFC 9051 3: the connection states. */
export type ImapState = "not-authenticated" | "authenticated" | "selected" | "logout";

/** A failure that ends a command with a tagged `NO` or `BAD` (response code optional). */
export class ImapError extends Error {
  readonly status: "NO" | "BAD";
  readonly code: string | null;
  constructor(status: "NO" | "BAD", code: string | null, text: string) {
    super(text);
    this.name = "ImapError";
    this.status = status;
    this.code = code;
  }
}

/** State shared by every session of one server (not persisted). */
export interface ImapServerState {
  /** Highest UID per `user\0mailbox` that some session has seen as `\Recent` (rev1). */
  readonly recentClaims: Map<string, number>;
}

/** What handlers see of the server around the session. */
export interface ImapContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly label: string;
  readonly shared: ImapServerState;
  /** TLS on the connection at the start; `off` when absent. */
  readonly tls?: TlsState;
  /** Fault injection (`POST /chaos`); none when absent. */
  readonly chaos?: Chaos;
}

/** The selected mailbox of a session. */
export interface Selection {
  readonly tracker: MailboxTracker;
  readonly readOnly: boolean;
  /** UIDs this session reports as `\Recent` (rev1 only). */
  readonly recent: Set<number>;
  /** Keywords announced in the last FLAGS response. */
  keywords: Set<string>;
  /**
   * The result kept by `SEARCH RETURN (SAVE)` (RFC 5182), as UIDs ascending: what `$` means.
   * A new selection has none, so `$` starts empty.
   */
  savedSearch?: number[];
}

/** The mutable state handlers work on. */
export interface Session {
  readonly ctx: ImapContext;
  state: ImapState;
  user: string | null;
  selection: Selection | null;
  /** `ENABLE IMAP4rev2` was accepted. */
  rev2: boolean;
  /** `ENABLE UTF8=ACCEPT` (or rev2): mailbox names and quoted strings may be UTF-8. */
  utf8: boolean;
  /** In IDLE: unilateral updates are written as they happen. */
  idling: boolean;
  /** TLS on the connection now. */
  tls: TlsState;
  /** STARTTLS: switch to TLS right after this command's tagged OK is written. */
  startTls(): void;
  /** Pending output, written after each command (and during long FETCHes). */
  readonly out: ResponseBuilder;
  /** Writes pending output and waits while the peer is slow to read. */
  flush(): Promise<void>;
  /**
   * Writes a `+ prompt` continuation and resolves with the client's next line, read raw
   * (AUTHENTICATE responses, IDLE's DONE); rejects if the connection closes first.
   */
  awaitLine(prompt: string): Promise<string>;
  /** Sends pending unilateral updates of the selected mailbox (EXPUNGE only if allowed). */
  sendUpdates(allowExpunge: boolean): void;
  /** Closes the connection after the pending output. */
  close(): void;
}

/** The result of a successful command: the tagged OK's code and text. */
export interface CommandResult {
  readonly code?: string | null;
  readonly text?: string;
}

/** A command table entry (Dovecot's, go-imap's): where it may run, what it does. */
export interface CommandSpec {
  readonly states: readonly ImapState[];
  /**
   * Whether EXPUNGE responses may be sent right after this command (RFC 9051 7.5.1: not
   * after FETCH, STORE or SEARCH by sequence number).
   */
  readonly allowExpunge: boolean;
  run(
    session: Session,
    reader: Reader,
    tag: string,
  ): CommandResult | void | Promise<CommandResult | void>;
}

/** Throws `BAD` unless the session is in one of `states`. */
export function requireState(session: Session, states: readonly ImapState[], verb: string): void {
  if (!states.includes(session.state)) {
    throw new ImapError("BAD", null, `${verb} is not allowed in the ${session.state} state`);
  }
}

/** The one mapping from store failures to IMAP response codes (RFC 5530). */
export function storeErrorToImap(error: StoreError): ImapError {
  const code: Record<StoreErrorKind, string> = {
    "no-such-user": "NONEXISTENT",
    "no-such-mailbox": "NONEXISTENT",
    "mailbox-exists": "ALREADYEXISTS",
    "no-such-message": "NONEXISTENT",
    "invalid-name": "CANNOT",
    "invalid-user": "CANNOT",
    "has-children": "INUSE",
    "cannot-delete-inbox": "CANNOT",
    "user-limit": "LIMIT",
    "closed": "UNAVAILABLE",
  };
  return new ImapError("NO", code[error.kind], error.message);
}
