/**
 * Mailpit's chaos triggers (`GET|PUT /api/v1/chaos`) as our chaos rules (`lib/chaos`):
 * `Sender` fails MAIL FROM, `Recipient` RCPT TO and `Authentication` AUTH, with the trigger's
 * `ErrorCode` on `Probability` percent of the commands. A PUT replaces the rules made here
 * (known by their text) and leaves every other rule alone; `GET /chaos` lists them all.
 *
 * @module
 */

import { ChaosRuleError, parseChaosRules } from "../../chaos/mod.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, json, readJsonObject } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";

const TRIGGERS = { Sender: "MAIL", Recipient: "RCPT", Authentication: "AUTH" } as const;
type Trigger = keyof typeof TRIGGERS;

/** The text of the rule made for a trigger; how a PUT finds the rules it replaces. */
const ruleText = (trigger: Trigger, code: number) => `Mailpit chaos ${trigger} (${code})`;
const PREFIX = "Mailpit chaos ";

/** The triggers as Mailpit answers them, from the rules present. */
function triggers(ctx: HttpContext): Record<Trigger, { ErrorCode: number; Probability: number }> {
  const out = {} as Record<Trigger, { ErrorCode: number; Probability: number }>;
  for (const trigger of Object.keys(TRIGGERS) as Trigger[]) {
    const rule = ctx.chaos.list().find((rule) =>
      rule.text?.startsWith(`${PREFIX}${trigger} `) ?? false
    );
    out[trigger] = rule
      ? { ErrorCode: Number(rule.code), Probability: rule.percent ?? 100 }
      : { ErrorCode: 451, Probability: 0 };
  }
  return out;
}

/** `GET /api/v1/chaos`. */
function getChaos(ctx: HttpContext): Response {
  return json(200, triggers(ctx));
}

/** `PUT /api/v1/chaos` with `{Sender?, Recipient?, Authentication?}`: the triggers now set. */
async function putChaos(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, 64 * 1024);
  const rules: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (!(key in TRIGGERS)) {
      throw new HttpError(400, `Unknown trigger "${key}" (use Sender, Recipient, Authentication)`);
    }
    const trigger = value as { ErrorCode?: unknown; Probability?: unknown } | null;
    const code = trigger?.ErrorCode ?? 451;
    const probability = trigger?.Probability ?? 0;
    if (typeof code !== "number" || typeof probability !== "number") {
      throw new HttpError(400, `"${key}" needs numbers: {"ErrorCode": 451, "Probability": 50}`);
    }
    if (probability === 0) continue;
    rules.push({
      protocol: "smtp",
      command: TRIGGERS[key as Trigger],
      action: "fail",
      code,
      percent: probability,
      text: ruleText(key as Trigger, code),
    });
  }
  let specs;
  try {
    specs = parseChaosRules({ rules });
  } catch (error) {
    if (error instanceof ChaosRuleError) throw new HttpError(400, error.message);
    throw error;
  }
  for (const rule of ctx.chaos.list()) {
    if (rule.text?.startsWith(PREFIX)) ctx.chaos.remove(rule.id);
  }
  ctx.chaos.add(specs);
  return json(200, triggers(ctx));
}

/** The chaos route. */
export const MAILPIT_CHAOS_ROUTES: readonly Route[] = [
  { path: "/api/v1/chaos", methods: { GET: getChaos, PUT: putChaos } },
];
