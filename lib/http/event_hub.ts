/**
 * The event stream of one server (see `events.ts` for the `GET /events` route and the wire
 * format): each store event is encoded once and the same bytes are shared by every listener
 * whose filter it passes; a listener's events wait in its queue until its stream is read.
 *
 * Memory is bounded twice: per listener (`limits.maxEventQueueBytes`) and across all of them
 * (`limits.maxEventTotalBytes`, counting each shared event once). A listener past its own
 * bound, or past its share of the total when the total is spent, is cut off: its queue is
 * dropped at once (so the memory is freed even if the client never reads again) and the
 * stream ends with an `overflow` event.
 *
 * @module
 */

import type { Limits } from "../config.ts";
import type { Logger } from "../log.ts";
import { formatMessageId, type Store, type StoreEvent } from "../store/types.ts";
import { HttpError } from "./json.ts";
import { messageJson } from "./message_json.ts";

/** Listeners one server holds at once. */
export const MAX_LISTENERS = 256;
/** Small events handed to a stream together, up to this many bytes per chunk. */
const CHUNK_BYTES = 16 * 1024;
/** A comment line keeps idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

const encoder = new TextEncoder();

/** Which events a listener wants: null fields let everything through. */
export interface EventFilter {
  readonly user: string | null;
  readonly types: ReadonlySet<string> | null;
}

/** One encoded event, shared by every listener queue that holds it. */
interface SharedEvent {
  readonly bytes: Uint8Array;
  /** Listener queues holding it; it counts toward the total while this is above 0. */
  holders: number;
}

interface Listener {
  readonly filter: EventFilter;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** Events not yet handed to the stream, oldest first. */
  queue: SharedEvent[];
  /** Bytes in `queue`. */
  queued: number;
  /** The stream has asked for data and got none yet: the client is reading. */
  waiting: boolean;
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
          modseq: change.modseq,
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

function wants(filter: EventFilter, event: StoreEvent): boolean {
  if (filter.types !== null && !filter.types.has(event.type)) return false;
  const user = eventUser(event);
  return filter.user === null || user === null || user === filter.user;
}

/** The event stream of one server. */
export class EventHub {
  readonly #listeners = new Set<Listener>();
  readonly #logger: Logger;
  readonly #maxQueueBytes: number;
  readonly #maxTotalBytes: number;
  readonly #unsubscribe: () => void;
  /** Bytes of the events in any queue, each counted once. */
  #total = 0;
  #nextId = 1;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(
    store: Store,
    logger: Logger,
    limits: Pick<Limits, "maxEventQueueBytes" | "maxEventTotalBytes">,
  ) {
    this.#logger = logger;
    this.#maxQueueBytes = limits.maxEventQueueBytes;
    this.#maxTotalBytes = limits.maxEventTotalBytes;
    this.#unsubscribe = store.subscribe((event) => this.#publish(event));
  }

  /** Listeners currently connected. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Bytes of events waiting in the listeners' queues (each shared event counted once). */
  get queuedBytes(): number {
    return this.#total;
  }

