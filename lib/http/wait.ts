/**
 * `GET /messages/wait`: answers with the first message matching the filters (see
 * `filters.ts`), at once when one is stored, else as soon as one arrives; `408` when the
 * timeout passes first.
 *
 * Waiting costs nothing but memory, and nothing polls: the waiters are kept by the server's
 * `WaitRegistry` (`wait_registry.ts`), fed by the store's events.
 *
 * @module
 */

import type { HttpContext } from "./context.ts";
import { parseMessageFilter } from "./filters.ts";
import { HttpError, json } from "./json.ts";
import { messageJson } from "./message_json.ts";
import { getMessage } from "./messages.ts";
import type { RouteRequest } from "./router.ts";

/** Default and largest `timeout`, in seconds. */
export const DEFAULT_WAIT_SECONDS = 10;
export const MAX_WAIT_SECONDS = 300;

/** Reads `timeout` in seconds (fractions allowed), default 10, at most 300. */
export function parseTimeout(value: string | null): number {
  if (value === null) return DEFAULT_WAIT_SECONDS * 1000;
  const seconds = /^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 0 && seconds <= MAX_WAIT_SECONDS)) {
    throw new HttpError(
      400,
      `"timeout" must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}, got "${value}"`,
    );
  }
  return Math.round(seconds * 1000);
}

/** `GET /messages/wait?filters&timeout=S`: the message as `GET /messages/{id}` shows it. */
export async function waitForMessage(ctx: HttpContext, req: RouteRequest): Promise<Response> {
  const query = new URLSearchParams(req.url.searchParams);
  const timeoutMs = parseTimeout(query.get("timeout"));
  query.delete("timeout");
  const filter = parseMessageFilter(query, { allowNow: true });
  const result = await ctx.waiters.wait(filter, timeoutMs, req.request.signal);
  if (result === "closed") throw new HttpError(503, "Cannot wait: the server is stopping");
  if (result === "aborted") return new Response(null, { status: 499 });
  if (result === "timeout") {
    return json(408, {
      error: `No message matched within ${timeoutMs / 1000} s`,
      filters: Object.fromEntries(req.url.searchParams),
    });
  }
  try {
    return await getMessage(ctx, { ...req, params: [result.id] });
  } catch (error) {
    // Deleted between its arrival and this answer: it did match, so say which it was.
    if (error instanceof HttpError && error.status === 404) return json(200, messageJson(result));
    throw error;
  }
}
