/**
 * The MIME index of one stored message (DESIGN.md: messages are immutable bytes plus a
 * lazily built, cached MIME index). Built once from the raw bytes by the store on first use
 * and kept with the message, so FETCH, SEARCH and the HTTP API never re-parse.
 *
 * Consumers keep what they derive from the index (an encoded ENVELOPE, the decoded text
 * SEARCH scans) in {@linkcode MessageIndex.memo}, keyed by a symbol of their own, so it
 * lives exactly as long as the index.
 *
 * @module
 */

import { type MimePart, parseMimeTable } from "./mime.ts";
import type { MimeTable, TableSlab } from "./mime_table.ts";

/** The parsed structure of one message. */
export class MessageIndex {
  /** Size of the raw message, in octets. */
  readonly size: number;
  /** The part table: offsets and header bytes, no object per part (see mime_table.ts). */
  readonly parts: MimeTable;
  /**
   * The first four memo entries, key and value, in fields of the index
   * itself: indexing at delivery keeps four (ENVELOPE, BODYSTRUCTURE, SEARCH's header and
   * address forms), and an array of them was two more objects a message (the array and its
   * elements) for the scavenger to copy and a mark-compact to evacuate after a burst of
   * APPENDs (issue 13). Further entries go to `#more`, keys and values one after the other.
   */
  #key0: symbol | null = null;
  #value0: unknown = null;
  #key1: symbol | null = null;
  #value1: unknown = null;
  #key2: symbol | null = null;
  #value2: unknown = null;
  #key3: symbol | null = null;
  #value3: unknown = null;
  #more: unknown[] | null = null;

  /** `slab`: where a one-part message's table is cut from (see `TableSlab`); absent: its own. */
  constructor(raw: Uint8Array, slab: TableSlab | null = null) {
    this.size = raw.length;
    this.parts = parseMimeTable(raw, slab);
  }

  /**
   * The part tree; part offsets index the raw bytes. A new view on each call, which parses
   * header fields as they are read and is dropped with the walk that made it: the index
   * itself keeps only the compact table.
   */
  get root(): MimePart {
    return this.parts.root();
  }

  /** The value stored under `key`, computed by `compute` on first use. */
  memo<T>(key: symbol, compute: () => T): T {
    if (this.#key0 === key) return this.#value0 as T;
    if (this.#key1 === key) return this.#value1 as T;
    if (this.#key2 === key) return this.#value2 as T;
    if (this.#key3 === key) return this.#value3 as T;
    const more = this.#more;
    if (more !== null) {
      for (let i = 0; i < more.length; i += 2) if (more[i] === key) return more[i + 1] as T;
    }
    const value = compute();
    // `compute` may have memoized other keys meanwhile: the first free slot is found now.
    if (this.#key0 === null) {
      this.#key0 = key;
      this.#value0 = value;
    } else if (this.#key1 === null) {
      this.#key1 = key;
      this.#value1 = value;
    } else if (this.#key2 === null) {
      this.#key2 = key;
      this.#value2 = value;
    } else if (this.#key3 === null) {
      this.#key3 = key;
      this.#value3 = value;
    } else (this.#more ??= []).push(key, value);
    return value;
  }
}
