/**
 * Bump allocation of small byte arrays out of larger ones: the transport's replies and read
 * chunks are views of a shared slab instead of arrays of their own. Allocating an
 * `ArrayBuffer` costs V8 far more than copying a few hundred bytes (a backing store, its
 * external-memory accounting, a sweep at GC), and the SMTP path made eight of them per
 * message (four read copies, four replies).
 *
 * A region is handed out once and never reused: a view stays valid for as long as anyone
 * holds it (a write still queued, message data the framer keeps), and the slab is freed when
 * the last view of it goes.
 *
 * @module
 */

/** Hands out fresh regions of a slab; a new slab once the current one has too little left. */
export class ByteSlab {
  readonly #size: number;
  readonly #allocate: (length: number) => Uint8Array;
  #slab: Uint8Array;
  #used = 0;

  /**
   * `size`: bytes per slab; requests larger than it get an array of their own. `allocate`
   * makes each slab (SMTP's message slabs are shared memory, lib/mail/shared_bytes.ts).
   */
  constructor(size: number, allocate = (length: number): Uint8Array => new Uint8Array(length)) {
    this.#size = size;
    this.#allocate = allocate;
    this.#slab = new Uint8Array(0);
  }

  /** Bytes left in the current slab. */
  get free(): number {
    return this.#slab.length - this.#used;
  }

  /**
   * The unused rest of the current slab, at least `min` bytes (a new slab when less is
   * left); nothing is taken until {@linkcode take} says how much was filled.
   */
  space(min: number): Uint8Array {
    if (this.free < min) this.#renew(Math.max(min, this.#size));
    return this.#slab.subarray(this.#used);
  }

  /** Takes the first `length` bytes of {@linkcode space} (which the caller has filled). */
  take(length: number): Uint8Array {
    const view = this.#slab.subarray(this.#used, this.#used + length);
    this.#used += length;
    return view;
  }

  /** An array of `length` bytes (zeros) of its own, made as the slabs are. */
  own(length: number): Uint8Array {
    return this.#allocate(length);
  }

  /** A fresh region of `length` bytes (zeros), taken at once. */
  region(length: number): Uint8Array {
    // As `space` then `take`, without the view `space` makes (a region per delivered message).
    if (this.free < length) this.#renew(Math.max(length, this.#size));
    return this.take(length);
  }

  /**
   * `text` as bytes in a region of the slab, when it is ASCII (replies nearly always are);
   * null otherwise, for the caller's encoder. Longer texts than a slab get an array of their
   * own.
   */
  ascii(text: string): Uint8Array | null {
    const length = text.length;
    const own = length > this.#size;
    if (!own && this.free < length) this.#renew(this.#size);
    // Written into the slab where `take` cuts the reply's view: one view a reply, not a view
    // of the free space to fill and then the reply's (a reply per SMTP command).
    const out = own ? new Uint8Array(length) : this.#slab;
    const at = own ? 0 : this.#used;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) return null;
      out[at + i] = code;
    }
    return own ? out : this.take(length);
  }

  #renew(size: number): void {
    this.#slab = this.#allocate(size);
    this.#used = 0;
  }
}