  /** A new listener's stream; it starts with a `ready` event. */
  open(filter: EventFilter): ReadableStream<Uint8Array> {
    if (this.#closed) throw new HttpError(503, "Cannot listen: the server is stopping");
    if (this.#listeners.size >= MAX_LISTENERS) {
      throw new HttpError(503, `Cannot listen: ${MAX_LISTENERS} event listeners are connected`);
    }
    let listener: Listener;
    // High-water mark 0: the stream holds nothing the client has not asked for; what waits,
    // waits in the listener's queue, where it is counted and can be dropped.
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        listener = {
          filter,
          controller,
          queue: [],
          queued: 0,
          waiting: false,
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
      pull: () => {
        if (!this.#listeners.has(listener)) return;
        listener.waiting = true;
        this.#flush(listener);
      },
      cancel: () => {
        this.#remove(listener);
      },
    }, { highWaterMark: 0 });
  }

  /** Ends every stream (the server is stopping) and stops listening to the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const listener of [...this.#listeners]) {
      const rest = listener.queue.map((event) => event.bytes);
      this.#end(listener, [
        ...rest,
        encoder.encode(`event: closed\ndata: {"reason":"server stopping"}\n\n`),
      ]);
    }
  }

  #publish(event: StoreEvent): void {
    const id = this.#nextId++;
    let shared: SharedEvent | undefined;
    for (const listener of [...this.#listeners]) {
      // A listener cut off earlier in this loop (to free the total) is skipped.
      if (!this.#listeners.has(listener) || !wants(listener.filter, event)) continue;
      shared ??= {
        bytes: encoder.encode(
          `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(eventData(event))}\n\n`,
        ),
        holders: 0,
      };
      if (this.#admit(listener, event, shared)) this.#push(listener, shared);
    }
  }

  /**
   * Whether `listener` may queue `shared`. If not, cuts it off; when the total is what is
   * short, first cuts off every listener over its share of the total (the slow readers), so
   * one deaf client cannot crowd out the others.
   */
  #admit(listener: Listener, event: StoreEvent, shared: SharedEvent): boolean {
    const size = shared.bytes.length;
    if (listener.queued + size > this.#maxQueueBytes) {
      this.#overflow(
        listener,
        1,
        `more than ${this.#maxQueueBytes} bytes of events were waiting to be read`,
      );
      return false;
    }
    // An event already queued for another listener costs the total nothing more.
    if (shared.holders > 0 || this.#total + size <= this.#maxTotalBytes) return true;
    const share = Math.floor(this.#maxTotalBytes / this.#listeners.size);
    const why = `the ${this.#listeners.size} listeners together had ${this.#total} bytes of ` +
      `events waiting (the server holds at most ${this.#maxTotalBytes}), this one more than ` +
      `its share of ${share}`;
    for (const other of [...this.#listeners]) {
      if (other.queued <= share && other !== listener) continue;
      if (other === listener && other.queued + size <= share) continue;
      // This event counts as unsent for those that want it and do not have it yet.
      const pending = wants(other.filter, event) && other.queue.at(-1) !== shared ? 1 : 0;
      this.#overflow(other, pending, why);
    }
    if (!this.#listeners.has(listener)) return false;
    if (this.#total + size <= this.#maxTotalBytes) return true;
    this.#overflow(
      listener,
      1,
      `${this.#total + size} bytes of events would be waiting ` +
        `(the server holds at most ${this.#maxTotalBytes})`,
    );
    return false;
  }

  #push(listener: Listener, event: SharedEvent): void {
    if (event.holders++ === 0) this.#total += event.bytes.length;
    listener.queue.push(event);
    listener.queued += event.bytes.length;
    if (!listener.waiting) return;
    // A reading client gets a burst in chunks as it grows, and the rest at the end of the turn.
    if (listener.queued >= CHUNK_BYTES) this.#flush(listener);
    else if (!listener.scheduled) {
      listener.scheduled = true;
      queueMicrotask(() => {
        listener.scheduled = false;
        this.#flush(listener);
      });
    }
  }

  /**
   * Hands the oldest events to a stream that asked for data: small ones merged into one
   * chunk, a large one as it is (the bytes every listener shares, never copied).
   */
  #flush(listener: Listener): void {
    if (!listener.waiting || listener.queue.length === 0) return;
    if (!this.#listeners.has(listener)) return;
    let count = 0;
    let bytes = 0;
    while (
      count < listener.queue.length &&
      (count === 0 || bytes + listener.queue[count].bytes.length <= CHUNK_BYTES)
    ) {
      bytes += listener.queue[count++].bytes.length;
    }
    const taken = listener.queue.splice(0, count);
    listener.waiting = false;
    listener.sent += count;
    this.#release(listener, taken);
    listener.controller.enqueue(count === 1 ? taken[0].bytes : concat(taken, bytes));
  }

  /** Takes `events` out of the listener's accounting: the stream has them now, or nobody. */
  #release(listener: Listener, events: readonly SharedEvent[]): void {
    for (const event of events) {
      listener.queued -= event.bytes.length;
      if (--event.holders === 0) this.#total -= event.bytes.length;
    }
  }

  /**
   * The listener is too far behind: drop its queue (freeing it even if the client never
   * reads again), tell it so after what its stream already has, and end.
   */
  #overflow(listener: Listener, dropping: number, why: string): void {
    const unsent = listener.queue.length + dropping;
    const message = `Listener too slow: ${why}, so the stream was cut off after ` +
      `${listener.sent} events (${unsent} more were not sent). Reconnect and re-read the state.`;
    this.#logger.warn(`http: /events ${message}`);
    const data = JSON.stringify({
      error: message,
      limit: this.#maxQueueBytes,
      totalLimit: this.#maxTotalBytes,
      sent: listener.sent,
      unsent,
    });
    this.#end(listener, [encoder.encode(`event: overflow\ndata: ${data}\n\n`)]);
  }

  /** Removes the listener, then writes `last` and closes its stream. */
  #end(listener: Listener, last: readonly Uint8Array[]): void {
    if (!this.#remove(listener)) return;
    try {
      for (const bytes of last) listener.controller.enqueue(bytes);
      listener.controller.close();
    } catch {
      // the client is already gone
    }
  }

  /** Forgets the listener and drops its queue; false if it was already gone. */
  #remove(listener: Listener): boolean {
    if (!this.#listeners.delete(listener)) return false;
    this.#release(listener, listener.queue);
    listener.queue = [];
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
        if (listener.waiting && listener.queue.length === 0) {
          listener.waiting = false;
          listener.controller.enqueue(encoder.encode(": keepalive\n\n"));
        }
      }
    }, KEEPALIVE_MS);
  }
}

function concat(events: readonly SharedEvent[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const { bytes } of events) {
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}
