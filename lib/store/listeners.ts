/**
 * The store's change listeners: who hears of a change, and the one loop that tells them.
 *
 * @module
 */

import type { StoreEvent, StoreListener } from "./types.ts";

/** The listeners of a store, each told every event once, in the order they subscribed. */
export class StoreListeners {
  /**
   * Replaced, never changed, when a listener comes or goes: an event goes to the listeners of
   * the moment it is emitted without a copy of them per event (one per delivered message).
   */
  #listeners: readonly StoreListener[] = [];

  /** Adds `listener` (once, however often it is given); returns what removes it. */
  subscribe(listener: StoreListener): () => void {
    if (!this.#listeners.includes(listener)) this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((known) => known !== listener);
    };
  }

  /** Forgets every listener (the store is closing). */
  clear(): void {
    this.#listeners = [];
  }

  /** Tells every listener each event in turn; a listener that throws is logged and skipped. */
  emit(events: readonly StoreEvent[]): void {
    for (const event of events) {
      const listeners = this.#listeners;
      for (let i = 0; i < listeners.length; i++) {
        const listener = listeners[i];
        try {
          listener(event);
        } catch (error) {
          console.error("Store listener failed:", error);
        }
      }
    }
  }
}
