/**
 * The event stream of one server (see `events.ts` for the `GET /events` route and the wire
 * format): store events serialized once, fanned out to the listeners whose filter they
 * pass, in one chunk per turn of the event loop, with a bounded queue per listener.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { formatMessageId, type Store, type StoreEvent } from "../store/types.ts";
import { HttpError } from "./json.ts";
import { messageJson } from "./message_json.ts";

/** Listeners one server holds at once. */
export const MAX_LISTENERS = 256;
/** Pending text past which a burst is handed to the stream before the turn ends. */
const CHUNK_CHARS = 16 * 1024;
/** A comment line keeps idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

const encoder = new TextEncoder();

/** Which events a listener wants: null fields let everything through. */
export interface EventFilter {
  readonly user: string | null;
  readonly types: ReadonlySet<string> | null;
}

interface Listener {
  readonly filter: EventFilter;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** Text waiting for the end of this turn of the event loop. */
  pending: string;
  /** Events in `pending`. */
  pendingEvents: number;
  scheduled: boolean;
  /** Events handed to the stream. */
  sent: number;
}

/** The JSON a store event becomes: message ids added, listing form for new messages. */
export function eventData(event: StoreEvent): Record<string, unknown> {
  switch (event.type) {
    case "message.added": {
      const { message } = event;
      return {
        type: event.type,
        user: message.user,
        mailbox: message.mailbox,
        message: messageJson(message),
      };
    }
    case "flags.changed":
      return {
        ...event,
        changes: event.changes.map((change) => ({
          id: formatMessageId(event.user, event.mailbox, change.uid),
          uid: change.uid,
          flags: change.flags,
        })),
      };
    case "message.expunged":
      return {
        ...event,
        ids: event.uids.map((uid) => formatMessageId(event.user, event.mailbox, uid)),
      };
    default:
      return { ...event };
  }
}

function eventUser(event: StoreEvent): string | null {
  if (event.type === "reset") return null;
  return event.type === "message.added" ? event.message.user : event.user;
}

/** The event stream of one server. */
export class EventHub {
  readonly #listeners = new Set<Listener>();
  readonly #logger: Logger;
  readonly #maxQueueBytes: number;
  readonly #unsubscribe: () => void;
  #nextId = 1;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(store: Store, logger: Logger, maxQueueBytes: number) {
    this.#logger = logger;
    this.#maxQueueBytes = maxQueueBytes;
    this.#unsubscribe = store.subscribe((event) => this.#publish(event));
  }

  /** Listeners currently connected. */
  get size(): number {
    return this.#listeners.size;
  }

  /** A new listener's stream; it starts with a `ready` event. */
  open(filter: EventFilter): ReadableStream<Uint8Array> {
    if (this.#closed) throw new HttpError(503, "Cannot listen: the server is stopping");
    if (this.#listeners.size >= MAX_LISTENERS) {
      throw new HttpError(503, `Cannot listen: ${MAX_LISTENERS} event listeners are connected`);
    }
    let listener: Listener;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        listener = {
          filter,
          controller,
          pending: "",
          pendingEvents: 0,
          scheduled: false,
          sent: 0,
        };
        this.#listeners.add(listener);
        this.#armKeepalive();
        const ready = { user: filter.user, types: filter.types && [...filter.types] };
        controller.enqueue(
          encoder.encode(`retry: 2000\nevent: ready\ndata: ${JSON.stringify(ready)}\n\n`),
        );
      },
      cancel: () => {
        this.#remove(listener);
      },
    }, { highWaterMark: this.#maxQueueBytes, size: (chunk: Uint8Array) => chunk.byteLength });
  }

  /** Ends every stream (the server is stopping) and stops listening to the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const listener of [...this.#listeners]) {
      this.#flush(listener);
      this.#end(listener, 'event: closed\ndata: {"reason":"server stopping"}\n\n');
    }
  }

  #publish(event: StoreEvent): void {
    const id = this.#nextId++;
    if (this.#listeners.size === 0) return;
    const user = eventUser(event);
    let text: string | undefined;
    for (const listener of this.#listeners) {
      const { filter } = listener;
      if (filter.user !== null && user !== null && user !== filter.user) continue;
      if (filter.types !== null && !filter.types.has(event.type)) continue;
      text ??= `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(eventData(event))}\n\n`;
      listener.pending += text;
      listener.pendingEvents++;
      if (listener.pending.length >= CHUNK_CHARS) this.#flush(listener);
      else if (!listener.scheduled) {
        listener.scheduled = true;
        queueMicrotask(() => {
          listener.scheduled = false;
          this.#flush(listener);
        });
      }
    }
  }

  #fits(listener: Listener, bytes: number): boolean {
    const room = listener.controller.desiredSize;
    return room === null || bytes <= room;
  }

  #flush(listener: Listener): void {
    if (listener.pending === "" || !this.#listeners.has(listener)) return;
    const bytes = encoder.encode(listener.pending);
    if (!this.#fits(listener, bytes.length)) return this.#overflow(listener);
    listener.controller.enqueue(bytes);
    listener.sent += listener.pendingEvents;
    listener.pending = "";
    listener.pendingEvents = 0;
  }

  /** The listener is too far behind: tell it so, after what it already has, and end. */
  #overflow(listener: Listener): void {
    const message = `Listener too slow: more than ${this.#maxQueueBytes} bytes of events ` +
      `were waiting to be read, so the stream was cut off after ${listener.sent} events ` +
      `(${listener.pendingEvents} more were not sent). Reconnect and re-read the state.`;
    listener.pending = "";
    this.#logger.warn(`http: /events ${message}`);
    this.#end(
      listener,
      `event: overflow\ndata: ${
        JSON.stringify({
          error: message,
          limit: this.#maxQueueBytes,
          sent: listener.sent,
          unsent: listener.pendingEvents,
        })
      }\n\n`,
    );
  }

  #end(listener: Listener, last: string): void {
    if (!this.#remove(listener)) return;
    try {
      listener.controller.enqueue(encoder.encode(last));
      listener.controller.close();
    } catch {
      // the client is already gone
    }
  }

  #remove(listener: Listener): boolean {
    if (!this.#listeners.delete(listener)) return false;
    if (this.#listeners.size === 0) {
      clearInterval(this.#keepalive);
      this.#keepalive = undefined;
    }
    return true;
  }

  #armKeepalive(): void {
    if (this.#keepalive !== undefined) return;
    this.#keepalive = setInterval(() => {
      for (const listener of this.#listeners) {
        if (listener.pending === "" && this.#fits(listener, 16)) {
          listener.controller.enqueue(encoder.encode(": keepalive\n\n"));
        }
      }
    }, KEEPALIVE_MS);
  }
}
