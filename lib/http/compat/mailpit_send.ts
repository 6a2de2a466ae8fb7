/**
 * Mailpit's `POST /api/v1/send` over `/inject`: `{From: {Email, Name}, To, Cc, ReplyTo:
 * [{Email, Name}], Bcc: [address], Subject, Text, HTML, Headers, Tags}` becomes an injection
 * delivered to every To, Cc and Bcc address (one copy each, with the envelope; Bcc in no
 * header), with the tags as IMAP keywords, answered with `{"ID": …}` of the first copy.
 * Attachments are refused (400) rather than dropped.
 *
 * @module
 */

import type { HttpContext } from "../context.ts";
import { inject } from "../inject.ts";
import { HttpError, json, readJsonObject } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";

/** `{Email, Name}` as a header mailbox (`"Name" <email>`), and its address. */
function mailbox(value: unknown, where: string): { header: string; address: string } {
  const entry = value as { Email?: unknown; Name?: unknown } | null;
  if (typeof entry?.Email !== "string" || !/^[^\s<>@,"]+@[^\s<>@,"]+$/.test(entry.Email)) {
    throw new HttpError(400, `${where} needs an "Email" address`);
  }
  const name = typeof entry.Name === "string" ? entry.Name.replace(/["\\\r\n]/g, "") : "";
  return { header: name === "" ? entry.Email : `"${name}" <${entry.Email}>`, address: entry.Email };
}

/** A list field: absent or null is empty; anything but an array is a 400. */
function list(body: Record<string, unknown>, key: string): unknown[] {
  const value = body[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HttpError(400, `"${key}" must be an array`);
  return value;
}

/** `POST /api/v1/send`. */
async function send(ctx: HttpContext, { request, url, params }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, ctx.config.limits.maxHttpBody);
  if (list(body, "Attachments").length > 0) {
    throw new HttpError(400, `"Attachments" are not supported by this send (use /inject with raw)`);
  }
  const to = list(body, "To").map((entry, i) => mailbox(entry, `"To"[${i}]`));
  const cc = list(body, "Cc").map((entry, i) => mailbox(entry, `"Cc"[${i}]`));
  const replyTo = list(body, "ReplyTo").map((entry, i) => mailbox(entry, `"ReplyTo"[${i}]`));
  const bcc = list(body, "Bcc").map((entry, i) => {
    // Mailpit's Bcc is a list of addresses; {Email} objects are taken too.
    const email = typeof entry === "string" ? entry : (entry as { Email?: unknown })?.Email;
    return mailbox({ Email: email }, `"Bcc"[${i}]`).address;
  });
  if (to.length + cc.length + bcc.length === 0) throw new HttpError(400, `"To" is empty`);
  const userHeaders = body.Headers ?? {};
  if (typeof userHeaders !== "object" || Array.isArray(userHeaders)) {
    throw new HttpError(400, `"Headers" must be an object of header names to strings`);
  }
  // Never the generated To (every envelope recipient): Bcc stays out of the headers.
  const headers: Record<string, unknown> = {
    To: to.length > 0 ? to.map((m) => m.header).join(", ") : "undisclosed-recipients:;",
  };
  if (cc.length > 0) headers.Cc = cc.map((m) => m.header).join(", ");
  if (replyTo.length > 0) headers["Reply-To"] = replyTo.map((m) => m.header).join(", ");
  Object.assign(headers, userHeaders);
  const fields: Record<string, unknown> = {
    from: mailbox(body.From, `"From"`).header,
    to: [...to, ...cc].map((m) => m.address).concat(bcc),
    subject: body.Subject ?? "",
    text: body.Text ?? null,
    html: body.HTML ?? null,
    headers,
    flags: body.Tags ?? null,
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
