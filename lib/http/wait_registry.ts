/**
 * The waiters of one server (see `wait.ts` for the `GET /messages/wait` route): a waiter is
 * an entry in a set indexed by user, plus its timeout timer. Nothing polls; the store's
 * `message.added` event is matched against the waiters of that user (and those without a
 * user filter), and only their filters run.
 *
 * @module
 */

import type { MessageMeta, Store } from "../store/types.ts";
import { findMessages, matchesMessage, type MessageFilter, MessageText } from "./filters.ts";
import { HttpError } from "./json.ts";

/** Waiters one server holds at once. */
export const MAX_WAITERS = 10_000;

/** Why a wait ended without a message. */
export type WaitEnd = "timeout" | "aborted" | "closed";

interface Waiter {
  readonly filter: MessageFilter;
  settle(result: MessageMeta | WaitEnd): void;
}

/** The waiters of one server, fed by its store's events. */
export class WaitRegistry {
  readonly #store: Store;
  readonly #byUser = new Map<string, Set<Waiter>>();
  readonly #anyUser = new Set<Waiter>();
  readonly #unsubscribe: () => void;
  readonly #limit: number;
  #size = 0;
  #closed = false;

  constructor(store: Store, limit = MAX_WAITERS) {
    this.#store = store;
    this.#limit = limit;
    this.#unsubscribe = store.subscribe((event) => {
      if (event.type === "message.added") this.#offer(event.message);
      else if (event.type === "reset") this.#rewindCursors();
    });
  }

  /** Waiters currently waiting. */
  get size(): number {
    return this.#size;
  }

  /**
   * Resolves with the first message matching `filter`, or with why none came: the timeout
   * passed, `signal` aborted (the client went away), or the registry closed.
   */
  wait(
    filter: MessageFilter,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<MessageMeta | WaitEnd> {
    if (this.#closed) return Promise.resolve("closed");
    const [existing] = findMessages(this.#store, filter, 1);
    if (existing) return Promise.resolve(existing);
    if (timeoutMs === 0) return Promise.resolve("timeout");
    if (signal?.aborted) return Promise.resolve("aborted");
    if (this.#size >= this.#limit) {
      throw new HttpError(503, `Cannot wait: ${this.#limit} requests are already waiting`);
    }
    return new Promise((resolve) => {
      const bucket = filter.user === null ? this.#anyUser : this.#bucket(filter.user);
      const onAbort = () => waiter.settle("aborted");
      const timer = setTimeout(() => waiter.settle("timeout"), timeoutMs);
      const waiter: Waiter = {
        filter,
        settle: (result) => {
          if (!bucket.delete(waiter)) return;
          this.#size--;
          if (filter.user !== null && bucket.size === 0) this.#byUser.delete(filter.user);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(result);
        },
      };
      bucket.add(waiter);
      this.#size++;
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends every wait with `closed` (the server is stopping) and stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const waiter of this.#all()) waiter.settle("closed");
  }

  #bucket(user: string): Set<Waiter> {
    let bucket = this.#byUser.get(user);
    if (!bucket) this.#byUser.set(user, bucket = new Set());
    return bucket;
  }

  #all(): Waiter[] {
    return [...this.#anyUser, ...[...this.#byUser.values()].flatMap((bucket) => [...bucket])];
  }

  #offer(meta: MessageMeta): void {
    const own = this.#byUser.get(meta.user);
    if (!own && this.#anyUser.size === 0) return;
    let text: MessageText | undefined;
    const includes = (needle: string) =>
      (text ??= new MessageText(this.#store, meta)).includes(needle);
    for (const bucket of [own, this.#anyUser]) {
      if (!bucket) continue;
      // Settling deletes the waiter from the set being iterated: safe for a JS Set.
      for (const waiter of bucket) {
        if (matchesMessage(waiter.filter, meta, includes, this.#store)) waiter.settle(meta);
      }
    }
    text?.release();
  }

  /** After a reset UIDs restart at 1: a cursor now means "from the start". */
  #rewindCursors(): void {
    for (const waiter of this.#all()) {
      if (waiter.filter.since?.kind === "cursor") waiter.filter.since.uid = 0;
    }
  }
}
