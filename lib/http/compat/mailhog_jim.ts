/**
 * MailHog's Jim, its chaos monkey (`GET|POST|PUT|DELETE /api/v2/jim`, MailHog-Server
 * `api/v2.go`, docs `JIM.md`), as our chaos rules (`lib/chaos`), so `GET /chaos` shows what
 * Jim does and `POST /reset` sends him home:
 *
 * | Jim                     | chaos rule (SMTP)                                            |
 * | ----------------------- | ------------------------------------------------------------ |
 * | `AcceptChance`          | `drop` at `CONNECT` on (1 - chance) of the connections       |
 * | `RejectSenderChance`    | `fail` MAIL with `550 Invalid sender`                        |
 * | `RejectRecipientChance` | `fail` RCPT with `550 Invalid recipient`                     |
 * | `RejectAuthChance`      | `fail` AUTH with `535 Authentication credentials invalid`    |
 * | `DisconnectChance`      | `drop` at each of EHLO, AUTH, MAIL, RCPT and DATA            |
 * | `LinkSpeed*`            | kept and answered, not applied (no rate limiting here)       |
 *
 * Jim's rules are known by their seeds (one band, one seed per part), and one rule marks him
 * present even when every chance is 0: a RCPT rule for `jim@mailhog.invalid` (RFC 2606: no
 * real recipient) whose text keeps the link speeds. State lives in the chaos engine only.
 *
 * @module
 */

import { ChaosRuleError, parseChaosRules } from "../../chaos/mod.ts";
import type { ChaosRule } from "../../chaos/mod.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, json, readBody } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";

/** Jim's configuration, as MailHog answers and takes it. */
interface Jim {
  DisconnectChance: number;
  AcceptChance: number;
  LinkSpeedAffect: number;
  LinkSpeedMin: number;
  LinkSpeedMax: number;
  RejectSenderChance: number;
  RejectRecipientChance: number;
  RejectAuthChance: number;
}

/** Jim's defaults: `POST /api/v2/jim` without a body (MailHog's `-jim-*` flag defaults). */
const DEFAULTS: Jim = {
  DisconnectChance: 0.005,
  AcceptChance: 0.99,
  LinkSpeedAffect: 0.1,
  LinkSpeedMin: 1024,
  LinkSpeedMax: 10240,
  RejectSenderChance: 0.05,
  RejectRecipientChance: 0.05,
  RejectAuthChance: 0.05,
};
const FIELDS = Object.keys(DEFAULTS) as (keyof Jim)[];

/** Seeds of Jim's rules: `SEED + part`. */
const SEED = 0x4a494d00;
const PART = { marker: 0, accept: 1, sender: 2, recipient: 3, auth: 4, disconnect: 5 } as const;
const DISCONNECT_COMMANDS = ["EHLO", "AUTH", "MAIL", "RCPT", "DATA"];
const MARKER_RECIPIENT = "jim@mailhog.invalid";

const isJim = (rule: ChaosRule) => rule.seed >= SEED && rule.seed < SEED + 16;
const round = (value: number) => Number(value.toPrecision(12));

/** Jim as the rules present say, or null when he is not there. */
function current(ctx: HttpContext): Jim | null {
  const rules = ctx.chaos.list().filter(isJim);
  const marker = rules.find((rule) => rule.seed === SEED + PART.marker);
  if (!marker) return null;
  const chance = (part: number) =>
    round((rules.find((rule) => rule.seed === SEED + part)?.percent ?? 0) / 100);
  const speeds = (marker.text ?? "").split(" ").slice(-3).map(Number);
  return {
    DisconnectChance: chance(PART.disconnect),
    AcceptChance: round(1 - chance(PART.accept)),
    LinkSpeedAffect: speeds[0] || 0,
    LinkSpeedMin: speeds[1] || 0,
    LinkSpeedMax: speeds[2] || 0,
    RejectSenderChance: chance(PART.sender),
    RejectRecipientChance: chance(PART.recipient),
    RejectAuthChance: chance(PART.auth),
  };
}

