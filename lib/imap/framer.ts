/**
 * The IMAP framer: cuts the client's byte stream into complete commands before any grammar
 * runs (RFC 9051 2.2, 4.3; RFC 7888 LITERAL+; RFC 3516 `~{n}`), so the parser is synchronous
 * and never sees half a command.
 *
 * A command is lines plus literals. Each line ends in CRLF (a bare LF is accepted too); a line
 * ending in `{n}`, `{n+}`, `~{n}` or `~{n+}` is followed by n raw bytes, then the command
 * continues. The framer hands out {@linkcode FramedCommand}: `line` is the text of all the
 * lines concatenated without their CRLFs, each literal announcement left in place, and
 * `literals` holds each literal's bytes in order. So `a LOGIN {3}\r\nbob {2+}\r\npw\r\n`
 * becomes `line = "a LOGIN {3} {2+}"`, `literals = ["bob", "pw"]`; the parser consumes the
 * announcement and takes the next literal.
 *
 * Literal policy stays with the owner (STYLE.md 3): a synchronizing literal of any size is a
 * `literal-request` event and the framer waits for `acceptLiteral()` (the owner sent `+`) or
 * `rejectLiteral()` (the owner sent a tagged NO/BAD; the client will not send the bytes, per
 * RFC 9051 7.5). Non-synchronizing literals are read silently while the command's literals
 * add up to at most `maxLiteralSize`; past that the announcement is a `literal-request` too,
 * so no literal is ever buffered unless the owner's policy allows it. A literal's bytes are
 * an array of its own, made as the owner says (shared memory for the memory store, whose
 * APPEND keeps the literal as the message: lib/mail/shared_bytes.ts). Rejecting a
 * non-synchronizing literal drains it: its bytes are counted off the stream, never kept, so
 * the stream stays in step, and the rest of that command is discarded (the owner may instead
 * close the connection). `maxLineLength` caps the command's text (all its lines, without
 * literal data): past it, `line-too-long` is reported once and everything up to the end of
 * the command is discarded, again draining any non-synchronizing literal announced at the end
 * of a discarded line.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { ByteQueue } from "./byte_queue.ts";
import { isTagChar, latin1 } from "./chars.ts";

/** One complete client command. See the module doc for the `line` / `literals` split. */
export interface FramedCommand {
  line: Uint8Array;
  literals: Uint8Array[];
  /**
   * Offset in `line` just past each literal announcement's `}`, set by the framer so the
   * parser can tell a real announcement from the same characters mid-line. Optional for
   * hand-built commands in tests.
   */
  literalEnds?: number[];
}

/** What the framer has found; read one at a time with {@linkcode ImapFramer.next}. */
export type FrameEvent =
  | { type: "command"; command: FramedCommand }
  | {
    type: "literal-request";
    tag: string;
    size: number;
    /** `{n+}`: the client is sending the bytes already; rejecting drains them. */
    nonSync: boolean;
    binary: boolean;
    /** The command's text so far, ending with the announcement (e.g. `a APPEND INBOX {42}`). */
    prefix: Uint8Array;
    /** Literal bytes the command already carries, before this one. */
    buffered: number;
  }
  | { type: "line-too-long"; tag: string | null };

const LF = 0x0a;
const CR = 0x0d;
/** Bytes kept from a discarded line to spot a literal announcement at its end. */
const TAIL = 32;
const EMPTY = new Uint8Array(0);

type Mode =
  | { kind: "line" }
  | { kind: "await"; size: number; nonSync: boolean }
  | { kind: "literal"; data: Uint8Array; filled: number }
  | { kind: "drain"; remaining: number }
  | { kind: "discard"; tail: Uint8Array };

