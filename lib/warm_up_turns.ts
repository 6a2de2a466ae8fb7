/**
 * How the startup warm-up (lib/imap/warm_up.ts) runs the conversations of its other protocols
 * (lib/smtp/warm_up.ts, lib/pop3/warm_up.ts): a turn for real clients between exchanges, and
 * the count of exchanges that went as expected.
 *
 * @module
 */

/** What a protocol's warm-up conversation asks of the warm-up that plays it. */
export interface WarmUpTurns {
  /** Gives real clients a turn; false: stop here (the server is closing). */
  next(): Promise<boolean>;
  /** Counts an exchange, and whether every reply to it was the expected one. */
  counted(ok: boolean): void;
}
