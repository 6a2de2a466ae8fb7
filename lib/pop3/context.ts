/**
 * What POP3 commands see: the server context, the session state they work on, and the shape
 * of a command table entry.
 *
 * @module
 */

import type { AuthAttempts } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TlsState } from "../net/connection.ts";
import type { Store } from "../store/types.ts";
import type { Maildrop, MaildropLocks } from "./maildrop.ts";

/** What a session needs from its server. */
export interface Pop3Context {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Connection label for logs: `pop3#12`. */
  readonly label: string;
  /** The maildrop locks of the server's POP3 listeners. */
  readonly locks: MaildropLocks;
  /** TLS on the connection; `off` when absent. */
  readonly tls?: TlsState;
  /** The APOP timestamp of the greeting (RFC 1939 7), or null when APOP is not offered. */
  readonly timestamp: string | null;
  /** Fault injection; none when absent. */
  readonly chaos?: Chaos;
  /** Counts failed logins; none: not counted. */
  readonly authAttempts?: AuthAttempts;
}

/** RFC 1939 3: AUTHORIZATION, then TRANSACTION once the maildrop is held, UPDATE at QUIT. */
export type Pop3State = "authorization" | "transaction" | "update";

/** The session state commands read and change. */
export interface Pop3Session {
  readonly ctx: Pop3Context;
  state: Pop3State;
  tls: TlsState;
  /** The name given by USER, waiting for PASS. */
  pendingUser: string | null;
  /** The logged-in user and the maildrop it holds (transaction state). */
  maildrop: Maildrop | null;
  /** Writes `+ prompt` and resolves with the client's next line (SASL exchanges). */
  awaitLine(prompt: string): Promise<string>;
}

/** What a command answers: `+OK text`, then a multi-line body, then what the driver does. */
export interface Pop3Outcome {
  readonly text: string;
  /** Lines of a multi-line response (stuffed and terminated by the driver). */
  readonly lines?: readonly string[];
  /**
   * Message bytes of a multi-line response (RETR, TOP), sent in wire form: the store's
   * (`Store.getRaw`), given back to it (`releaseRaw`) once sent.
   */
  readonly message?: Uint8Array;
  /** Close the connection after the response (QUIT, too many failed logins). */
  readonly close?: boolean;
  /** Start TLS after the response (STLS). */
  readonly startTls?: boolean;
}

/** One entry of the command table. */
export interface Pop3CommandSpec {
  /** The states it runs in; elsewhere it is refused as a bad command. */
  readonly states: readonly Pop3State[];
  /** Logs `VERB ...` instead of the line: the arguments are credentials. */
  readonly secret?: boolean;
  /** `args`: the line after the verb and its space, as sent (PASS may contain spaces). */
  run(session: Pop3Session, args: string): Pop3Outcome | Promise<Pop3Outcome>;
}

export const AUTHORIZATION: readonly Pop3State[] = ["authorization"];
export const TRANSACTION: readonly Pop3State[] = ["transaction"];
export const ANY: readonly Pop3State[] = ["authorization", "transaction"];