/** The end of a line as a literal announcement, if it is one. */
export function literalAnnouncement(
  line: Uint8Array,
): { size: number; nonSync: boolean; binary: boolean; length: number } | null {
  let i = line.length - 1;
  if (i < 2 || line[i] !== 0x7d /* } */) return null;
  i--;
  const nonSync = line[i] === 0x2b; /* + */
  if (nonSync) i--;
  const digitsEnd = i + 1;
  while (i >= 0 && line[i] >= 0x30 && line[i] <= 0x39) i--;
  const digits = digitsEnd - (i + 1);
  if (digits === 0 || digits > 20 || i < 0 || line[i] !== 0x7b /* { */) return null;
  let size = 0;
  for (let k = i + 1; k < digitsEnd; k++) size = size * 10 + (line[k] - 0x30);
  const binary = i > 0 && line[i - 1] === 0x7e; /* ~ */
  return { size, nonSync, binary, length: line.length - (binary ? i - 1 : i) };
}

/** The tag at the start of a command's text, if it looks like one (RFC 9051 9 `tag` SP). */
export function sniffTag(text: Uint8Array): string | null {
  let end = 0;
  while (end < text.length && end < 64 && isTagChar(text[end])) end++;
  if (end === 0 || end >= text.length || text[end] !== 0x20) return null;
  return latin1(text.subarray(0, end));
}

/** The parts as one array; a lone part is returned as it is, not copied. */
function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts, total);
}

/**
 * Turns pushed bytes into {@linkcode FrameEvent}s. Sans-IO: the owner pushes what the socket
 * delivered and pulls events; nothing here writes.
 *
 * @example
 * ```ts
 * const framer = new ImapFramer({ maxLineLength: 8192, maxLiteralSize: 1 << 20 });
 * framer.push(new TextEncoder().encode("a1 NOOP\r\n"));
 * framer.next(); // { type: "command", command: { line: "a1 NOOP" bytes, literals: [] } }
 * ```
 */
export class ImapFramer {
  readonly #maxLine: number;
  readonly #maxLiteral: number;
  /** Unconsumed input. */
  readonly #input = new ByteQueue();
  #mode: Mode = { kind: "line" };
  /** The command being assembled. */
  #text: Uint8Array[] = [];
  #textLength = 0;
  #literals: Uint8Array[] = [];
  /** The sum of `#literals`' lengths. */
  #literalBytes = 0;
  #literalEnds: number[] = [];
  #tag: string | null = null;

  readonly #newLiteral: (length: number) => Uint8Array;

  /**
   * `maxLineLength`: the cap on a command's text. `maxLiteralSize`: how many literal bytes a
   * command may carry in non-synchronizing literals without asking the owner.
   * `newLiteral` makes each literal's array (the memory store's sessions: shared memory).
   */
  constructor(options: {
    maxLineLength: number;
    maxLiteralSize: number;
    newLiteral?: (length: number) => Uint8Array;
  }) {
    this.#maxLine = options.maxLineLength;
    this.#maxLiteral = options.maxLiteralSize;
    this.#newLiteral = options.newLiteral ?? ((length) => new Uint8Array(length));
  }

  /** Adds bytes from the client. The framer keeps a reference; do not reuse the buffer. */
  push(chunk: Uint8Array): void {
    const mode = this.#mode;
    if (mode.kind === "literal" && chunk.buffer === mode.data.buffer) {
      // Read straight into the literal (see literalSpace): the bytes are in place already.
      if (this.#input.length === 0 && chunk.byteOffset === mode.data.byteOffset + mode.filled) {
        mode.filled += chunk.length;
        return;
      }
      chunk = chunk.slice();
    }
    this.#input.push(chunk);
  }

