/**
 * The client side of COMPRESS=DEFLATE (RFC 4978) for tests: a connection whose reads are
 * inflated and whose writes are deflated and sync-flushed, over any `Deno.Conn` (plain or
 * TLS). Used by the transcript runner's `!compress` and by the compression tests.
 *
 * @module
 */

import * as zlib from "node:zlib";

/** Raw DEFLATE with a sync flush after each write (what a client sends after COMPRESS). */
export class DeflatedConn {
  readonly inner: Deno.Conn;
  readonly #inflater = zlib.createInflateRaw();
  readonly #deflater = zlib.createDeflateRaw();
  #inflated: Uint8Array[] = [];
  #deflated: Uint8Array[] = [];
  #error: Error | null = null;
  /** Compressed bytes read and written, for measurements. */
  wireIn = 0;
  wireOut = 0;

  constructor(inner: Deno.Conn) {
    this.inner = inner;
    this.#inflater.on("data", (chunk: Uint8Array) => this.#inflated.push(new Uint8Array(chunk)));
    this.#deflater.on("data", (chunk: Uint8Array) => this.#deflated.push(new Uint8Array(chunk)));
    this.#inflater.on("error", (error: Error) => (this.#error = error));
  }

  /** Like `Deno.Conn.read`: inflated bytes, null at EOF. */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#inflated.length === 0) {
      const raw = new Uint8Array(64 * 1024);
      const n = await this.inner.read(raw);
      if (n === null) return null;
      this.wireIn += n;
      await new Promise<void>((resolve) => {
        this.#inflater.write(raw.subarray(0, n));
        this.#inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
      });
      if (this.#error) throw this.#error;
    }
    const first = this.#inflated[0];
    const n = Math.min(first.length, buffer.length);
    buffer.set(first.subarray(0, n));
    if (n === first.length) this.#inflated.shift();
    else this.#inflated[0] = first.subarray(n);
    return n;
  }

  /** Like `Deno.Conn.write`: deflates and flushes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<number> {
    await new Promise<void>((resolve) => {
      this.#deflater.write(bytes);
      this.#deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
    });
    const out = this.#deflated;
    this.#deflated = [];
    for (const chunk of out) {
      let written = 0;
      while (written < chunk.length) written += await this.inner.write(chunk.subarray(written));
      this.wireOut += chunk.length;
    }
    return bytes.length;
  }

  close(): void {
    this.#inflater.destroy();
    this.#deflater.destroy();
    this.inner.close();
  }
}
