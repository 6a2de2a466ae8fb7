/**
 * The IMAP framer's input: the chunks a socket delivered, read from the front without copying
 * them together. Every operation is linear in the bytes it touches, however small the chunks:
 * a 64 KiB command line that arrives a byte at a time is scanned for its LF once and consumed
 * once (a slow sender must not cost the server quadratic time).
 *
 * @module
 */

const LF = 0x0a;
/** Consumed chunk slots kept before the array is compacted. */
const COMPACT_AT = 64;

/** A FIFO of bytes held as the chunks they arrived in. */
export class ByteQueue {
  /** Chunks; those before `#head` are consumed, `#offset` bytes of `#chunks[#head]` too. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #length = 0;
  /** How many bytes from the front the search for LF has found free of one. */
  #scanned = 0;
  /** Where that search resumes: a chunk index, and where its unread bytes start. */
  #scanIndex = 0;
  #scanBase = 0;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk; the queue keeps a reference, so do not reuse the buffer. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Puts bytes back at the front. */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#offset > 0) {
      this.#chunks[this.#head] = this.#chunks[this.#head].subarray(this.#offset);
      this.#offset = 0;
    }
    if (this.#head > 0) this.#chunks[--this.#head] = bytes;
    else this.#chunks.unshift(bytes);
    this.#length += bytes.length;
    this.#resetScan();
  }

  /** Offset of the first LF from the front, or -1. Remembers how far it looked. */
  indexOfLf(): number {
    let base = this.#scanBase;
    let index = this.#scanIndex;
    for (; index < this.#chunks.length; index++) {
      const chunk = this.#chunks[index];
      const start = index === this.#head ? this.#offset : 0;
      const length = chunk.length - start;
      if (base + length > this.#scanned) {
        const at = chunk.indexOf(LF, start + Math.max(0, this.#scanned - base));
        if (at >= 0) {
          this.#resetScan();
          return base + at - start;
        }
      }
      base += length;
    }
    this.#scanned = base;
    this.#scanIndex = index;
    this.#scanBase = base;
    return -1;
  }

  /** Moves the first `count` bytes into `into` at `at`. Returns `count`. */
  take(count: number, into: Uint8Array, at: number): number {
    let left = count;
    while (left > 0) {
      const chunk = this.#chunks[this.#head];
      const n = Math.min(chunk.length - this.#offset, left);
      into.set(chunk.subarray(this.#offset, this.#offset + n), at);
      at += n;
      left -= n;
      this.#advance(n);
    }
    return count;
  }

  /** Drops the first `count` bytes. */
  skip(count: number): void {
    let left = count;
    while (left > 0) {
      const n = Math.min(this.#chunks[this.#head].length - this.#offset, left);
      left -= n;
      this.#advance(n);
    }
  }

  /** A copy of up to `count` bytes from the front, leaving them in place. */
  peek(count: number): Uint8Array {
    const n = Math.min(count, this.#length);
    const out = new Uint8Array(n);
    let at = 0;
    for (let index = this.#head; at < n; index++) {
      const start = index === this.#head ? this.#offset : 0;
      const part = this.#chunks[index].subarray(start, start + (n - at));
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Consumes `n` bytes of the front chunk (never more than it holds). */
  #advance(n: number): void {
    this.#offset += n;
    this.#length -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    // Scan positions count from the front: a later chunk's unread bytes start n earlier.
    if (this.#scanIndex > this.#head) this.#scanBase -= n;
    if (this.#offset < this.#chunks[this.#head].length) return;
    this.#offset = 0;
    this.#head++;
    if (this.#scanIndex < this.#head) {
      this.#scanIndex = this.#head;
      this.#scanBase = 0;
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
      this.#resetScan();
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#chunks.length) {
      // Array.shift per chunk would be quadratic; drop the consumed slots now and then.
      this.#chunks = this.#chunks.slice(this.#head);
      this.#scanIndex -= this.#head;
      this.#head = 0;
    }
  }

  #resetScan(): void {
    this.#scanned = 0;
    this.#scanIndex = this.#head;
    this.#scanBase = 0;
  }
}