  /**
   * Where the socket may read the next bytes to: the unfilled rest of the literal being
   * received, when nothing else is buffered and at least `minBytes` of it are left; else
   * null. Bytes read there and then pushed (as that view, or its first part) are taken
   * without a copy, so a large APPEND literal is received into its final buffer and the
   * transport's read chunk of it is never allocated (half the bytes a burst allocates).
   */
  literalSpace(minBytes: number): Uint8Array | null {
    const mode = this.#mode;
    if (mode.kind !== "literal" || this.#input.length > 0) return null;
    const left = mode.data.length - mode.filled;
    return left >= minBytes ? mode.data.subarray(mode.filled) : null;
  }

  /** Bytes pushed but not yet consumed. */
  get buffered(): number {
    return this.#input.length;
  }

  /** Whether the framer waits for `acceptLiteral()` / `rejectLiteral()`. */
  get awaitingLiteral(): boolean {
    return this.#mode.kind === "await";
  }

  /** The next event, or null when more input (or a literal decision) is needed. */
  next(): FrameEvent | null {
    for (;;) {
      const mode = this.#mode;
      switch (mode.kind) {
        case "await":
          return null;
        case "literal": {
          const want = mode.data.length - mode.filled;
          const got = this.#input.take(Math.min(want, this.#input.length), mode.data, mode.filled);
          mode.filled += got;
          if (mode.filled < mode.data.length) return null;
          this.#literals.push(mode.data);
          this.#literalBytes += mode.data.length;
          this.#mode = { kind: "line" };
          continue;
        }
        case "drain": {
          const skip = Math.min(mode.remaining, this.#input.length);
          this.#input.skip(skip);
          mode.remaining -= skip;
          if (mode.remaining > 0) return null;
          this.#mode = { kind: "discard", tail: EMPTY };
          continue;
        }
        case "discard": {
          const lf = this.#input.indexOfLf();
          if (lf < 0) {
            // Keep only the last few bytes: enough to see "{123+}" when the LF arrives.
            const keep = Math.min(this.#input.length, TAIL);
            const dropped = this.#input.length - keep;
            const tail = this.#joinTail(mode.tail, dropped, keep);
            this.#mode = { kind: "discard", tail };
            return null;
          }
          const lineLength = lf + 1;
          const keep = Math.min(lineLength, TAIL);
          const tail = stripEol(this.#joinTail(mode.tail, lineLength - keep, keep));
          const announced = literalAnnouncement(tail);
          if (announced && announced.nonSync) {
            this.#mode = { kind: "drain", remaining: announced.size };
          } else {
            this.#resetCommand();
          }
          continue;
        }
        case "line": {
          const lf = this.#input.indexOfLf();
          if (lf < 0) {
            if (this.#textLength + this.#input.length > this.#maxLine + 2) {
              return this.#lineTooLong();
            }
            return null;
          }
          if (this.#textLength + lf + 1 > this.#maxLine + 2) return this.#lineTooLong();
          const raw = new Uint8Array(lf + 1);
          this.#input.take(lf + 1, raw, 0);
          const line = stripEol(raw);
          if (this.#textLength + line.length > this.#maxLine) {
            // Its CRLF was consumed: the command ends here unless the line announced a literal.
            const tag = this.#tag ?? sniffTag(line);
            this.#mode = { kind: "discard", tail: EMPTY };
            this.#input.unshift(raw.subarray(Math.max(0, raw.length - TAIL)));
            return { type: "line-too-long", tag };
          }
          // The empty line that ends a command after its literal (APPEND's) adds no text:
          // the command's line is then its first as it is, not a copy of the two.
          if (line.length > 0) this.#text.push(line);
          this.#textLength += line.length;
          if (this.#tag === null && this.#text.length === 1) this.#tag = sniffTag(line);
          const announced = literalAnnouncement(line);
          if (!announced) {
            const command = {
              line: concat(this.#text, this.#textLength),
              literals: this.#literals,
              literalEnds: this.#literalEnds,
            };
            this.#resetCommand();
            return { type: "command", command };
          }
          this.#literalEnds.push(this.#textLength);
          const { size, nonSync, binary } = announced;
          if (!nonSync || this.#literalBytes + size > this.#maxLiteral) {
            this.#mode = { kind: "await", size, nonSync };
            return {
              type: "literal-request",
              tag: this.#tag ?? "*",
              size,
              nonSync,
              binary,
              prefix: concat(this.#text, this.#textLength),
              buffered: this.#literalBytes,
            };
          }
          this.#mode = { kind: "literal", data: this.#newLiteral(size), filled: 0 };
          continue;
        }
      }
    }
  }

  /**
   * After `literal-request`: the framer reads the literal's bytes (for a synchronizing one
   * the owner sent `+`).
   */
  acceptLiteral(): void {
    const mode = this.#mode;
    if (mode.kind !== "await") throw new Error("Cannot accept a literal: none is pending");
    this.#mode = { kind: "literal", data: this.#newLiteral(mode.size), filled: 0 };
  }

  /**
   * After `literal-request`: the owner refused it (and answered the command); the pending
   * command is dropped. A non-synchronizing literal's bytes are on their way: they are
   * drained, never kept, and the rest of the command is discarded.
   */
  rejectLiteral(): void {
    const mode = this.#mode;
    if (mode.kind !== "await") throw new Error("Cannot reject a literal: none is pending");
    this.#resetCommand();
    if (mode.nonSync) this.#mode = { kind: "drain", remaining: mode.size };
  }

  /**
   * The next line without literal processing (IDLE's `DONE`, AUTHENTICATE responses), CRLF
   * or LF stripped; null until a whole line is buffered. A line longer than `maxLineLength`
   * is cut to that length and the rest of it discarded. Only call between commands.
   */
  readRawLine(): Uint8Array | null {
    if (this.#mode.kind === "discard") {
      // The rest of an over-long raw line.
      const end = this.#input.indexOfLf();
      if (end < 0) {
        this.#input.skip(this.#input.length);
        return null;
      }
      this.#input.skip(end + 1);
      this.#resetCommand();
    }
    const lf = this.#input.indexOfLf();
    if (lf < 0) {
      if (this.#input.length > this.#maxLine + 2) {
        const line = new Uint8Array(this.#maxLine);
        this.#input.take(this.#maxLine, line, 0);
        this.#mode = { kind: "discard", tail: EMPTY };
        return line;
      }
      return null;
    }
    const raw = new Uint8Array(lf + 1);
    this.#input.take(lf + 1, raw, 0);
    const line = stripEol(raw);
    return line.length > this.#maxLine ? line.subarray(0, this.#maxLine) : line;
  }

  #lineTooLong(): FrameEvent {
    const first = this.#text.length > 0 ? this.#text[0] : this.#input.peek(64);
    const tag = this.#tag ?? sniffTag(first);
    this.#text = [];
    this.#textLength = 0;
    this.#literals = [];
    this.#literalBytes = 0;
    this.#mode = { kind: "discard", tail: EMPTY };
    return { type: "line-too-long", tag };
  }

  #resetCommand() {
    this.#text = [];
    this.#textLength = 0;
    this.#literals = [];
    this.#literalBytes = 0;
    this.#literalEnds = [];
    this.#tag = null;
    this.#mode = { kind: "line" };
  }

  /** Consumes `drop + keep` bytes and returns the last TAIL bytes of `tail` + the kept ones. */
  #joinTail(tail: Uint8Array, drop: number, keep: number): Uint8Array {
    this.#input.skip(drop);
    const kept = new Uint8Array(keep);
    this.#input.take(keep, kept, 0);
    const joined = new Uint8Array(tail.length + keep);
    joined.set(tail, 0);
    joined.set(kept, tail.length);
    return joined.subarray(Math.max(0, joined.length - TAIL - 2));
  }
}

/** The line without its LF and the CR before it. */
function stripEol(line: Uint8Array): Uint8Array {
  let end = line.length;
  if (end > 0 && line[end - 1] === LF) end--;
  if (end > 0 && line[end - 1] === CR) end--;
  return line.subarray(0, end);
}
