/**
 * What POP3 puts on the wire: status lines (RFC 1939 3, response codes of RFC 2449 8 and
 * RFC 3206), and multi-line responses with their byte-stuffing. The only code that writes
 * `+OK`, `-ERR`, a leading `.` or the terminating `.` line.
 *
 * A stored message goes out with every line ending in CRLF (a bare LF becomes CRLF, a
 * message whose last line has no end gets one) and a `.` doubled at the start of a line.
 * {@linkcode wireSize} counts exactly the octets of that form before stuffing, which is what
 * LIST and STAT report (RFC 1939 5: "the exact size of the message").
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const encoder = new TextEncoder();

/** Input octets encoded per chunk of a multi-line message response. */
export const WIRE_CHUNK = 64 * 1024;

/** How a failure weighs on the session. */
export interface Pop3ErrorOptions {
  /**
   * A command the client should never have sent (unknown, out of state, bad syntax): counts
   * toward the bad commands in a row that end the connection.
   */
  readonly bad?: boolean;
  /** The connection closes after the answer (too many failed logins). */
  readonly close?: boolean;
}

/** A command failed: the session answers `-ERR [code] text`. */
export class Pop3Error extends Error {
  readonly code: string | null;
  readonly bad: boolean;
  readonly close: boolean;
  constructor(code: string | null, text: string, options: Pop3ErrorOptions = {}) {
    super(text);
    this.name = "Pop3Error";
    this.code = code;
    this.bad = options.bad ?? false;
    this.close = options.close ?? false;
  }
}

/** `+OK text` (or a bare `+OK`) with CRLF. */
export function okLine(text: string): string {
  return text === "" ? "+OK\r\n" : `+OK ${text}\r\n`;
}

/** `-ERR [code] text` with CRLF. */
export function errLine(code: string | null, text: string): string {
  return `-ERR ${code ? `[${code}] ` : ""}${text}\r\n`;
}

/** The lines of a multi-line response, stuffed, with the terminating `.` line. */
export function multiLine(lines: readonly string[]): string {
  let out = "";
  for (const line of lines) out += (line.startsWith(".") ? "." : "") + line + "\r\n";
  return out + ".\r\n";
}

/** The end of a multi-line message response. */
export const TERMINATOR = encoder.encode(".\r\n");

/** Octets of the message as sent (CRLF line ends), before byte-stuffing. */
export function wireSize(raw: Uint8Array): number {
  let size = raw.length;
  let previous = -1;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === LF && previous !== CR) size++;
    previous = raw[i];
  }
  if (raw.length > 0 && raw[raw.length - 1] !== LF) size += 2;
  return size;
}

/**
 * How much of a message TOP sends (RFC 1939 7): the header, the blank line, then `lines`
 * lines of the body; the whole message when it has fewer. Returns the end offset in `raw`.
 */
export function topEnd(raw: Uint8Array, lines: number): number {
  let i = 0;
  let lineStart = true;
  // The header ends at the first empty line (CRLF or bare LF).
  for (; i < raw.length; i++) {
    if (lineStart && (raw[i] === LF || (raw[i] === CR && raw[i + 1] === LF))) {
      i = raw[i] === CR ? i + 2 : i + 1;
      break;
    }
    lineStart = raw[i] === LF;
  }
  for (let n = 0; n < lines && i < raw.length; n++) {
    const lf = raw.indexOf(LF, i);
    i = lf < 0 ? raw.length : lf + 1;
  }
  return Math.min(i, raw.length);
}

/**
 * The message in wire form, byte-stuffed, in chunks of at most about twice
 * {@linkcode WIRE_CHUNK} octets (the caller writes each and waits when the connection is
 * full). The terminating `.` line is not included. A chunk of the message that is already in
 * wire form (no `.` at a line start, no bare LF: most are) is a view of `raw` itself, not a
 * copy: the caller must not free `raw` before such a chunk is written out.
 */
export function* stuffedChunks(raw: Uint8Array): Generator<Uint8Array> {
  let lineStart = true;
  let previous = -1;
  for (let start = 0; start < raw.length; start += WIRE_CHUNK) {
    const slice = raw.subarray(start, Math.min(start + WIRE_CHUNK, raw.length));
    const last = start + slice.length === raw.length;
    if (inWireForm(slice, lineStart, previous)) {
      yield slice;
      previous = slice[slice.length - 1];
      lineStart = previous === LF;
      if (last && previous !== LF) yield CRLF;
      continue;
    }
    // Worst case: every byte a "." at a line start or a bare LF doubles.
    const out = new Uint8Array(slice.length * 2 + 2);
    let n = 0;
    for (let i = 0; i < slice.length; i++) {
      const byte = slice[i];
      if (lineStart && byte === DOT) out[n++] = DOT;
      if (byte === LF && previous !== CR) out[n++] = CR;
      out[n++] = byte;
      lineStart = byte === LF;
      previous = byte;
    }
    if (last && previous !== LF) {
      out[n++] = CR;
      out[n++] = LF;
    }
    yield out.subarray(0, n);
  }
}

/** A line end on its own, for a message whose last line has none. */
const CRLF = new Uint8Array([CR, LF]);

/**
 * Whether `slice` goes on the wire as it is: no `.` starts a line in it and every LF follows a
 * CR. `lineStart` and `previous` say how the bytes before it ended.
 */
function inWireForm(slice: Uint8Array, lineStart: boolean, previous: number): boolean {
  if (lineStart && slice[0] === DOT) return false;
  for (let lf = slice.indexOf(LF); lf >= 0; lf = slice.indexOf(LF, lf + 1)) {
    if ((lf === 0 ? previous : slice[lf - 1]) !== CR) return false;
    if (slice[lf + 1] === DOT) return false;
  }
  return true;
}
