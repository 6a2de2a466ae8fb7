/**
 * `GET /events`: the store's change events as Server-Sent Events (HTML Living Standard,
 * "Server-sent events"). Each event is serialized once and shared by every listener it
 * passes; events raised in one turn of the event loop go out as one chunk.
 *
 * Backpressure: a listener's events wait in its queue while the socket is slow. The store
 * cannot be slowed down (SMTP has already said 250), so the queues are bounded, per listener
 * (`limits.maxEventQueueBytes`) and all together (`limits.maxEventTotalBytes`, where an
 * event waiting for many listeners counts once: they share one encoded copy). A listener
 * past its bound, or past its share when the total is spent, has its queue dropped and gets
 * a final `overflow` event saying how many events it got and how many it missed; the stream
 * ends. Nothing is ever dropped silently. The server's listeners and their queues are kept
 * by its `EventHub` (`event_hub.ts`).
 *
 * ```text
 * event: ready               once, when the listener is subscribed
 * id: 42                     every change event has the next number
 * event: message.added       the event type; `data` is one JSON object
 * data: {"type":"message.added","user":"alice","mailbox":"INBOX","message":{...}}
 * ```
 *
 * @module
 */

import { canonicalUserName } from "../store/names.ts";
import type { StoreEvent } from "../store/types.ts";
import type { HttpContext } from "./context.ts";
import type { EventFilter } from "./event_hub.ts";
import { HttpError } from "./json.ts";
import type { RouteRequest } from "./router.ts";

/** Every event type a listener can ask for. */
export const EVENT_TYPES: readonly StoreEvent["type"][] = [
  "user.created",
  "mailbox.created",
  "mailbox.deleted",
  "mailbox.renamed",
  "mailbox.subscribed",
  "message.added",
  "flags.changed",
  "message.expunged",
  "reset",
];

/** Reads `user` and `types` (comma separated) from the query; anything else is a 400. */
export function parseEventFilter(params: URLSearchParams): EventFilter {
  let user: string | null = null;
  let types: Set<string> | null = null;
  for (const [key, value] of params) {
    if (key === "user") {
      try {
        user = canonicalUserName(value);
      } catch {
        throw new HttpError(400, `Invalid user filter "${value}"`);
      }
    } else if (key === "types") {
      types = new Set(value.split(",").map((type) => type.trim()));
      for (const type of types) {
        if (!(EVENT_TYPES as readonly string[]).includes(type)) {
          throw new HttpError(400, `Unknown event type "${type}" (use ${EVENT_TYPES.join(", ")})`);
        }
      }
    } else throw new HttpError(400, `Unknown filter "${key}" (use user, types)`);
  }
  return { user, types };
}

/** `GET /events[?user=X&types=a,b]`. */
export function streamEvents(ctx: HttpContext, { url }: RouteRequest): Response {
  const stream = ctx.events.open(parseEventFilter(url.searchParams));
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: Deno.serve must not compress (and so buffer) the stream.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
