/**
 * Mailpit's `POST /api/v1/send` over `/inject`: `{From: {Email, Name}, To: [{Email, Name}],
 * Subject, Text, HTML, Headers}` becomes an injection delivered to each To address (one copy
 * each, with the envelope), answered with `{"ID": …}` of the first copy. Cc, Bcc, attachments
 * and tags are refused (400) rather than dropped.
 *
 * @module
 */

import type { HttpContext } from "../context.ts";
import { inject } from "../inject.ts";
import { HttpError, json, readJsonObject } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";

function mailbox(value: unknown, where: string): string {
  const entry = value as { Email?: unknown; Name?: unknown } | null;
  if (typeof entry?.Email !== "string" || !entry.Email.includes("@")) {
    throw new HttpError(400, `${where} needs an "Email" address`);
  }
  const name = typeof entry.Name === "string" ? entry.Name.replace(/["\\\r\n]/g, "") : "";
  return name === "" ? entry.Email : `"${name}" <${entry.Email}>`;
}

/** `POST /api/v1/send`. */
async function send(ctx: HttpContext, { request, url, params }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, ctx.config.limits.maxHttpBody);
  for (const key of ["Cc", "Bcc", "Attachments", "Tags", "ReplyTo"]) {
    const value = body[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw new HttpError(400, `"${key}" is not supported by this send (use /inject with raw)`);
    }
  }
  if (!Array.isArray(body.To) || body.To.length === 0) throw new HttpError(400, `"To" is empty`);
  const fields: Record<string, unknown> = {
    from: mailbox(body.From, `"From"`),
    to: body.To.map((entry, i) => mailbox(entry, `"To"[${i}]`)),
    subject: body.Subject ?? "",
    text: body.Text ?? null,
    html: body.HTML ?? null,
    headers: body.Headers ?? null,
  };
  const injected = new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fields),
  });
  const response = await inject(ctx, { request: injected, url, params });
  const stored = await response.json() as { id: string };
  return json(200, { ID: stored.id });
}

/** The send route. */
export const MAILPIT_SEND_ROUTES: readonly Route[] = [
  { path: "/api/v1/send", methods: { POST: send } },
];
