/**
 * Cuts a POP3 byte stream into command lines (RFC 1939 3: a keyword, arguments, CRLF).
 * Sans-IO: bytes in, lines out, any chunking. A line longer than the cap is reported once
 * and drained up to its end, never buffered; a bare LF also ends a line (as Dovecot reads).
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";

/** What the framer found. */
export type Pop3Frame =
  | { readonly type: "line"; readonly line: string }
  | { readonly type: "line-too-long" };

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/**
 * The POP3 line framer.
 *
 * @example
 * ```ts
 * const framer = new Pop3Framer(8192);
 * framer.push(new TextEncoder().encode("STAT\r\nLI"));
 * framer.next(); // { type: "line", line: "STAT" }
 * framer.next(); // null: "LI" waits for the rest of its line
 * ```
 */
export class Pop3Framer {
  readonly #maxLine: number;
  #input: Uint8Array = EMPTY;
  #offset = 0;
  #line: Uint8Array[] = [];
  #lineLength = 0;
  #discarding = false;
  #lastByte = -1;

  /** `maxLineLength`: the longest line in octets, CRLF excluded. */
  constructor(maxLineLength: number) {
    this.#maxLine = maxLineLength;
  }

  /** Queues bytes; take the lines out with {@linkcode next}. */
  push(chunk: Uint8Array): void {
    this.#input = this.#offset < this.#input.length
      ? concatBytes([this.#input.subarray(this.#offset), chunk])
      : chunk;
    this.#offset = 0;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): Pop3Frame | null {
    const chunk = this.#input;
    while (this.#offset < chunk.length) {
      const lf = chunk.indexOf(LF, this.#offset);
      const end = lf < 0 ? chunk.length : lf;
      const wasDiscarding = this.#discarding;
      if (!wasDiscarding) {
        const piece = chunk.subarray(this.#offset, end);
        this.#lineLength += piece.length;
        if (piece.length > 0) {
          this.#line.push(piece.slice());
          this.#lastByte = piece[piece.length - 1];
        }
        // One octet more than the cap may be the CR of CRLF.
        const content = this.#lineLength - (lf >= 0 && this.#lastByte === CR ? 1 : 0);
        if (this.#lineLength > this.#maxLine + 1 || (lf >= 0 && content > this.#maxLine)) {
          this.#discarding = true;
          this.#line = [];
        }
      }
      this.#offset = lf < 0 ? chunk.length : lf + 1;
      const reportTooLong = this.#discarding && !wasDiscarding;
      if (lf >= 0) {
        const line = this.#discarding ? null : decodeLine(concat(this.#line, this.#lineLength));
        this.#line = [];
        this.#lineLength = 0;
        this.#lastByte = -1;
        this.#discarding = false;
        if (line !== null) return { type: "line", line };
      }
      if (reportTooLong) return { type: "line-too-long" };
    }
    this.#input = EMPTY;
    this.#offset = 0;
    return null;
  }
}

/** The parts as one array; a lone part is returned as it is, not copied. */
function concat(parts: Uint8Array[], length: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts, length);
}

function decodeLine(bytes: Uint8Array): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  try {
    return utf8.decode(body);
  } catch {
    return latin1.decode(body);
  }
}
