/**
 * A message as FETCH reads it: its stored bytes and its MIME index, each loaded on first use.
 *
 * @module
 */

import { MessageIndex } from "../mail/message_index.ts";
import type { MimePart } from "../mail/mime.ts";

/**
 * One message's bytes and its (store-cached) MIME index, shared by the items of one FETCH;
 * each is loaded on first use, so items served from the index's memo never read the bytes.
 */
export class MessageView {
  readonly #loadRaw: () => Uint8Array;
  readonly #loadIndex: (raw: () => Uint8Array) => MessageIndex;
  readonly #cachedIndex: () => MessageIndex | undefined;
  #raw: Uint8Array | null = null;
  #index: MessageIndex | null = null;
  #root: MimePart | null = null;

  /**
   * @param raw the stored bytes, or a function that loads them
   * @param loadIndex the cached index (default: parsed from the bytes)
   * @param cachedIndex the index only if the store has it already (default: none)
   */
  constructor(
    raw: Uint8Array | (() => Uint8Array),
    loadIndex: (raw: () => Uint8Array) => MessageIndex = (load) => new MessageIndex(load()),
    cachedIndex: () => MessageIndex | undefined = () => undefined,
  ) {
    if (typeof raw === "function") this.#loadRaw = raw;
    else {
      this.#raw = raw;
      this.#loadRaw = () => raw;
    }
    this.#loadIndex = loadIndex;
    this.#cachedIndex = cachedIndex;
  }
  get raw(): Uint8Array {
    return this.#raw ??= this.#loadRaw();
  }
  get index(): MessageIndex {
    return this.#index ??= this.#loadIndex(() => this.raw);
  }
  /** The index if it is at hand (loaded, or cached by the store), without building one. */
  get indexAtHand(): MessageIndex | undefined {
    this.#index ??= this.#cachedIndex() ?? null;
    return this.#index ?? undefined;
  }
  /** The root part, one view for all the items of this message (its fields parsed once). */
  get root(): MimePart {
    return this.#root ??= this.index.root;
  }
}
