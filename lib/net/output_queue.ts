/**
 * What a plain connection has yet to write, and how it is cut into writes: a large part (a
 * message body a FETCH passes through) goes to the OS as the caller's own array, and runs of
 * small parts (response lines, small bodies) are copied together into a gather buffer, so a
 * write carries up to {@linkcode GATHER_SIZE} bytes. Deno has no vectored write for a
 * `TcpConn`, and a write op costs far more than copying a few KB, so this is the fewest
 * copies and writes there are: each byte is copied at most once before the kernel's copy.
 *
 * Gather buffers come from a {@linkcode GatherPool} the listener's connections share, and go
 * back once the queue is empty: a connection streaming output holds one, an idle one none,
 * and no large write allocates (a fresh `ArrayBuffer` per write cost more than its copy:
 * zeroed pages, faulted in, then collected). A few pipelined replies are joined into an array
 * of their size, as before: 50 connections with a little output each hold no 256 KiB apiece.
 *
 * @module
 */

/** Bytes a gather buffer holds: what one write of small parts carries at most. */
export const GATHER_SIZE = 256 * 1024;
/** Parts at least this large are written as they are, not copied. */
export const DIRECT_SIZE = 64 * 1024;
/**
 * Runs of small parts up to this many bytes (a few pipelined replies) are joined into an array
 * of their own size, not a gather buffer: many connections each with a little output queued
 * must not each hold 256 KiB.
 */
export const SMALL_RUN = 16 * 1024;
/** Free gather buffers a pool keeps (1 MiB); more are left to the collector. */
const POOL_KEEP = 4;
/**
 * Parts of shared memory at least this large, landing at an offset of the gather buffer that
 * disagrees with their own modulo 8, are copied through a scratch array
 * ({@linkcode GatherPool.copy}).
 */
const ALIGN_FROM = 512;
/** Bytes a piece through the scratch array holds: it stays in the core's first-level cache. */
const PIECE = 8 * 1024;

/** Gather buffers shared by the connections of one listener. */
export class GatherPool {
  readonly #free: Uint8Array[] = [];
  /** Views of the scratch array, one a residue of 8: `#pieces[r]` starts at offset r. */
  #pieces: Uint8Array[] = [];

  /** A buffer of {@linkcode GATHER_SIZE} bytes, reused when one is free. */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(GATHER_SIZE);
  }

  /** Returns a buffer no write uses any more. */
  give(buffer: Uint8Array): void {
    if (this.#free.length < POOL_KEEP) this.#free.push(buffer);
  }

  /**
   * Copies `part` into `buffer` at `at`. V8 copies to or from shared memory with relaxed
   * atomic loads and stores, a machine word at a time when the two offsets agree modulo 8 and
   * a byte at a time when they do not: stored mail (the memory store keeps it in
   * `SharedArrayBuffer`s) then copied at ~6 GB/s here against ~25 for ordinary arrays. A part
   * whose offset does not agree with its place in the buffer goes through a small scratch
   * array in pieces, placed to agree with the part (a word-wise copy) and then copied into
   * the buffer between ordinary arrays: ~17 GB/s.
   */
  copy(buffer: Uint8Array, part: Uint8Array, at: number): void {
    // Array buffers start at least 8-aligned: offsets stand for addresses modulo 8.
    const residue = part.byteOffset & 7;
    if (
      part.length < ALIGN_FROM || ((residue - buffer.byteOffset - at) & 7) === 0 ||
      !(part.buffer instanceof SharedArrayBuffer)
    ) {
      buffer.set(part, at);
      return;
    }
    if (this.#pieces.length === 0) {
      const scratch = new Uint8Array(PIECE + 8);
      for (let offset = 0; offset < 8; offset++) {
        this.#pieces.push(scratch.subarray(offset, offset + PIECE));
      }
    }
    const piece = this.#pieces[residue];
    let done = 0;
    for (; done + PIECE <= part.length; done += PIECE) {
      piece.set(part.subarray(done, done + PIECE));
      buffer.set(piece, at + done);
    }
    if (done < part.length) {
      const rest = piece.subarray(0, part.length - done);
      rest.set(part.subarray(done));
      buffer.set(rest, at + done);
    }
  }

  /** Free buffers held (for tests). */
  get free(): number {
    return this.#free.length;
  }
}

/**
 * A FIFO of output parts, read one write's chunk at a time with {@linkcode OutputQueue.next}.
 * A chunk stays valid until the next call: the caller writes it fully before asking again.
 */
export class OutputQueue {
  readonly #pool: GatherPool;
  #parts: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  /** The gather buffer, held while there is output. */
  #buffer: Uint8Array | null = null;

  constructor(pool: GatherPool) {
    this.#pool = pool;
    // The fields clear() writes, written twice: see `SocketConnection` in transport.ts.
    this.#parts = [];
    this.#head = 1;
    this.#head = 0;
    this.#bytes = 1;
    this.#bytes = 0;
  }

  /** Bytes queued and not yet taken by {@linkcode next}. */
  get length(): number {
    return this.#bytes;
  }

  /** Queues a part (kept by reference: the caller must not change it until written). */
  push(part: Uint8Array): void {
    this.#parts.push(part);
    this.#bytes += part.length;
  }

  /**
   * The next bytes to write, or null when nothing is queued (the gather buffer then goes back
   * to the pool). A large part, or the last one queued, is returned as it is; else as many
   * whole parts as fit are copied into the gather buffer (at least `GATHER_SIZE -
   * DIRECT_SIZE` bytes of it, unless the queue holds less); a run of at most `SMALL_RUN` bytes
   * goes into an array of its own size instead while the queue holds no gather buffer.
   */
  next(): Uint8Array | null {
    const parts = this.#parts;
    if (this.#head === parts.length) {
      this.#release();
      return null;
    }
    const first = parts[this.#head];
    if (first.length >= DIRECT_SIZE || this.#head === parts.length - 1) {
      return this.#taken(1, first.length, first);
    }
    // The run of small parts that fits one write.
    let bytes = 0;
    let end = this.#head;
    for (; end < parts.length; end++) {
      const length = parts[end].length;
      if (length >= DIRECT_SIZE || bytes + length > GATHER_SIZE) break;
      bytes += length;
    }
    const buffer = bytes <= SMALL_RUN && !this.#buffer
      ? new Uint8Array(bytes)
      : this.#buffer ??= this.#pool.take();
    let used = 0;
    for (let index = this.#head; index < end; index++) {
      this.#pool.copy(buffer, parts[index], used);
      used += parts[index].length;
    }
    return this.#taken(end - this.#head, used, buffer.subarray(0, used));
  }

  /** Drops everything queued; the gather buffer is left to the collector (a write may hold it). */
  clear(): void {
    this.#parts = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#buffer = null;
  }

  #taken(count: number, bytes: number, chunk: Uint8Array): Uint8Array {
    this.#head += count;
    this.#bytes -= bytes;
    if (this.#head === this.#parts.length) {
      this.#parts = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#parts.length) {
      // Array.shift per part would be quadratic; drop the taken slots now and then.
      this.#parts = this.#parts.slice(this.#head);
      this.#head = 0;
    }
    return chunk;
  }

  #release(): void {
    if (this.#buffer) this.#pool.give(this.#buffer);
    this.#buffer = null;
  }
}
