/**
 * Small byte values that live as long as their message (an encoded ENVELOPE or
 * BODYSTRUCTURE), cut from shared slabs. A `Uint8Array` of its own per value was an off-heap
 * allocation each, with a tracking record V8 sweeps after every collection; cut from a slab,
 * a value is one view and a slab serves about fifty messages.
 *
 * A slab lives while any value cut from it does: when most of a mailbox is expunged (or the
 * SQLite store's index cache drops most indexes) a surviving value keeps its whole slab. The
 * slab size bounds that: at most {@linkcode SLAB_SIZE} bytes held for one surviving value,
 * where 64 KiB slabs would hold up to two hundred messages' worth.
 *
 * @module
 */

/** Size of a slab, in octets. */
export const SLAB_SIZE = 16 * 1024;
/** Values larger than this get an array of their own (a slab would be left mostly unused). */
const LARGEST_CUT = 2048;

/**
 * A source of slab space for writers: a writer writes at {@linkcode ByteSlabs.free} in
 * {@linkcode ByteSlabs.slab}, then {@linkcode ByteSlabs.cut}s what it wrote. One writer at a
 * time (each writes a value in one synchronous go).
 *
 * @example
 * ```ts
 * const slabs = new ByteSlabs();
 * const slab = slabs.room(3);
 * slab.set([1, 2, 3], slabs.free);
 * const value = slabs.cut(slabs.free + 3); // Uint8Array [1, 2, 3]
 * ```
 */
export class ByteSlabs {
  #slab = new Uint8Array(0);
  #free = 0;

  /** Where the next value starts in the current slab. */
  get free(): number {
    return this.#free;
  }

  /** The current slab. */
  get slab(): Uint8Array {
    return this.#slab;
  }

  /**
   * A slab with `n` bytes free from {@linkcode free} on: the current one, or a new one when
   * it lacks the room (then null when `n` is more than a slab cut is for).
   */
  room(n: number): Uint8Array | null {
    if (this.#free + n <= this.#slab.length) return this.#slab;
    if (n > LARGEST_CUT) return null;
    this.#slab = new Uint8Array(SLAB_SIZE);
    this.#free = 0;
    return this.#slab;
  }

  /** The value written from {@linkcode free} up to `end` in the current slab, kept. */
  cut(end: number): Uint8Array {
    const value = this.#slab.subarray(this.#free, end);
    this.#free = end;
    return value;
  }
}
