/**
 * JSON responses, typed HTTP errors and bounded request bodies for the control plane.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { DEFAULT_RECEIVE_TIMEOUT_MS } from "../net/connection.ts";
import { RECEIVE_PROGRESS_BYTES } from "../net/input_guard.ts";
import { StoreError, type StoreErrorKind } from "../store/types.ts";

/** An error with its HTTP status; the router turns it into `{ "error": message }`. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The one mapping from store failures to HTTP statuses. */
export function storeErrorStatus(kind: StoreErrorKind): number {
  switch (kind) {
    case "no-such-user":
    case "no-such-mailbox":
    case "no-such-message":
      return 404;
    case "invalid-name":
    case "invalid-user":
      return 400;
    case "mailbox-exists":
    case "has-children":
    case "cannot-delete-inbox":
      return 409;
    case "user-limit":
      // RFC 4918 11.5: the server cannot store what the request needs; a reset frees room.
      return 507;
    case "closed":
      return 503;
  }
}

/** The response for any thrown value; null for unexpected errors (the caller logs them). */
export function errorResponse(error: unknown): Response | null {
  if (error instanceof HttpError) {
    return json(error.status, { error: error.message }, error.headers);
  }
  if (error instanceof StoreError) {
    return json(storeErrorStatus(error.kind), { error: error.message });
  }
  return null;
}

/** How fast a request body must arrive: at least `octets` each `periodMs`, or end. */
export interface BodyProgress {
  readonly periodMs: number;
  readonly octets: number;
}

/**
 * As the mail protocols' message data (lib/net/input_guard.ts): 64 KiB a minute, or the end.
 * A body that stalls held its share of the request-body budget (a chunked one, all of
 * `maxHttpBody`) for as long as its connection stayed open: two stalled uploads kept every
 * large `/inject` out (hostile-client audit, issue 13 round 34).
 */
export const BODY_PROGRESS: BodyProgress = {
  periodMs: DEFAULT_RECEIVE_TIMEOUT_MS,
  octets: RECEIVE_PROGRESS_BYTES,
};

/**
 * Reads the whole request body, refusing more than `limit` octets: first by Content-Length,
 * then while reading, so a chunked or lying client cannot make the server buffer more; and
 * `408` for a body that does not keep arriving (`progress`).
 */
export async function readBody(
  request: Request,
  limit: number,
  progress: BodyProgress = BODY_PROGRESS,
): Promise<Uint8Array> {
  const tooBig = () => new HttpError(413, `Request body is larger than ${limit} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let stalled = false;
  let periodStart = 0;
  const check = setInterval(() => {
    if (total - periodStart < progress.octets) {
      stalled = true;
      reader.cancel().catch(() => {});
    }
    periodStart = total;
  }, progress.periodMs);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (stalled) {
        throw new HttpError(408, `Request body did not arrive in time (${total} octets came)`);
      }
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooBig();
      }
      chunks.push(value);
    }
  } finally {
    clearInterval(check);
    reader.releaseLock();
  }
  return concatBytes(chunks, total);
}

/**
 * Reads a JSON object body. Only `application/json` and `+json` types are read; others get
 * 415: a web page can send `text/plain` or a form to any origin without asking, but a JSON
 * type needs the control plane's consent (a CORS preflight it never grants).
 */
export async function readJsonObject(
  request: Request,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    await request.body?.cancel().catch(() => {});
    throw new HttpError(
      415,
      `Cannot read body: expected Content-Type application/json, got ${
        type === "" ? "none" : type
      } (with curl: --json '{\u2026}' or -H 'content-type: application/json')`,
    );
  }
  const bytes = await readBody(request, limit);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new HttpError(400, `Cannot parse JSON body: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Cannot read body: expected a JSON object");
  }
  return value as Record<string, unknown>;
}
