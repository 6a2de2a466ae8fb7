/**
 * `POST /inject`: store a message without SMTP, either built from JSON fields or given
 * whole as `raw`.
 *
 * Recipients given as addresses (`to`, or the To, Cc and Bcc of `raw`) are delivered as SMTP
 * delivers them: one copy per distinct address, each with the envelope `{ from, to }` (the
 * sender is the address of `from`, or of the raw message's From, else the default sender).
 * The bytes are stored as given: no Return-Path or Delivered-To is prepended. A message for
 * a `user` has no envelope.
 *
 * @module
 */

import { routeRecipient } from "../auth.ts";
import { deliver, type Recipient } from "../delivery.ts";
import { findHeaderEnd, headerValue, parseHeaderFields } from "../mail/headers.ts";
import { canonicalUserName } from "../store/names.ts";
import { addressOf, composedSizeAtLeast, composeMessage, splitAddresses } from "./compose.ts";
import type { HttpContext } from "./context.ts";
import { HttpError, json, readJsonObject } from "./json.ts";
import { messageJson } from "./message_json.ts";
import type { RouteRequest } from "./router.ts";

const FIELDS = [
  "to",
  "user",
  "mailbox",
  "from",
  "subject",
  "text",
  "html",
  "headers",
  "date",
  "flags",
  "raw",
];

/** Header fields `headers` may not set: the body structure is generated. */
const RESERVED_HEADERS = ["content-type", "content-transfer-encoding"];

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new HttpError(400, `"${key}" must be a string`);
  return value;
}

function stringList(body: Record<string, unknown>, key: string): string[] | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return splitAddresses(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return value as string[];
  }
  throw new HttpError(400, `"${key}" must be a string or an array of strings`);
}

function readHeaders(body: Record<string, unknown>): Array<[string, string]> {
  const value = body.headers;
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, `"headers" must be an object of header names to strings`);
  }
  const out: Array<[string, string]> = [];
  for (const [name, fieldValue] of Object.entries(value)) {
    if (!/^[!-9;-~]+$/.test(name)) throw new HttpError(400, `Invalid header name "${name}"`);
    if (RESERVED_HEADERS.includes(name.toLowerCase())) {
      throw new HttpError(
        400,
        `Header "${name}" is generated; use "raw" to control the MIME structure`,
      );
    }
    if (typeof fieldValue !== "string" || /[\r\n]/.test(fieldValue)) {
      throw new HttpError(400, `Header "${name}" must be a string without line breaks`);
    }
    out.push([name, fieldValue]);
  }
  return out;
}

function readDate(body: Record<string, unknown>): number | null {
  const value = body.date;
  if (value === undefined || value === null) return null;
  const ms = typeof value === "number"
    ? value
    : typeof value === "string"
    ? Date.parse(value)
    : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new HttpError(400, `"date" must be an ISO 8601 or RFC 5322 date, or milliseconds`);
  }
  return ms;
}

function readFlags(body: Record<string, unknown>): string[] {
  const value = body.flags;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((flag) => typeof flag === "string")) {
    throw new HttpError(400, `"flags" must be an array of strings`);
  }
  for (const flag of value as string[]) {
    if (!/^\\?[^\x00-\x20\x7f(){%*"\\\]]+$/.test(flag) || flag.toLowerCase() === "\\recent") {
      throw new HttpError(400, `Invalid flag "${flag}"`);
    }
  }
  return value as string[];
}

/** The recipients the addresses route to; 400 for an address that routes nowhere. */
function routeAll(ctx: HttpContext, addresses: readonly string[]): Recipient[] {
  return addresses.map((text) => {
    const address = addressOf(text);
    const user = routeRecipient(ctx.config, address);
    if (user === null) throw new HttpError(400, `Cannot route recipient "${text}"`);
    return { user, address };
  });
}

/** The addresses of a raw message's header fields `names` (To, Cc and Bcc; From). */
function rawAddresses(raw: Uint8Array, names: readonly string[]): string[] {
  const { headerEnd } = findHeaderEnd(raw);
  const fields = parseHeaderFields(raw, 0, headerEnd);
  return names.flatMap((name) => splitAddresses(headerValue(fields, name) ?? ""))
    .map(addressOf)
    .filter((address) => address.includes("@"));
}

/** `POST /inject`. */
export async function inject(ctx: HttpContext, { request }: RouteRequest): Promise<Response> {
  const body = await readJsonObject(request, ctx.config.limits.maxHttpBody);
  const unknown = Object.keys(body).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `Unknown field "${unknown[0]}" (known: ${FIELDS.join(", ")})`);
  }
  const to = stringList(body, "to");
  const userName = optionalString(body, "user");
  const mailbox = optionalString(body, "mailbox") ?? "INBOX";
  const rawText = optionalString(body, "raw");
  const date = readDate(body);
  const flags = readFlags(body);
  const headers = readHeaders(body);
  const from = optionalString(body, "from");
  const subject = optionalString(body, "subject");
  const text = optionalString(body, "text");
  const html = optionalString(body, "html");
  if (rawText !== null && [from, subject, text, html].some((v) => v !== null)) {
    throw new HttpError(400, `"raw" cannot be combined with from, subject, text or html`);
  }
  if (rawText !== null && headers.length > 0) {
    throw new HttpError(400, `"raw" cannot be combined with headers`);
  }
  let recipients: Recipient[];
  if (userName !== null) {
    try {
      recipients = [{ user: canonicalUserName(userName), address: null }];
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
  } else if (to !== null && to.length > 0) recipients = routeAll(ctx, to);
  else recipients = [];

  const defaultSender = `elektromail@${ctx.config.hostname}`;
  // Refused before any octet is built: the message is at least as large as its texts.
  const maxSize = ctx.config.limits.maxMessageSize;
  const tooBig = () => new HttpError(413, `Message is larger than ${maxSize} bytes`);
  if ((rawText?.length ?? 0) > maxSize || composedSizeAtLeast({ text, html }) > maxSize) {
    throw tooBig();
  }
  let raw: Uint8Array;
  let sender: string;
  if (rawText !== null) {
    // JSON strings usually carry "\n"; IMAP and SMTP need CRLF line ends.
    raw = new TextEncoder().encode(rawText.replace(/\r?\n/g, "\r\n"));
    if (recipients.length === 0) recipients = routeAll(ctx, rawAddresses(raw, ["To", "Cc", "Bcc"]));
    sender = rawAddresses(raw, ["From"])[0] ?? defaultSender;
  } else {
    sender = addressOf(from ?? defaultSender);
    raw = composeMessage({
      from: from ?? defaultSender,
      to: to && to.length > 0
        ? to
        : recipients.map((recipient) => `${recipient.user}@${ctx.config.hostname}`),
      subject,
      text,
      html,
      headers,
      date: date ?? Date.now(),
      hostname: ctx.config.hostname,
    });
  }
  if (recipients.length === 0) {
    throw new HttpError(400, `Cannot inject: give "to" or "user" (or recipients in "raw")`);
  }
  if (raw.length > maxSize) throw tooBig();
  const stored = deliver(ctx.store, recipients, raw, {
    mailbox,
    flags,
    envelopeFrom: sender,
    ...(date === null ? {} : { internalDate: date }),
  });
  return json(201, { id: stored[0].id, messages: stored.map(messageJson) });
}
