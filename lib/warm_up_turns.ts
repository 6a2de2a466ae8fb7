/**
 * How the startup warm-up (lib/imap/warm_up.ts) runs the conversations of its other protocols
 * (lib/smtp/warm_up.ts, lib/pop3/warm_up.ts): whether to go on (it can be stopped), and the
 * count of exchanges that went as expected; and the settings every part's sessions run with.
 *
 * @module
 */

import type { Config } from "./config.ts";

/**
 * The server's settings as the warm-up's sessions see them: any credentials log in to the
 * private store and any recipient is delivered to it, whatever users and AUTH requirement the
 * server has.
 */
export function warmUpConfig(config: Config): Config {
  return { ...config, users: [], authDisabled: false, smtpAuthRequired: false };
}

/** What a protocol's warm-up conversation asks of the warm-up that plays it. */
export interface WarmUpTurns {
  /** Whether to go on: false once the warm-up was stopped (end the conversation there). */
  goOn(): boolean;
  /** Counts an exchange, and whether every reply to it was the expected one. */
  counted(ok: boolean): void;
}
