/**
 * The limits every size, count and time has (DESIGN.md "Limits"), with their defaults. Each
 * is set from a variable and a flag in config.ts; tests and embedders pass their own.
 *
 * @module
 */

import { DEFAULT_RECEIVE_TIMEOUT_MS, defaultMaxConnectionsPerAddress } from "./net/connection.ts";

/** Limits; each has a default and a variable. */
export interface Limits {
  /** Largest message accepted by SMTP DATA and IMAP APPEND, in octets. */
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  /** Open connections per listener. */
  readonly maxConnections: number;
  /** Open connections per listener from one client address. */
  readonly maxConnectionsPerAddress: number;
  /**
   * Longest IMAP command line, in octets: the text of all a command's lines, literals not
   * counted (past it: `BAD`, and the rest of the command is discarded).
   */
  readonly imapMaxLineLength: number;
  /** Longest SMTP line, command or message text, in octets (past it: `500 5.5.6`). */
  readonly smtpMaxLineLength: number;
  readonly smtpIdleTimeoutMs: number;
  readonly imapIdleTimeoutMs: number;
  /** RFC 1939 3: the POP3 autologout timer, at least 10 minutes. */
  readonly pop3IdleTimeoutMs: number;
  /** Longest POP3 line, command or SASL response, in octets (past it: `-ERR`). */
  readonly pop3MaxLineLength: number;
  /**
   * A started command line must end, and message data make progress, within this (slowloris
   * guard, see `net/input_guard.ts`); 0: no deadline.
   */
  readonly receiveTimeoutMs: number;
  /** Failed commands in a row before the server hangs up. */
  readonly maxBadCommands: number;
  /** Largest HTTP request body, in octets. */
  readonly maxHttpBody: number;
  /** Events queued for one `/events` listener before a listener that does not read is cut off. */
  readonly maxEventQueueBytes: number;
  /** Events queued for all `/events` listeners together (an event shared by many counts once). */
  readonly maxEventTotalBytes: number;
  /** Users created on demand (by delivery or any-credentials login); configured users are extra. */
  readonly maxUsers: number;
  /** Failed authentications on a connection answered at once; later ones wait (auth_guard.ts). */
  readonly authFailuresBeforeDelay: number;
  /** The wait before answering the first delayed failure; it doubles with each one after. */
  readonly authFailureDelayMs: number;
  /** The longest wait before answering a failed authentication. */
  readonly maxAuthFailureDelayMs: number;
  /** Failed authentications on one connection before it is closed. */
  readonly maxAuthFailures: number;
  /** Failed authentications per client address within the window, then refused (0: off). */
  readonly maxAuthFailuresPerAddress: number;
  /** The sliding window of `maxAuthFailuresPerAddress`. */
  readonly authFailureWindowMs: number;
  /**
   * HTTP request bodies being read and handled at once, in octets (a body without a length
   * counts as {@linkcode Limits.maxHttpBody}); past it a request gets 503.
   */
  readonly maxHttpBodiesInFlight: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageSize: 25 * 1024 * 1024,
  maxRecipients: 100,
  maxConnections: 200,
  maxConnectionsPerAddress: defaultMaxConnectionsPerAddress(200),
  // Dovecot's imap_max_line_length: sync clients list thousands of UIDs on one line.
  imapMaxLineLength: 64 * 1024,
  // RFC 5321 4.5.3.1.4/4.5.3.1.6 ask for 512 and 1,000; 8 KiB is lenient with real senders.
  smtpMaxLineLength: 8192,
  smtpIdleTimeoutMs: 5 * 60_000,
  imapIdleTimeoutMs: 30 * 60_000,
  pop3IdleTimeoutMs: 10 * 60_000,
  // RFC 2449 4 limits commands to 255 octets, but AUTH responses may be longer.
  pop3MaxLineLength: 8192,
  receiveTimeoutMs: DEFAULT_RECEIVE_TIMEOUT_MS,
  maxBadCommands: 20,
  maxHttpBody: 30 * 1024 * 1024,
  maxEventQueueBytes: 16 * 1024 * 1024,
  maxEventTotalBytes: 64 * 1024 * 1024,
  maxUsers: 10_000,
  // A client gets three tries at once, then waits 1, 2, 4, 5, 5... s, and is cut off at ten:
  // a guesser gets a few tries a minute per connection, a typo costs nothing.
  authFailuresBeforeDelay: 3,
  authFailureDelayMs: 1000,
  maxAuthFailureDelayMs: 5000,
  maxAuthFailures: 10,
  // Per address: 100 failures in 10 minutes, whatever the protocol or connection count.
  maxAuthFailuresPerAddress: 100,
  authFailureWindowMs: 10 * 60_000,
  maxHttpBodiesInFlight: 64 * 1024 * 1024,
};
