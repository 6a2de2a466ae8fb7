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

/** What the framer found. */
export type SmtpFrame =
  | { readonly type: "line"; readonly line: string }
  | { readonly type: "line-too-long" }
  | { readonly type: "data"; readonly body: Uint8Array; readonly size: number }
  | { readonly type: "data-too-big"; readonly size: number };

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
const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** The SMTP framer. Call {@linkcode startData} after replying 354. */
export class SmtpFramer {
  readonly #maxLine: number;
  readonly #maxData: number;
  #mode: "line" | "data" = "line";
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

  constructor(maxLineLength: number, maxDataSize: number) {
    this.#maxLine = maxLineLength;
    this.#maxData = maxDataSize;
  }

  get inData(): boolean {
    return this.#mode === "data";
  }

  /** Switches to message data; the next byte starts the first line of the message. */
  startData(): void {
    this.#mode = "data";
    this.#state = LINE_START;
    this.#parts = [];
    this.#size = 0;
  }

  /**
   * Queues bytes. Take the frames out with {@linkcode next}: frames are cut one at a time so
   * that a {@linkcode startData} after a DATA line applies to the bytes that follow it in the
   * same chunk (a client that does not wait for 354).
   */
  push(chunk: Uint8Array): void {
    if (this.#offset < this.#input.length) {
      const rest = this.#input.subarray(this.#offset);
      const merged = new Uint8Array(rest.length + chunk.length);
      merged.set(rest);
      merged.set(chunk, rest.length);
      this.#input = merged;
    } else this.#input = chunk;
    this.#offset = 0;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): SmtpFrame | null {
    const frames: SmtpFrame[] = [];
    const chunk = this.#input;
    while (this.#offset < chunk.length && frames.length === 0) {
      this.#offset = this.#mode === "line"
        ? this.#pushLine(chunk, this.#offset, frames)
        : this.#pushData(chunk, this.#offset, frames);
    }
    if (this.#offset >= chunk.length) {
      this.#input = EMPTY;
      this.#offset = 0;
    }
    return frames.length > 0 ? frames[0] : null;
  }

  /** Consumes one line's worth; returns the offset after what it consumed. */
  #pushLine(chunk: Uint8Array, offset: number, frames: SmtpFrame[]): number {
    const lf = chunk.indexOf(LF, offset);
    const end = lf < 0 ? chunk.length : lf;
    if (!this.#discarding) {
      const piece = chunk.subarray(offset, end);
      this.#lineLength += piece.length;
      if (this.#lineLength > this.#maxLine) {
        this.#discarding = true;
        this.#line = [];
        frames.push({ type: "line-too-long" });
      } else if (piece.length > 0) this.#line.push(piece.slice());
    }
    if (lf < 0) return chunk.length;
    if (!this.#discarding) {
      frames.push({ type: "line", line: decodeLine(concat(this.#line, this.#lineLength)) });
    }
    this.#line = [];
    this.#lineLength = 0;
    this.#discarding = false;
    return lf + 1;
  }

  #pushData(chunk: Uint8Array, offset: number, frames: SmtpFrame[]): number {
    const out = new Uint8Array(chunk.length - offset + 2);
    let n = 0;
    let state = this.#state;
    let i = offset;
    let ended = false;
    for (; i < chunk.length; i++) {
      const byte = chunk[i];
      switch (state) {
        case MID_LINE:
          out[n++] = byte;
          if (byte === CR) state = AFTER_CR;
          break;
        case AFTER_CR:
          out[n++] = byte;
          state = byte === LF ? LINE_START : byte === CR ? AFTER_CR : MID_LINE;
          break;
        case LINE_START:
          if (byte === DOT) state = AFTER_DOT;
          else {
            out[n++] = byte;
            state = byte === CR ? AFTER_CR : MID_LINE;
          }
          break;
        case AFTER_DOT:
          if (byte === CR) state = AFTER_DOT_CR;
          else if (byte === LF) {
            // ".\n": not a terminator; keep the line as sent.
            out[n++] = DOT;
            out[n++] = LF;
            state = MID_LINE;
          } else {
            // A stuffed dot: drop it, keep the rest of the line.
            out[n++] = byte;
            state = MID_LINE;
          }
          break;
        case AFTER_DOT_CR:
          if (byte === LF) {
            ended = true;
            break;
          }
          // ".\r" then something else: the dot was stuffing; the CR is data.
          out[n++] = CR;
          out[n++] = byte;
          state = byte === CR ? AFTER_CR : MID_LINE;
          break;
      }
      if (ended) break;
    }
    this.#state = state;
    this.#appendData(out.subarray(0, n));
    if (!ended) return chunk.length;
    frames.push(
      this.#size > this.#maxData
        ? { type: "data-too-big", size: this.#size }
        : { type: "data", body: concat(this.#parts, this.#size), size: this.#size },
    );
    this.#mode = "line";
    this.#parts = [];
    this.#size = 0;
    return i + 1;
  }

  #appendData(bytes: Uint8Array): void {
    this.#size += bytes.length;
    if (this.#size > this.#maxData) {
      this.#parts = [];
      return;
    }
    if (bytes.length > 0) this.#parts.push(bytes);
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
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
