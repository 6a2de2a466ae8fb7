/**
 * Where SMTP meets fault injection: which frame is which rule command (`CONNECT`, `EHLO`,
 * `AUTH`, `MAIL`, `RCPT`, `DATA`), what the engine may filter on, and the reply a failing
 * rule sends.
 *
 * @module
 */

import { routeRecipient } from "../auth.ts";
import type { Chaos, ChaosRule } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import { parsePathArgument } from "./address.ts";
import { parseCommandLine } from "./commands.ts";
import type { SmtpFrame } from "./framer.ts";
import { reply } from "./reply.ts";

/** What the session knows when a frame arrives. */
export interface SmtpChaosState {
  readonly authUser: string | null;
  readonly recipients: ReadonlyArray<{ readonly address: string; readonly user: string }>;
  /** A SASL exchange is under way: the line is a response, not a command. */
  readonly inAuth: boolean;
  readonly greeted: boolean;
  readonly inTransaction: boolean;
}

const VERBS: Readonly<Record<string, string>> = {
  EHLO: "EHLO",
  HELO: "EHLO",
  AUTH: "AUTH",
  MAIL: "MAIL",
  RCPT: "RCPT",
};

/**
 * The rule that fires for this frame, or null. DATA faults apply to the end-of-data reply.
 * Commands out of sequence (RCPT before MAIL, MAIL before EHLO) get their usual error and
 * use up no rule.
 */
export function smtpFault(
  chaos: Chaos,
  config: Config,
  frame: SmtpFrame,
  state: SmtpChaosState,
): ChaosRule | null {
  if (!chaos.active) return null;
  if (frame.type === "data") {
    return chaos.decide("smtp", "DATA", { recipients: () => state.recipients });
  }
  if (frame.type !== "line" || state.inAuth) return null;
  const parsed = parseCommandLine(frame.line);
  const command = VERBS[parsed?.verb ?? ""];
  if (!command) return null;
  if (command !== "EHLO" && !state.greeted) return null;
  if ((command === "RCPT") !== state.inTransaction && command !== "EHLO") return null;
  if (command === "MAIL") return chaos.decide("smtp", "MAIL", { user: () => state.authUser });
  if (command !== "RCPT") return chaos.decide("smtp", command);
  return chaos.decide("smtp", "RCPT", {
    recipients: () => {
      try {
        const { address } = parsePathArgument(parsed!.args, "TO");
        return [{ address, user: routeRecipient(config, address) }];
      } catch {
        return [];
      }
    },
  });
}

/** The reply of a `fail` rule. */
export function faultReply(rule: ChaosRule): string {
  return reply(
    rule.code as number,
    rule.enhanced,
    rule.text ?? `Injected fault (chaos rule ${rule.id})`,
  );
}
