/**
 * Mailpit's `POST /api/v1/send` over `/inject`: `{From: {Email, Name}, To, Cc, ReplyTo:
 * [{Email, Name}], Bcc: [address], Subject, Text, HTML, Headers, Tags}` becomes an injection
 * delivered to every To, Cc and Bcc address (one copy each, with the envelope; Bcc in no
 * header), with the tags as IMAP keywords, answered with `{"ID": ...}` of the first copy.
 * `Attachments` (`mailpit_attach.ts`) make it `multipart/mixed`.
 *
 * @module
 */

import type { HttpContext } from "../context.ts";
import { inject } from "../inject.ts";
import { HttpError, json, readJsonObject } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";
import { composeWithAttachments, readAttachments } from "./mailpit_attach.ts";

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

function optionalText(value: unknown, key: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new HttpError(400, `"${key}" must be a string`);
  return value;
}

/** The header fields as `/inject` takes them: a token name, one line, no MIME structure. */
function checkedHeaders(headers: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(headers).map(([name, value]) => {
    if (!/^[!-9;-~]+$/.test(name)) throw new HttpError(400, `Invalid header name "${name}"`);
    if (/^content-(type|transfer-encoding)$/i.test(name)) {
      throw new HttpError(400, `Header "${name}" is generated`);
    }
    if (typeof value !== "string" || /[\r\n]/.test(value)) {
      throw new HttpError(400, `Header "${name}" must be a string without line breaks`);
    }
    return [name, value];
  });
}

/** `POST /api/v1/send`. */
async function send(ctx: HttpContext, { request, url, params }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, ctx.config.limits.maxHttpBody);
  const attachments = readAttachments(list(body, "Attachments"));
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
  if (attachments.length > 0) {
    // Composed here (with /inject's header rules) and injected whole.
    const raw = composeWithAttachments({
      from: fields.from as string,
      to: fields.to as string[],
      subject: optionalText(fields.subject, "Subject") ?? "",
      text: optionalText(fields.text, "Text"),
      html: optionalText(fields.html, "HTML"),
      headers: checkedHeaders(headers),
      date: Date.now(),
      hostname: ctx.config.hostname,
    }, attachments);
    for (const key of ["from", "subject", "text", "html", "headers"]) delete fields[key];
    fields.raw = raw;
  }
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
