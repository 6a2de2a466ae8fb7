/**
 * Fault injection for SMTP and IMAP (`POST /chaos`, `ELEKTROMAIL_CHAOS`).
 *
 * @module
 */

export { Chaos, type ChaosFacts, type ChaosRule, mulberry32, recipientMatches } from "./engine.ts";
export {
  type ChaosAction,
  ChaosRuleError,
  type ChaosRuleSpec,
  MAX_DELAY_MS,
  MAX_RULES,
  parseChaosRule,
  parseChaosRules,
  parseChaosText,
  SMTP_COMMANDS,
  type SmtpCommand,
} from "./rules.ts";
