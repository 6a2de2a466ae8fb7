/**
 * Mailpit's WebSocket at `/api/events`: `{"Type": "new", "Data": MessageSummary}` for each
 * new INBOX message, then `{"Type": "stats", "Data": {Total, Unread, Version}}`; `delete`,
 * `update` (read status) and `truncate` (reset) for the other changes. Fed by the control
 * plane's event hub, so its bounds hold: a client that stops reading is cut off like an
 * `/events` listener.
 *
 * A WebSocket is not bound by CORS, so a page of another origin could open one: an `Origin`
 * other than the control plane's own is refused (403), as the request checks refuse its
 * state changes.
 *
 * @module
 */

import { VERSION } from "../../version.ts";
import type { HttpContext } from "../context.ts";
import { HttpError } from "../json.ts";
import type { RouteRequest } from "../router.ts";
import { summary } from "./mailpit.ts";
import { inboxNewestFirst } from "./shared.ts";

/** Whether `origin` is the control plane's own (the page asking was served by it). */
function ownOrigin(origin: string, request: Request): boolean {
  try {
    const host = request.headers.get("host") ?? new URL(request.url).host;
    const parsed = new URL(origin);
    return parsed.protocol === "http:" && parsed.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/** A control-plane event as the hub sends it (`lib/http/events.ts`), the fields used here. */
export interface HubEvent {
  type: string;
  user?: string;
  mailbox?: string;
  message?: { id: string; mailbox: string; uid: number };
  ids?: string[];
  changes?: { id: string; flags: string[] }[];
}

/** The Mailpit messages one hub event becomes. */
function translate(ctx: HttpContext, event: HubEvent): unknown[] {
  const stats = () => {
    const all = inboxNewestFirst(ctx.store);
    const unread = all.filter((meta) => !meta.flags.includes("\\Seen")).length;
    return { Type: "stats", Data: { Total: all.length, Unread: unread, Version: VERSION } };
  };
  if (event.type === "reset") return [{ Type: "truncate", Data: "" }, stats()];
  if (event.type === "message.added" && event.message?.mailbox === "INBOX") {
    const meta = ctx.store.getMessage(event.user ?? "", "INBOX", event.message.uid);
    return meta ? [{ Type: "new", Data: summary(ctx.store, meta) }, stats()] : [];
  }
  if (event.mailbox !== "INBOX") return [];
  if (event.type === "message.expunged") {
    return [...(event.ids ?? []).map((id) => ({ Type: "delete", Data: { ID: id } })), stats()];
  }
  if (event.type === "flags.changed") {
    return (event.changes ?? []).map((change) => ({
      Type: "update",
      Data: { ID: change.id, Read: change.flags.includes("\\Seen") },
    }));
  }
  return [];
}

/** `GET /api/events`: upgrades to a WebSocket and forwards the hub's events. */
export function mailpitEvents(ctx: HttpContext, { request }: RouteRequest): Response {
  return hubWebSocket(ctx, request, (event) => translate(ctx, event));
}

/**
 * Upgrades `request` to a WebSocket fed by the control plane's event hub (so its bounds
 * hold): each hub event becomes the messages `translate` makes of it, sent as JSON. Refuses
 * a foreign `Origin` (403) and a request that is not an upgrade (426).
 */
export function hubWebSocket(
  ctx: HttpContext,
  request: Request,
  translate: (event: HubEvent) => unknown[],
): Response {
  const origin = request.headers.get("origin");
  if (origin !== null && !ownOrigin(origin, request)) {
    throw new HttpError(403, `WebSocket from origin "${origin}" is not allowed`);
  }
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "This is a WebSocket endpoint", { upgrade: "websocket" });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  const reader = ctx.events.open({ user: null, types: null }).getReader();
  socket.onclose = () => void reader.cancel().catch(() => {});
  socket.onopen = async () => {
    const decoder = new TextDecoder();
    let carry = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done || socket.readyState !== WebSocket.OPEN) break;
        const blocks = (carry + decoder.decode(value, { stream: true })).split("\n\n");
        carry = blocks.pop() ?? "";
        for (const block of blocks) {
          const lines = block.split("\n");
          const data = lines.find((line) => line.startsWith("data: "));
          if (!lines.some((line) => line.startsWith("id: ")) || !data) continue;
          for (const out of translate(JSON.parse(data.slice(6)))) {
            socket.send(JSON.stringify(out));
          }
        }
      }
    } catch {
      // the socket or the stream is gone
    } finally {
      if (socket.readyState === WebSocket.OPEN) socket.close();
    }
  };
  return response;
}
