/**
 * Where the store core keeps the MIME indexes it builds (see `Store.getIndex`): with the
 * memory store an index lives exactly as long as the bytes it describes; with SQLite, whose
 * bytes live on disk, the most recently used ones are kept.
 *
 * @module
 */

import type { MessageIndex } from "../mail/message_index.ts";
import type { MessageRecord } from "./records.ts";

/** Indexes by message record. */
export interface IndexCache {
  get(message: MessageRecord): MessageIndex | undefined;
  /** As `get`, without counting as a use (the LRU order stays). */
  peek(message: MessageRecord): MessageIndex | undefined;
  /** Stores and returns `index`. */
  set(message: MessageRecord, index: MessageIndex): MessageIndex;
  clear(): void;
}

/** The cache that suits a backend whose message bytes are of this kind. */
export function indexCacheFor(kind: "memory" | "sqlite"): IndexCache {
  return kind === "memory" ? new BlobIndexCache() : new LruIndexCache();
}

/**
 * Memory store: the index lives exactly as long as the bytes it describes, which copies of
 * a message share (by the bytes, a WeakMap's key). Each record that uses it holds it too
 * (`MessageRecord.index`): a value reachable only through a WeakMap entry is marked in the
 * final pause of V8's full collection, not beside the program as the rest of the heap is.
 * After a burst of 5,000 messages that pause took 6.6-9.3 ms, of which 5.2-6.9 marking the
 * WeakMap's values ("mark.ephemeron.marking", `--trace-gc-nvp`), and fell on whatever
 * command ran then (a first CONDSTORE resync: 9 ms instead of 3); with the records holding
 * them, 1.7-2.8 ms, 0.05-0.09 of it for the WeakMap (issue 13, round 27).
 */
class BlobIndexCache implements IndexCache {
  readonly #indexes = new WeakMap<object, MessageIndex>();
  get(message: MessageRecord): MessageIndex | undefined {
    if (message.index !== null) return message.index;
    // A copy made before its original's index was built shares it from now on.
    const shared = this.#indexes.get(message.blob as object);
    if (shared !== undefined) message.index = shared;
    return shared;
  }
  peek(message: MessageRecord): MessageIndex | undefined {
    return message.index ?? this.#indexes.get(message.blob as object);
  }
  set(message: MessageRecord, index: MessageIndex): MessageIndex {
    this.#indexes.set(message.blob as object, index);
    message.index = index;
    return index;
  }
  clear(): void {}
}

/** Most indexes kept by the SQLite store, whose bytes live on disk. */
const LRU_INDEXES = 20_000;

/**
 * SQLite store: the most recently used indexes, keyed by message record (blob row ids can
 * be reused once deleted; records are never reused).
 */
class LruIndexCache implements IndexCache {
  readonly #indexes = new Map<MessageRecord, MessageIndex>();
  get(message: MessageRecord): MessageIndex | undefined {
    const index = this.#indexes.get(message);
    if (index) {
      this.#indexes.delete(message);
      this.#indexes.set(message, index);
    }
    return index;
  }
  peek(message: MessageRecord): MessageIndex | undefined {
    return this.#indexes.get(message);
  }
  set(message: MessageRecord, index: MessageIndex): MessageIndex {
    this.#indexes.set(message, index);
    if (this.#indexes.size > LRU_INDEXES) {
      this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    return index;
  }
  clear(): void {
    this.#indexes.clear();
  }
}
