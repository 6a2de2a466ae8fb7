/**
 * Fault injection over HTTP: `GET /chaos` lists the rules with their counters, `POST /chaos`
 * adds one rule or `{ "rules": [...] }` (fields: `lib/chaos/rules.ts`),
 * `DELETE /chaos` removes every rule, `DELETE /chaos/{id}` one. `POST /reset` restores the
 * startup rules (`ELEKTROMAIL_CHAOS`) and drops the others.
 *
 * @module
 */

import { ChaosRuleError, parseChaosRules } from "../chaos/mod.ts";
import type { HttpContext } from "./context.ts";
import { HttpError, json, readJsonObject } from "./json.ts";
import type { RouteRequest } from "./router.ts";

/** Largest rule body, in octets. */
const MAX_BODY = 256 * 1024;

/** `GET /chaos`. */
export function listChaos(ctx: HttpContext): Response {
  return json(200, { rules: ctx.chaos.list() });
}

/** `POST /chaos`: 201 with the rules as stored (ids, defaults filled in). */
export async function addChaos(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, MAX_BODY);
  try {
    return json(201, { rules: ctx.chaos.add(parseChaosRules(body)) });
  } catch (error) {
    if (error instanceof ChaosRuleError) throw new HttpError(400, error.message);
    throw error;
  }
}

/** `DELETE /chaos`. */
export async function clearChaos(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  return json(200, { deleted: ctx.chaos.clear() });
}

/** `DELETE /chaos/{id}`. */
export async function deleteChaosRule(
  ctx: HttpContext,
  { request, params }: RouteRequest,
): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  const id = /^[1-9][0-9]{0,9}$/.test(params[0]) ? Number(params[0]) : NaN;
  if (!ctx.chaos.remove(id)) throw new HttpError(404, `No chaos rule with id "${params[0]}"`);
  return json(200, { deleted: id });
}
