/**
 * Releases: MailHog's `POST /api/v1/messages/{id}/release` (MailHog-Server `api/v1.go`
 * `release_one`: the target server is in the request) and Mailpit's
 * `POST /api/v1/message/{ID}/release` (the target is the configured relay,
 * `ELEKTROMAIL_RELEASE_RELAY`), both over {@linkcode relay}. MailHog's target must be a
 * loopback host or one `ELEKTROMAIL_RELEASE_HOSTS` names.
 *
 * What is sent is the stored message without the `Return-Path:` our delivery prepended (RFC
 * 5321 4.4: the next delivery writes its own); Mailpit's also loses `Bcc:` and gets a new
 * `Date:` and `Message-ID:`, as Mailpit does.
 *
 * @module
 */

import { concatBytes } from "../../bytes.ts";
import { formatRfc5322Date } from "../../delivery.ts";
import type { HeaderField } from "../../mail/headers.ts";
import { headerValue } from "../../mail/headers.ts";
import { displayAddresses } from "../../mail/address.ts";
import type { HttpContext } from "../context.ts";
import { HttpError, readBody, readJsonObject } from "../json.ts";
import type { Route, RouteRequest } from "../router.ts";
import { checkReleaseHost, relay, RelayError } from "./relay.ts";
import { locateInbox, mailhogEmpty, targetMessage } from "./shared.ts";

const BODY_LIMIT = 64 * 1024;
const encoder = new TextEncoder();

/** The stored bytes without the header fields `drop` (lower case), with `extra` on top. */
function rewrite(
  raw: Uint8Array,
  fields: readonly HeaderField[],
  drop: readonly string[],
  extra = "",
): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(extra)];
  let at = 0;
  for (const field of fields) {
    if (!drop.includes(field.name.toLowerCase())) continue;
    parts.push(raw.subarray(at, field.start));
    at = field.end;
  }
  parts.push(raw.subarray(at));
  return concatBytes(parts);
}

/** A value of MailHog's release body; Go's JSON decoding matches keys case-insensitively. */
function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((key) => key.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function text(body: Record<string, unknown>, name: string): string {
  const value = field(body, name) ?? "";
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") throw new HttpError(400, `"${name}" must be a string`);
  return value;
}

/** One address a release may name: `local@domain`, nothing that would break the command. */
function address(value: string, where: string): string {
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(value)) {
    throw new HttpError(400, `${where}: "${value}" is not an address (local@domain)`);
  }
  return value;
}

/**
 * The JSON object of a MailHog release body, whatever its content type: MailHog decodes the
 * body as it comes, and the npm `mailhog` client sends it without one. (The request guard has
 * already refused other origins, so no page can send this cross-site.)
 */
async function anyJsonObject(request: Request): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await readBody(request, BODY_LIMIT)));
  } catch {
    throw new HttpError(400, "Error decoding request body: expected a JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Error decoding request body: expected a JSON object");
  }
  return value as Record<string, unknown>;
}

async function send(request: Parameters<typeof relay>[0]): Promise<void> {
  try {
    await relay(request);
  } catch (error) {
    if (error instanceof RelayError) throw new HttpError(500, `Release failed: ${error.message}`);
    throw error;
  }
}

/**
 * `POST /api/v1/messages/{id}/release` with MailHog's `{"Host", "Port", "Email", "Username"?,
 * "Password"?, "Mechanism"?: "PLAIN" | "CRAMMD5"}`: sent from `nobody@{hostname}` to `Email`,
 * as MailHog does; 200 with an empty `text/json` body, as MailHog answers.
 */
async function releaseMailhog(ctx: HttpContext, { request, params }: RouteRequest) {
  const { raw, index } = locateInbox(ctx.store, params[0]);
  const body = await anyJsonObject(request);
  if (field(body, "Save") === true || text(body, "Name") !== "") {
    throw new HttpError(400, "Saved outgoing servers are not kept here: give Host and Port");
  }
  const host = text(body, "Host");
  const port = Number(text(body, "Port"));
  if (host === "") throw new HttpError(400, `"Host" is missing`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new HttpError(400, `"Port" must be a port number, 1-65535`);
  }
  checkReleaseHost(host, ctx.config.releaseHosts);
  const email = address(text(body, "Email"), `"Email"`);
  const username = text(body, "Username");
  const password = text(body, "Password");
  let auth: Parameters<typeof relay>[0]["auth"];
  if (username !== "" || password !== "") {
    const mechanism = text(body, "Mechanism");
    if (mechanism !== "PLAIN" && mechanism !== "CRAMMD5") {
      throw new HttpError(400, `"Mechanism" must be PLAIN or CRAMMD5 with a username`);
    }
    auth = { mechanism: mechanism === "PLAIN" ? "PLAIN" : "CRAM-MD5", username, password };
  }
  await send({
    host,
    port,
    helo: ctx.config.hostname,
    from: `nobody@${ctx.config.hostname}`,
    to: [email],
    data: rewrite(raw, index.root.fields, ["return-path"]),
    auth,
  });
  return mailhogEmpty();
}

/**
 * `POST /api/v1/message/{ID}/release` with Mailpit's `{"To": [...]}`: relayed through the
 * configured relay from the message's Sender or From; answers `ok`, as Mailpit.
 */
async function releaseMailpit(ctx: HttpContext, { request, params }: RouteRequest) {
  const meta = targetMessage(ctx.store, params[0]);
  const { raw, index } = locateInbox(ctx.store, meta.id);
  const body = await readJsonObject(request, BODY_LIMIT);
  const relayTo = ctx.config.releaseRelay;
  if (relayTo === null) {
    throw new HttpError(
      400,
      "Release is not enabled: set ELEKTROMAIL_RELEASE_RELAY (or --release-relay) to host:port",
    );
  }
  if (!Array.isArray(body.To) || body.To.length === 0) {
    throw new HttpError(400, "No valid addresses found");
  }
  const to = body.To.map((value) => {
    if (typeof value !== "string") throw new HttpError(400, `"To" must be addresses`);
    return address(displayAddresses(value)[0]?.address ?? value, "Invalid email address");
  });
  const fields = index.root.fields;
  const sender = headerValue(fields, "Sender") ?? headerValue(fields, "From") ?? "";
  const from = displayAddresses(sender)[0]?.address;
  if (!from) throw new HttpError(400, "No From header found");
  const colon = relayTo.lastIndexOf(":");
  const fresh = `Date: ${formatRfc5322Date(Date.now())}\r\n` +
    `Message-ID: <${crypto.randomUUID()}@${ctx.config.hostname}>\r\n`;
  await send({
    host: relayTo.slice(0, colon),
    port: Number(relayTo.slice(colon + 1)),
    helo: ctx.config.hostname,
    from,
    to,
    data: rewrite(raw, fields, ["return-path", "bcc", "date", "message-id"], fresh),
  });
  return new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** MailHog's release route under `prefix`. */
export function mailhogReleaseRoutes(prefix: string): Route[] {
  return [{ path: `${prefix}/api/v1/messages/:id/release`, methods: { POST: releaseMailhog } }];
}

/** Mailpit's release route. */
export const MAILPIT_RELEASE_ROUTES: readonly Route[] = [
  { path: "/api/v1/message/:id/release", methods: { POST: releaseMailpit } },
];
