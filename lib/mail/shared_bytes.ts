/**
 * Mail bytes in shared memory, and the collections V8 then leaves to us.
 *
 * V8 counts the bytes of every `ArrayBuffer` as external memory and starts a full
 * collection (marking the whole heap, on helper threads and in steps on the event loop) each
 * time that count has grown by 64 MB since the last one. A burst of stored mail is live, not
 * garbage, yet its bytes started those collections: 5,000 APPENDs of 108 MB started two, the
 * second still marking beside the first commands after the burst (issue 13). The bytes of a
 * `SharedArrayBuffer` are not counted (V8 cannot tell which isolate owns them), so the bytes
 * the memory store keeps are allocated as shared memory here: its own copies, and what it is
 * handed to keep, the IMAP framer's literals and SMTP message data of a server on the memory
 * store. (The SQLite store keeps none: its sessions make ordinary arrays.) Nothing else shares
 * them: no worker is given one.
 *
 * What V8 no longer counts, a {@linkcode SharedBytesLedger} counts instead: bytes allocated
 * here and not kept by the memory store (a literal that was not a message, or was refused),
 * and bytes the memory store let go (an expunge, a deleted mailbox, a reset). Past 64 MB of
 * those it asks for the full collection V8 would have started; a running server answers with
 * one in a turn of its own (lib/server.ts, `collectSharedGarbage`). Stored mail that stays is
 * never counted, so a burst makes no collection.
 *
 * Web APIs refuse views of shared memory (`Response`, `Blob`, `crypto.subtle`); a view that
 * goes there is copied first ({@linkcode unsharedBytes}).
 *
 * @module
 */

/** Garbage that may be waiting in shared memory before a collection is asked for: V8's step. */
export const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;

/**
 * Counts the shared bytes that may be garbage, and asks for a collection once they reach a
 * threshold. One per process ({@linkcode SHARED_BYTES}), as V8 keeps one external-memory
 * count per isolate; tests make their own.
 *
 * @example
 * ```ts
 * const ledger = new SharedBytesLedger(1024);
 * ledger.onThreshold = () => ledger.collected(); // a server collects here
 * const bytes = ledger.allocate(100); // a Uint8Array over a SharedArrayBuffer; 100 loose
 * ledger.keep(bytes); // stored for good: 0 loose
 * ledger.release(bytes.length); // expunged: 100 loose again
 * ```
 */
export class SharedBytesLedger {
  readonly #threshold: number;
  #loose = 0;
  #asked = false;
  /**
   * Called once the loose bytes reach the threshold, and again only after
   * {@linkcode collected}; none (a store without a server): V8's own collections free them.
   */
  onThreshold: (() => void) | null = null;

  constructor(threshold = COLLECT_AFTER_BYTES) {
    this.#threshold = threshold;
  }

  /** Shared bytes that may be garbage now (allocated and not kept, or released). */
  get loose(): number {
    return this.#loose;
  }

  /** `length` zero bytes in shared memory of their own, loose until kept. */
  allocate(length: number): Uint8Array {
    const bytes = new Uint8Array(new SharedArrayBuffer(length));
    this.#add(length);
    return bytes;
  }

  /** A copy of `bytes` in shared memory of its own, loose until kept. */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.allocate(bytes.length);
    out.set(bytes);
    return out;
  }

  /**
   * The memory store keeps `bytes` (a message's, once): they are no longer loose. Bytes not
   * in shared memory are V8's to count, and change nothing here.
   */
  keep(bytes: Uint8Array): void {
    if (!(bytes.buffer instanceof SharedArrayBuffer)) return;
    // Never below zero: a collection forgets what was loose, kept later or not.
    this.#loose = Math.max(0, this.#loose - bytes.length);
  }

  /** The memory store let go of `length` bytes it kept: they may be garbage now. */
  release(length: number): void {
    this.#add(length);
  }

  /** A full collection ran: what was loose is freed or live. */
  collected(): void {
    this.#loose = 0;
    this.#asked = false;
  }

  #add(length: number): void {
    this.#loose += length;
    if (this.#loose < this.#threshold || this.#asked || this.onThreshold === null) return;
    this.#asked = true;
    this.onThreshold();
  }
}

/** The process's ledger: every allocation of kept mail goes through it. */
export const SHARED_BYTES: SharedBytesLedger = new SharedBytesLedger();

/** {@linkcode SHARED_BYTES}'s `allocate` as a plain function, for the makers of mail arrays. */
export const allocateShared = (length: number): Uint8Array => SHARED_BYTES.allocate(length);

/**
 * `bytes` as a view a web API takes (`Response`, `Blob`, `crypto.subtle`): itself, or a copy
 * when it is a view of shared memory.
 *
 * @example
 * ```ts
 * new Response(unsharedBytes(store.getRaw("alice", "INBOX", 1)!));
 * ```
 */
export function unsharedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return bytes.slice() as Uint8Array<ArrayBuffer>;
}

/**
 * A response body for `bytes`: the bytes themselves (a copy of shared memory) when small; past
 * {@linkcode STREAM_FROM} a stream that copies {@linkcode STREAM_CHUNK} octets at a time as the
 * connection takes them, so a client that never reads holds a chunk or two, not the message
 * (the memory store's bytes are the stored ones, never copied whole). 100 unread downloads of a
 * 20 MB message grew the server by 2 GB (hostile-client audit, issue 13 round 34).
 */
export function responseBody(bytes: Uint8Array): BodyInit {
  if (bytes.length <= STREAM_FROM) return unsharedBytes(bytes);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    type: "bytes",
    pull(controller) {
      const end = Math.min(offset + STREAM_CHUNK, bytes.length);
      controller.enqueue(bytes.slice(offset, end));
      offset = end;
      if (offset >= bytes.length) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** Bodies up to this size are sent as they are (see {@linkcode responseBody}). */
const STREAM_FROM = 256 * 1024;
/** The chunk a streamed body is copied in. */
const STREAM_CHUNK = 64 * 1024;
