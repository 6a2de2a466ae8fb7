/**
 * Cuts an SMTP byte stream into command lines and message data (RFC 5321 4.1.1.4, 4.5.2).
 * Sans-IO: bytes in, events out, any chunking.
 *
 * Message data ends only at CRLF "." CRLF. A bare LF, a bare CR, or `\n.\n` never ends or
 * splits a message (the SMTP smuggling class of bugs), and leading dots are unstuffed only
 * at the start of a CRLF-terminated line. Data over the size cap is counted and drained,
 * never stored.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { InFlightBudget } from "../net/in_flight.ts";
import { binaryString } from "../mail/headers.ts";

/** What the framer found. */
export type SmtpFrame =
  | { readonly type: "line"; readonly line: string }
  | { readonly type: "line-too-long" }
  /**
   * The message, unstuffed, as views of the input in order (`size` bytes in all); join them
   * with `concatBytes` (lib/bytes.ts).
   */
  | { readonly type: "data"; readonly parts: readonly Uint8Array[]; readonly size: number }
  /**
   * Message data past the size limit, read to its end and dropped; or, with `endless`, cut off
   * once twice the limit had come without an end (the connection then closes).
   */
  | { readonly type: "data-too-big"; readonly size: number; readonly endless?: boolean }
  /** Message data read and dropped: the listener's in-flight budget had no room for it. */
  | { readonly type: "data-no-room"; readonly size: number };

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

// Data states: where the scanner stands relative to a line start.
const MID_LINE = 0;
const AFTER_CR = 1;
const LINE_START = 2;
const AFTER_DOT = 3;
const AFTER_DOT_CR = 4;

const EMPTY = new Uint8Array(0);
const LINE_TOO_LONG: SmtpFrame = Object.freeze({ type: "line-too-long" });
/** Longest ASCII line turned into a string by `String.fromCharCode` (an argument list). */
const ASCII_CHUNK = 1024;
/** Message data read past the size limit is dropped until this many times the limit. */
export const DRAIN_FACTOR = 2;
/** A byte the data scanner skipped and then kept, when it was in an earlier chunk. */
const DOT_BYTE = Uint8Array.of(DOT);
const CR_BYTE = Uint8Array.of(CR);
const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** The SMTP framer. Call {@linkcode startData} after replying 354. */
export class SmtpFramer {
  readonly #maxLine: number;
  readonly #maxData: number;
  /** `gone`: data without an end was cut off; nothing after it is read (the session closes). */
  #mode: "line" | "data" | "gone" = "line";
  // bytes pushed but not yet cut into frames
  #input: Uint8Array = EMPTY;
  #offset = 0;
  // line mode
  #line: Uint8Array[] = [];
  #lineLength = 0;
  #discarding = false;
  // data mode
  #state = LINE_START;
  #parts: Uint8Array[] = [];
  #size = 0;
  /** Octets of `#parts` reserved against the budget. */
  #reserved = 0;
  /** The budget had no room for this message's data: it is dropped as it comes. */
  #noRoom = false;
  readonly #budget: InFlightBudget | null;
  /** The frame the last cut found, taken by {@linkcode next} (one a call: no list made). */
  #found: SmtpFrame | null = null;

  /** `budget`: shared by a listener's connections for the message data they hold. */
  constructor(maxLineLength: number, maxDataSize: number, budget: InFlightBudget | null = null) {
    this.#maxLine = maxLineLength;
    this.#maxData = maxDataSize;
    this.#budget = budget;
  }

  /** Gives back what the budget holds for data not handed out (the connection closed). */
  dispose(): void {
    this.#releaseData();
    this.#mode = "gone";
  }

