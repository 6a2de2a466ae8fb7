/**
 * COMPRESS=DEFLATE (RFC 4978) as a layer of the transport: raw DEFLATE (RFC 1951, no zlib
 * header) over a connection's bytes, the way TLS is a layer under it. Both connection kinds
 * (`transport.ts`, `node_transport.ts`) put one {@linkcode DeflateLayer} between their socket
 * and the session once the session has written its tagged OK; protocol code only sees
 * plaintext, so every limit of the framer (line length, literal sizes) holds on the
 * decompressed bytes.
 *
 * Output: the session's writes of one turn of the event loop (a response burst) go into the
 * compressor and are followed by one `Z_SYNC_FLUSH` (RFC 4978 4: the receiver must be able to
 * decode everything sent so far), so a client never waits for bytes stuck in the compressor.
 * Plain bytes count as unsent output until their flush has produced compressed bytes, so the
 * connection's high-water mark holds for them too.
 *
 * Input (a deflate bomb must stay bounded): the inflater makes at most one output chunk of
 * {@linkcode INFLATE_CHUNK} bytes at a time and stops while the connection delivers no data
 * (its readable side pauses: at most {@linkcode INFLATE_BUFFER} inflated bytes wait); the
 * socket stops being read while more than one read of compressed input waits in it. So
 * whatever the ratio, the server holds a bounded amount of inflated input per connection,
 * and the session's own input bounds apply to what it is given. What inflates past
 * {@linkcode MAX_INFLATE_RATIO} times the compressed input (plus {@linkcode INFLATE_SLACK})
 * is cut off as a bomb: no mail client sends that, and it bounds the CPU a peer can make the
 * server spend per byte it sends.
 *
 * @module
 */

import type * as zlib from "node:zlib";
import { nodeZlib } from "../node_builtins.ts";

/**
 * zlib level of the server's output. Dovecot uses 6; Deno's `node:zlib` makes ~10 MB/s at 6
 * and ~20 MB/s at 1 on mail (bench/compress_bench.ts), and a test server mostly runs on
 * loopback, where CPU is the cost and bandwidth is free: 1 keeps most of the gain on a real
 * link (corpus: 59% of the bytes at 6, ~78% at 1) at half the CPU.
 */
const DEFLATE_LEVEL = 1;
/** Bytes the inflater produces per step. */
export const INFLATE_CHUNK = 16 * 1024;
/** Inflated bytes held while the connection delivers nothing. */
export const INFLATE_BUFFER = 64 * 1024;
/** Compressed input held in the inflater before the socket stops being read. */
const INPUT_BUFFER = 64 * 1024;
/**
 * Inflated bytes allowed per compressed byte received. Mail (text, base64) compresses 2-10
 * times; 256 leaves room for generated test messages while a bomb (DEFLATE reaches ~1030) is
 * cut off within a few MB.
 */
export const MAX_INFLATE_RATIO = 256;
/** Inflated bytes allowed on top of the ratio (a short compressed burst may inflate well). */
export const INFLATE_SLACK = 1024 * 1024;

/** What a {@linkcode DeflateLayer} reports to its connection. */
export interface DeflateHooks {
  /** Compressed output to put on the wire, in order. */
  send(compressed: Uint8Array): void;
  /** Decompressed input for the session. */
  deliver(plain: Uint8Array): void;
  /** Plain output was flushed or compressed input was taken: recheck flow control. */
  progress(): void;
  /** The peer sent invalid DEFLATE data or a bomb: the connection should close. */
  fail(reason: string): void;
}

/**
 * One connection's compressor and decompressor.
 *
 * @example
 * ```ts
 * const layer = new DeflateLayer({ send, deliver, progress, fail });
 * layer.write(new TextEncoder().encode("* OK compressed\r\n"));
 * layer.input(bytesFromTheSocket);
 * ```
 */
export class DeflateLayer {
  readonly #hooks: DeflateHooks;
  readonly #deflater: zlib.DeflateRaw;
  readonly #inflater: zlib.InflateRaw;
  /** zlib's `Z_SYNC_FLUSH`. */
  readonly #syncFlush: number;
  /** Plain bytes written whose flush has not completed. */
  #pending = 0;
  /** Plain bytes written since the last flush was scheduled. */
  #batch = 0;
  #compressedIn = 0;
  #inflated = 0;
  #closed = false;

  constructor(hooks: DeflateHooks) {
    this.#hooks = hooks;
    const zlib = nodeZlib();
    this.#deflater = zlib.createDeflateRaw({ level: DEFLATE_LEVEL });
    this.#deflater.on("data", (chunk: Uint8Array) => {
      if (!this.#closed) hooks.send(asBytes(chunk));
    });
    this.#inflater = zlib.createInflateRaw({
      chunkSize: INFLATE_CHUNK,
      highWaterMark: INFLATE_BUFFER,
      writableHighWaterMark: INPUT_BUFFER,
    } as zlib.ZlibOptions);
    this.#syncFlush = zlib.constants.Z_SYNC_FLUSH;
    this.#inflater.on("data", (chunk: Uint8Array) => this.#inflatedChunk(chunk));
    this.#inflater.on("drain", () => hooks.progress());
    const failed = (error: Error) => this.#fail(`invalid compressed data: ${error.message}`);
    this.#inflater.on("error", failed);
    this.#deflater.on(
      "error",
      (error: Error) => this.#fail(`compression failed: ${error.message}`),
    );
  }

  /** Plain output not yet turned into compressed bytes (counts as unsent output). */
  get pending(): number {
    return this.#pending;
  }

  /** More compressed input waits than one read: stop reading the socket until progress. */
  get inputFull(): boolean {
    return this.#inflater.writableLength >= INPUT_BUFFER;
  }

  /** Compresses `plain`; a sync flush follows the writes of this turn. */
  write(plain: Uint8Array): void {
    if (this.#closed || plain.length === 0) return;
    this.#pending += plain.length;
    if (this.#batch === 0) queueMicrotask(() => this.#flush());
    this.#batch += plain.length;
    this.#deflater.write(plain);
  }

  /** Decompresses bytes read from the socket; they are delivered as the flow allows. */
  input(compressed: Uint8Array): void {
    if (this.#closed) return;
    this.#compressedIn += compressed.length;
    this.#inflater.write(compressed);
  }

  /** Whether inflated input may be delivered now (the connection's flow control). */
  flow(reading: boolean): void {
    if (this.#closed) return;
    if (reading) this.#inflater.resume();
    else this.#inflater.pause();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = 0;
    this.#deflater.destroy();
    this.#inflater.destroy();
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = 0;
    if (this.#closed) return;
    this.#deflater.flush(this.#syncFlush, () => {
      if (this.#closed) return;
      this.#pending -= batch;
      this.#hooks.progress();
    });
  }

  #inflatedChunk(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#inflated += chunk.length;
    if (this.#inflated > INFLATE_SLACK + MAX_INFLATE_RATIO * this.#compressedIn) {
      return this.#fail(
        `compressed input inflates more than ${MAX_INFLATE_RATIO} times (a deflate bomb)`,
      );
    }
    this.#hooks.deliver(asBytes(chunk));
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.close();
    this.#hooks.fail(reason);
  }
}

/** A plain Uint8Array view of a Buffer (sessions rely on `slice()` copying). */
function asBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
