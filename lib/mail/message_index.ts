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
   * Whether the message holds a NUL byte, which a `literal` cannot carry (see the IMAP layer's
   * `withoutNul`): found as the index is built, at delivery or in idle time for most messages,
   * so that a first `FETCH BODY[]` of a mailbox does not look through every byte for it.
   */
  readonly nul: boolean;
  /**
   * Keys and values, one after the other: a message keeps a handful (ENVELOPE, BODYSTRUCTURE,
   * SEARCH's header forms), and a short array is one object fewer and smaller than a Map.
   */
  #memo: unknown[] | null = null;

  /** `slab`: where a one-part message's table is cut from (see `TableSlab`); absent: its own. */
  constructor(raw: Uint8Array, slab: TableSlab | null = null) {
    this.size = raw.length;
    this.parts = parseMimeTable(raw, slab);
    this.nul = holdsNul(raw);
  }

  /**
   * The part tree; part offsets index the raw bytes. A new view on each call, which parses
   * header fields as they are read and is dropped with the walk that made it: the index
   * itself keeps only the compact table.
   */
  get root(): MimePart {
    return this.parts.root();
  }

  /**
   * The value stored under `key`, computed by `compute` on first use. The memo is replaced by
   * a copy one entry longer, not pushed to: a pushed array keeps room to grow (19 slots for a
   * delivered message's 8, ~90 bytes a message), and a message gets its few entries once.
   */
  memo<T>(key: symbol, compute: () => T): T {
    const memo = this.#memo;
    if (memo !== null) {
      for (let i = 0; i < memo.length; i += 2) if (memo[i] === key) return memo[i + 1] as T;
    }
    const value = compute();
    // Read again: `compute` may have memoized something itself. `concat` makes an array of
    // exactly the length (and packed, as the literal is).
    const now = this.#memo;
    this.#memo = now === null ? [key, value] : now.concat([key, value]);
    return value;
  }
}

/** Bytes before which {@linkcode holdsNul} looks byte by byte in shared memory. */
const WORD_SCAN_FROM = 64;

/**
 * Whether `bytes` holds a NUL byte. V8's own `includes(0)` where the bytes are an ordinary
 * `ArrayBuffer`'s; in a `SharedArrayBuffer` (the memory store's, lib/mail/shared_bytes.ts), where
 * `includes` reads each byte as an atomic, four bytes at a time through a `Uint32Array` view. Under
 * the program's V8 flags (Maglev the top tier, lib/v8_flags.ts), 108 MB of 21.6 KB arrays:
 * `includes(0)` 35 ms in ordinary memory, 63 in shared; the word loop 46-47 in either (a script,
 * five rounds; issue 13, round 33, when the word loop, written under TurboFan, was still used for
 * both).
 */
export function holdsNul(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (!(bytes.buffer instanceof SharedArrayBuffer) || length < WORD_SCAN_FROM) {
    return bytes.includes(0);
  }
  // Up to the first 4-byte boundary, then words, then the bytes after the last word.
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  for (let i = 0; i < head; i++) if (bytes[i] === 0) return true;
  const count = (length - head) >>> 2;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, count);
  for (let i = 0; i < count; i++) {
    const word = words[i];
    // Nonzero exactly when some byte of the word is zero (the classic "has zero byte" test).
    if (((word - 0x01010101) & ~word & 0x80808080) !== 0) return true;
  }
  for (let i = head + count * 4; i < length; i++) if (bytes[i] === 0) return true;
  return false;
}
