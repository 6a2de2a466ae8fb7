/**
 * Types shared by the IMAP session and its command handlers: session state, the state sets
 * and command table entry, and the typed error that becomes a tagged `NO`/`BAD`.
 *
 * @module
 */

import type { InFlightBudget } from "../net/in_flight.ts";
import type { AuthAttempts } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TlsState } from "../net/transport.ts";
import type { PendingCommit, Store } from "../store/types.ts";
import type { AddressColumns } from "./address_columns.ts";
import type { ResponseBuilder } from "./encoder.ts";
import type { SortOrders } from "./sort_cache.ts";
import type { HeaderFieldItems } from "./header_fields.ts";
import type { NotifyState } from "./notify_state.ts";
import type { Reader } from "./parser.ts";
import type { RecentUids } from "./recent.ts";
import type { LiveResults } from "./search_updates.ts";
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
  /** Where HEADER.FIELDS data items are built and kept (see header_fields.ts). */
  readonly fieldItems: HeaderFieldItems;
  /** Sorted orders of mailboxes, for repeated SORTs (sort_cache.ts); none: not kept. */
  readonly sortOrders?: SortOrders;
  /** What address searches can rule out (address_columns.ts); none: not kept. */
  readonly addressColumns?: AddressColumns;
  /**
   * Octets of APPEND literals (past {@linkcode MAX_SMALL_LITERAL}) the server's sessions hold
   * at once (lib/net/in_flight.ts); none: no shared bound (the warm-up, tests).
   */
  readonly literalBudget?: InFlightBudget;
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
  /** This connection's failed logins (auth_guard.ts); none: not counted. */
  readonly authAttempts?: AuthAttempts;
}

/** The selected mailbox of a session. */
export interface Selection {
  readonly tracker: MailboxTracker;
  readonly readOnly: boolean;
  /** UIDs this session reports as `\Recent` (rev1 only). */
  readonly recent: RecentUids;
  /**
   * The result kept by `SEARCH RETURN (SAVE)` (RFC 5182), as UIDs ascending: what `$` means.
   * A new selection has none, so `$` starts empty.
   */
  savedSearch?: number[];
  /** Results kept up to date (CONTEXT=SEARCH, RFC 5267); made by the first one. */
  liveResults?: LiveResults;
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
  /**
   * CONDSTORE is enabled (RFC 7162 3.1: `ENABLE CONDSTORE` or any CONDSTORE-enabling
   * command): FETCH responses carry MODSEQ, SELECT sends HIGHESTMODSEQ.
   */
  condstore: boolean;
  /** `ENABLE QRESYNC` (RFC 7162 3.2.3; implies CONDSTORE): VANISHED instead of EXPUNGE. */
  qresync: boolean;
  /** In IDLE: unilateral updates are written as they happen. */
  idling: boolean;
  /** TLS on the connection now. */
  tls: TlsState;
  /** NOTIFY SET (RFC 5465) in force, with what it owes; null: none. */
  notify: NotifyState | null;
  /** COMPRESS=DEFLATE is active (or starts after this command's tagged OK). */
  compressed: boolean;
  /** The connection has ended: nothing more is written. */
  readonly ended: boolean;
  /** STARTTLS: switch to TLS right after this command's tagged OK is written. */
  startTls(): void;
  /** COMPRESS (RFC 4978): compress both ways right after this command's tagged OK. */
  startCompression(): void;
  /** The CAPABILITY list for the session's current state (capabilities.ts). */
  capabilities(): string[];
  /** Pending output, written after each command (and during long FETCHes). */
  readonly out: ResponseBuilder;
  /**
   * Ends the command with `reply` (its tagged OK) once `commit` is made, or with `failed`
   * if the commit fails: output after it waits until then, so replies keep their order.
   */
  replyAfter(commit: PendingCommit, reply: string, failed: string): void;
  /** Writes pending output and waits while the peer is slow to read. */
  flush(): Promise<void>;
  /** Writes pending output and waits until all of it is written. */
  drained(): Promise<void>;
  /**
   * Writes a `+ prompt` continuation and resolves with the client's next line, read raw
   * (AUTHENTICATE responses, IDLE's DONE); rejects if the connection closes first.
   */
  awaitLine(prompt: string): Promise<string>;
  /** Closes the connection after the pending output. */
  close(): void;
}

/**
 * A session after login: what commands that run only in the authenticated and selected
 * states get from the dispatcher, which checks the state first.
 */
export interface AuthedSession extends Session {
  readonly user: string;
}

/** The result of a successful command: the tagged OK's code and text. */
export interface CommandResult {
  readonly code?: string | null;
  readonly text?: string;
  /**
   * The commit the command's changes wait for (`Store.shareCommit`): its tagged OK is written
   * only once they are stored, and it becomes `NO [SERVERBUG]` if the commit fails.
   */
  readonly commit?: PendingCommit;
}

/** Every state a command can run in but logout. */
export const ANY = ["not-authenticated", "authenticated", "selected"] as const;
/** Before login only. */
export const NOT_AUTHENTICATED = ["not-authenticated"] as const;
/** Logged in, with or without a selected mailbox. */
export const AUTHED = ["authenticated", "selected"] as const;
/** With a selected mailbox. */
export const SELECTED = ["selected"] as const;

/** The states after login in which commands run. */
export type AuthedState = typeof AUTHED[number];

/** What the dispatcher runs a command with. */
type CommandRun<S extends Session> = (
  session: S,
  reader: Reader,
  tag: string,
) => CommandResult | void | Promise<CommandResult | void>;

/** What every command table entry has (Dovecot's, go-imap's): where it may run, what it does. */
interface CommandBase {
  /**
   * Whether EXPUNGE responses may be sent right after this command (RFC 9051 7.5.1: not
   * after FETCH, STORE or SEARCH by sequence number).
   */
  readonly allowExpunge: boolean;
  /**
   * The capabilities this command brings to CAPABILITY (RFC 9051 7.2.2). They are listed in
   * the order of the command table (commands/mod.ts); capabilities.ts adds the rest.
   */
  readonly capabilities?: readonly string[];
  /** When {@linkcode CommandBase.capabilities} are advertised: by default once logged in. */
  readonly advertised?: (session: CapabilityView) => boolean;
}

/** A command that may run before login: it sees the session as it is. */
export interface OpenCommandSpec extends CommandBase {
  readonly states: readonly ImapState[];
  readonly run: CommandRun<Session>;
}

/** A command that runs only after login: it gets the session with its user. */
export interface AuthedCommandSpec extends CommandBase {
  readonly states: readonly AuthedState[];
  readonly run: CommandRun<AuthedSession>;
}

/** A command table entry. */
export type CommandSpec = OpenCommandSpec | AuthedCommandSpec;

/** What deciding the capability list needs of a session. */
export type CapabilityView = Pick<Session, "state" | "tls" | "ctx">;
