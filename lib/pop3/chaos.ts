/**
 * Where POP3 meets fault injection: a rule can fail a command with `-ERR [code] text`, delay
 * it, or hang up; on `CONNECT` it replaces the greeting with `-ERR` and a hang-up, delays
 * it, or hangs up. Rules filter on the user: the logged-in one, or the one a USER/PASS, APOP
 * or AUTH names.
 *
 * @module
 */

import type { Chaos, ChaosRule } from "../chaos/mod.ts";
import { canonicalUserName } from "../store/names.ts";
import type { Pop3Session } from "./context.ts";
import { Pop3Error } from "./wire.ts";

/** What a fired rule asks of the driver. */
export type FaultOutcome = "run" | "drop";

/**
 * Applies the rule that fires for `verb`, if any: waits out its delay, then throws the
 * failure as a {@linkcode Pop3Error}, or says to hang up (`drop`) or go on (`run`).
 */
export async function injectCommandFault(
  chaos: Chaos,
  session: Pop3Session,
  verb: string,
  args: string,
): Promise<FaultOutcome> {
  const fault = chaos.decide("pop3", verb, { user: () => userOf(session, verb, args) });
  if (!fault) return "run";
  const { logger, label } = session.ctx;
  logger.traffic(label, "S", `<chaos rule ${fault.id}: ${fault.action}>`);
  if (fault.delayMs > 0) await chaos.sleep(fault.delayMs);
  if (fault.action === "delay") return "run";
  if (fault.action === "drop") return "drop";
  throw new Pop3Error(fault.code as string | null, faultText(fault));
}

/** The `-ERR` greeting of a failing `CONNECT` rule. */
export function connectFaultText(fault: ChaosRule): string {
  return faultText(fault);
}

function faultText(fault: ChaosRule): string {
  return fault.text ?? `Injected fault (chaos rule ${fault.id})`;
}

/** The user a command acts for, or null when none is known yet. */
function userOf(session: Pop3Session, verb: string, args: string): string | null {
  if (session.maildrop) return session.maildrop.user;
  const name = verb === "PASS"
    ? session.pendingUser
    : verb === "USER" || verb === "APOP"
    ? args.trim().split(" ")[0]
    : null;
  try {
    return name ? canonicalUserName(name) : null;
  } catch {
    return null;
  }
}
