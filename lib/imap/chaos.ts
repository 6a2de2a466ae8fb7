/**
 * Where IMAP meets fault injection: a rule can fail a command with a tagged `NO`/`BAD` and
 * a response code, delay it, or hang up; on `CONNECT` it replaces the greeting with
 * `* BYE` (RFC 9051 7.1.5), delays it, or hangs up.
 *
 * @module
 */

import type { Chaos, ChaosRule } from "../chaos/mod.ts";
import { canonicalUserName } from "../store/names.ts";
import { ImapError, type Session } from "./context.ts";
import type { FramedCommand } from "./framer.ts";
import { readCommandName, Reader } from "./parser.ts";

/**
 * Applies the rule that fires for `verb`, if any: waits out its delay, then throws the
 * failure as an {@linkcode ImapError} or closes the connection. Returns true when the
 * command must not run (the connection is gone).
 */
export async function injectCommandFault(
  chaos: Chaos,
  session: Session,
  verb: string,
  command: FramedCommand,
): Promise<boolean> {
  const fault = chaos.decide("imap", verb, {
    user: () => session.user ?? (verb === "LOGIN" ? loginUser(command) : null),
  });
  if (!fault) return false;
  session.ctx.logger.traffic(session.ctx.label, "S", `<chaos rule ${fault.id}: ${fault.action}>`);
  if (fault.delayMs > 0) await chaos.sleep(fault.delayMs);
  if (fault.action === "delay") return false;
  if (fault.action === "drop") {
    session.close();
    return true;
  }
  throw new ImapError(fault.status ?? "NO", fault.code as string | null, faultText(fault));
}

/** What the greeting does under a `CONNECT` rule. */
export interface Greeting {
  greet(): void;
  bye(text: string): void;
  drop(): void;
}

/** Applies a `CONNECT` rule: resolves once the greeting (or the hang-up) is done. */
export async function injectConnectFault(
  chaos: Chaos,
  fault: ChaosRule,
  greeting: Greeting,
): Promise<void> {
  if (fault.delayMs > 0) await chaos.sleep(fault.delayMs);
  if (fault.action === "delay") greeting.greet();
  else if (fault.action === "drop") greeting.drop();
  else greeting.bye(`BYE ${fault.code ? `[${fault.code}] ` : ""}${faultText(fault)}`);
}

function faultText(fault: ChaosRule): string {
  return fault.text ?? `Injected fault (chaos rule ${fault.id})`;
}

/** The user name a LOGIN command gives, or null when it cannot be read. */
function loginUser(command: FramedCommand): string | null {
  try {
    const reader = new Reader(command);
    reader.readTag();
    reader.sp();
    readCommandName(reader);
    reader.sp();
    return canonicalUserName(reader.readAstring());
  } catch {
    return null;
  }
}