  #releaseData(): void {
    this.#budget?.release(this.#reserved);
    this.#reserved = 0;
    this.#parts = [];
    this.#noRoom = false;
  }

  get inData(): boolean {
    return this.#mode === "data";
  }

  /** Switches to message data; the next byte starts the first line of the message. */
  startData(): void {
    this.#releaseData();
    this.#mode = "data";
    this.#state = LINE_START;
    this.#size = 0;
  }

  /**
   * Queues bytes. Take the frames out with {@linkcode next}: frames are cut one at a time so
   * that a {@linkcode startData} after a DATA line applies to the bytes that follow it in the
   * same chunk (a client that does not wait for 354).
   */
  push(chunk: Uint8Array): void {
    this.#input = this.#offset < this.#input.length
      ? concatBytes([this.#input.subarray(this.#offset), chunk])
      : chunk;
    this.#offset = 0;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): SmtpFrame | null {
    if (this.#mode === "gone") this.#input = EMPTY;
    const chunk = this.#input;
    while (this.#offset < chunk.length && this.#found === null) {
      this.#offset = this.#mode === "line"
        ? this.#pushLine(chunk, this.#offset)
        : this.#pushData(chunk, this.#offset);
    }
    if (this.#offset >= chunk.length) {
      this.#input = EMPTY;
      this.#offset = 0;
    }
    const frame = this.#found;
    this.#found = null;
    return frame;
  }

  /** Consumes one line's worth; returns the offset after what it consumed. */
  #pushLine(chunk: Uint8Array, offset: number): number {
    const lf = chunk.indexOf(LF, offset);
    if (lf >= 0 && this.#lineLength === 0 && !this.#discarding && lf - offset <= this.#maxLine) {
      // The whole line is in this chunk (the usual case): decoded where it is.
      this.#found = { type: "line", line: decodeLine(chunk, offset, lf) };
      return lf + 1;
    }
    const end = lf < 0 ? chunk.length : lf;
    if (!this.#discarding) {
      const piece = chunk.subarray(offset, end);
      this.#lineLength += piece.length;
      if (this.#lineLength > this.#maxLine) {
        this.#discarding = true;
        this.#line = [];
        this.#found = LINE_TOO_LONG;
      } else if (piece.length > 0) this.#line.push(piece.slice());
    }
    if (lf < 0) return chunk.length;
    if (!this.#discarding) {
      const line = concat(this.#line, this.#lineLength);
      this.#found = { type: "line", line: decodeLine(line, 0, line.length) };
    }
    this.#line = [];
    this.#lineLength = 0;
    this.#discarding = false;
    return lf + 1;
  }

  /**
   * Consumes message data up to the end marker or the end of the chunk. Between line starts
   * it only looks for the next LF (a native scan); the data is kept as views of the chunk
   * (the transport hands each chunk over), cut only where a stuffing dot is dropped, so the
   * body is copied once, by whoever joins the parts (`concatBytes`).
   */
  #pushData(chunk: Uint8Array, offset: number): number {
    const length = chunk.length;
    let state = this.#state;
    let i = offset;
    /** Start of the bytes kept as they are, up to `i`. */
    let run = offset;
    let ended = false;
    while (i < length) {
      if (state === MID_LINE || state === AFTER_CR) {
        const lf = chunk.indexOf(LF, i);
        if (lf < 0) {
          // Only a CR at the very end matters to what follows.
          state = chunk[length - 1] === CR ? AFTER_CR : MID_LINE;
          i = length;
          break;
        }
        // Only CRLF starts a line: a bare LF (or LF after ".") does not.
        const crlf = lf > i ? chunk[lf - 1] === CR : state === AFTER_CR;
        state = crlf ? LINE_START : MID_LINE;
        i = lf + 1;
      } else if (state === LINE_START) {
        if (chunk[i] === DOT) {
          this.#appendData(chunk.subarray(run, i));
          run = ++i;
          state = AFTER_DOT;
        } else state = MID_LINE;
      } else if (state === AFTER_DOT) {
        const byte = chunk[i];
        if (byte === CR) {
          run = ++i;
          state = AFTER_DOT_CR;
        } else {
          // ".\n": not a terminator, the line is kept as sent; else a stuffed dot, dropped.
          // Either way the byte is scanned again as an ordinary one.
          if (byte === LF) run = this.#keepSkipped(i, offset, DOT_BYTE);
          state = MID_LINE;
        }
      } else {
        // AFTER_DOT_CR
        if (chunk[i] === LF) {
          ended = true;
          i++;
          break;
        }
        // ".\r" then something else: the dot was stuffing; the CR is data.
        run = this.#keepSkipped(i, offset, CR_BYTE);
        state = MID_LINE;
      }
    }
    this.#state = state;
    if (!ended) {
      this.#appendData(chunk.subarray(run, length));
      // Data past the limit is read and dropped, so that the client hears 552 at its end; but
      // not for ever (20 GB in 17 s from two connections, hostile-client audit, round 34).
      if (this.#size > this.#maxData * DRAIN_FACTOR) {
        this.#found = { type: "data-too-big", size: this.#size, endless: true };
        this.#mode = "gone";
        this.#releaseData();
        this.#size = 0;
      }
      return length;
    }
    this.#found = this.#size > this.#maxData
      ? { type: "data-too-big", size: this.#size }
      : this.#noRoom
      ? { type: "data-no-room", size: this.#size }
      : { type: "data", parts: this.#parts, size: this.#size };
    this.#mode = "line";
    // Handed out: the session delivers it at once (the store keeps its own bytes).
    this.#releaseData();
    this.#size = 0;
    return i;
  }

  /**
   * Keeps the byte before `i`, which was skipped as possibly special (the dot of ".\n", the
   * CR of ".\r"): the run restarts at it when it is in this chunk, else it is added alone.
   * Returns where the run starts.
   */
  #keepSkipped(i: number, offset: number, byte: Uint8Array): number {
    if (i > offset) return i - 1;
    this.#appendData(byte);
    return i;
  }

  #appendData(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#size += bytes.length;
    if (this.#size > this.#maxData || this.#noRoom) {
      this.#releaseData();
      if (this.#size <= this.#maxData) this.#noRoom = true;
      return;
    }
    if (this.#budget !== null) {
      if (!this.#budget.reserve(bytes.length)) {
        this.#releaseData();
        this.#noRoom = true;
        return;
      }
      this.#reserved += bytes.length;
    }
    this.#parts.push(bytes);
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts, length);
}

/**
 * The command line in `bytes[start, end)` (its LF excluded) without its CR: UTF-8, or
 * Latin-1 when it is not valid UTF-8. ASCII (nearly every line) is turned into a string
 * here, without the decoder's call overhead.
 */
function decodeLine(bytes: Uint8Array, start: number, end: number): string {
  if (end > start && bytes[end - 1] === CR) end--;
  // One scan: an ASCII line of up to ASCII_CHUNK bytes is made by `binaryString` (a command
  // line, up to 128 bytes, through its kept array of codes, not a fresh array a line).
  let i = start;
  while (i < end && bytes[i] < 0x80) i++;
  if (i === end && end - start <= ASCII_CHUNK) return binaryString(bytes, start, end);
  const body = bytes.subarray(start, end);
  if (i === end) return latin1.decode(body);
  try {
    return utf8.decode(body);
  } catch {
    return latin1.decode(body);
  }
}
