/**
 * Fault injection for SMTP, IMAP and POP3 (`POST /chaos`, `ELEKTROMAIL_CHAOS`).
 *
 * @module
 */

export { Chaos, type ChaosFacts, type ChaosRule, mulberry32, recipientMatches } from "./engine.ts";
export {
  type ChaosAction,
  type ChaosProtocol,
  ChaosRuleError,
  type ChaosRuleSpec,
  MAX_DELAY_MS,
  MAX_RULES,
  parseChaosRule,
  parseChaosRules,
  parseChaosText,
  POP3_COMMANDS,
  SMTP_COMMANDS,
  type SmtpCommand,
} from "./rules.ts";