/** The rules that make `jim` (chances are clamped to 0-1, as a chance is). */
function rulesOf(jim: Jim): Record<string, unknown>[] {
  const clamp = (value: number) => Math.min(1, Math.max(0, value));
  const rules: Record<string, unknown>[] = [{
    protocol: "smtp",
    command: "RCPT",
    recipient: MARKER_RECIPIENT,
    times: 1_000_000,
    code: 550,
    seed: SEED + PART.marker,
    text: `MailHog Jim; LinkSpeed ${jim.LinkSpeedAffect} ${jim.LinkSpeedMin} ${jim.LinkSpeedMax}`,
  }];
  const percent = (chance: number) => round(clamp(chance) * 100);
  const add = (part: number, chance: number, rule: Record<string, unknown>) => {
    if (percent(chance) > 0) {
      rules.push({ protocol: "smtp", percent: percent(chance), seed: SEED + part, ...rule });
    }
  };
  add(PART.accept, 1 - clamp(jim.AcceptChance), { command: "CONNECT", action: "drop" });
  add(PART.sender, jim.RejectSenderChance, { command: "MAIL", code: 550, text: "Invalid sender" });
  add(PART.recipient, jim.RejectRecipientChance, {
    command: "RCPT",
    code: 550,
    text: "Invalid recipient",
  });
  add(PART.auth, jim.RejectAuthChance, {
    command: "AUTH",
    code: 535,
    enhanced: "5.7.8",
    text: "Authentication credentials invalid",
  });
  DISCONNECT_COMMANDS.forEach((command, i) =>
    add(PART.disconnect + i, jim.DisconnectChance, { command, action: "drop" })
  );
  return rules;
}

/** Replaces Jim's rules with those of `jim` (none for null). */
function install(ctx: HttpContext, jim: Jim | null): void {
  const specs = (() => {
    try {
      return jim === null ? [] : parseChaosRules(rulesOf(jim));
    } catch (error) {
      if (error instanceof ChaosRuleError) throw new HttpError(400, error.message);
      throw error;
    }
  })();
  for (const rule of ctx.chaos.list().filter(isJim)) ctx.chaos.remove(rule.id);
  ctx.chaos.add(specs);
}

/**
 * Jim from a request body, as MailHog reads it: every field missing from the JSON is 0. Any
 * content type is read (MailHog's own examples use `curl -d`); the request guard has already
 * refused other origins. Null when the body is empty or not a JSON object.
 */
async function fromBody(request: Request): Promise<Jim | null> {
  const text = new TextDecoder().decode(await readBody(request, 64 * 1024)).trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  const jim = {} as Jim;
  for (const field of FIELDS) {
    const key = Object.keys(body).find((key) => key.toLowerCase() === field.toLowerCase());
    const given = key === undefined ? 0 : body[key];
    if (typeof given !== "number" || !Number.isFinite(given)) {
      throw new HttpError(400, `"${field}" must be a number`);
    }
    jim[field] = given;
  }
  return jim;
}

const empty = (status: number) => new Response(null, { status });

/** `GET /api/v2/jim`: Jim's configuration, 404 when he is not invited. */
function getJim(ctx: HttpContext): Response {
  const jim = current(ctx);
  return jim === null ? empty(404) : json(200, jim);
}

/** `POST /api/v2/jim`: invites Jim (400 when he is there); the body's settings, else defaults. */
async function createJim(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  if (current(ctx) !== null) {
    await request.body?.cancel().catch(() => {});
    return empty(400);
  }
  install(ctx, (await fromBody(request)) ?? DEFAULTS);
  return empty(201);
}

/** `PUT /api/v2/jim`: new settings (404 without Jim, 400 for a body that is not JSON). */
async function updateJim(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  if (current(ctx) === null) {
    await request.body?.cancel().catch(() => {});
    return empty(404);
  }
  const jim = await fromBody(request);
  if (jim === null) return empty(400);
  install(ctx, jim);
  return empty(200);
}

/** `DELETE /api/v2/jim`: Jim leaves (404 when he was not there). */
async function deleteJim(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  await request.body?.cancel().catch(() => {});
  if (current(ctx) === null) return empty(404);
  install(ctx, null);
  return empty(200);
}

/** Jim's route under `prefix`. */
export function jimRoutes(prefix: string): Route[] {
  return [{
    path: `${prefix}/api/v2/jim`,
    methods: { GET: getJim, POST: createJim, PUT: updateJim, DELETE: deleteJim },
  }];
}
