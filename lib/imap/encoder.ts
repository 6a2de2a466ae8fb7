/**
 * The IMAP encoder: the only code that writes IMAP syntax (STYLE.md 4). It picks atom, quoted
 * string or literal for a value, keeps `NIL` the atom apart from `"NIL"` the string and `""`,
 * and builds status responses (RFC 9051 7.1, 9).
 *
 * @module
 */

import { RECENT_FLAG } from "../store/flags.ts";
import { formatDateTime } from "./datetime.ts";
import { isAstringChar, isAtomChar } from "./chars.ts";
import { encodeModifiedUtf7 } from "./utf7.ts";

const encoder = new TextEncoder();
/** Longest value sent as a quoted string; longer ones go as literals. */
const MAX_QUOTED = 1024;

function allBytes(s: string, test: (b: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!test(s.charCodeAt(i))) return false;
  return true;
}

function isQuotable(s: string, utf8: boolean): boolean {
  if (s.length > MAX_QUOTED) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0d || c === 0x0a) return false;
    if (c >= 0x80 && !utf8) return false;
    if (c === 0x7f || (c < 0x20 && c !== 0x09)) return false;
  }
  return true;
}

/**
 * An atom, checked against RFC 9051 `atom`.
 *
 * @example
 * ```ts
 * atom("FLAGS"); // "FLAGS"
 * ```
 */
export function atom(s: string): string {
  if (s.length === 0 || !allBytes(s, isAtomChar)) {
    throw new Error(`Cannot encode atom: ${JSON.stringify(s)}`);
  }
  return s;
}

/**
 * A quoted string; `\` and `"` are escaped. Throws for CR, LF or NUL, which only a literal
 * can carry.
 *
 * @example
 * ```ts
 * quoted('say "hi"'); // "\"say \\\"hi\\\"\""
 * ```
 */
export function quoted(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0d || c === 0x0a) {
      throw new Error(`Cannot encode quoted string: it contains ${c === 0 ? "NUL" : "CR or LF"}`);
    }
  }
  return `"${s.replace(/[\\"]/g, (ch) => "\\" + ch)}"`;
}

/**
 * A literal: `{n}` CRLF and the bytes, or `~{n}` for BINARY data that may hold NUL (RFC 3516).
 *
 * @example
 * ```ts
 * literal(new TextEncoder().encode("hi")); // bytes of "{2}\r\nhi"
 * ```
 */
export function literal(bytes: Uint8Array, binary = false): Uint8Array {
  const head = encoder.encode(`${binary ? "~" : ""}{${bytes.length}}\r\n`);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}

/**
 * An `astring`: the atom when it is one (except `NIL`, quoted to avoid any doubt), else a
 * quoted string when it can be one (8-bit text only for UTF-8 clients), else a literal.
 *
 * @example
 * ```ts
 * astring("INBOX", false); // "INBOX"
 * astring("two words", false); // "\"two words\""
 * ```
 */
export function astring(s: string, utf8: boolean): string | Uint8Array {
  if (s.length > 0 && s.toUpperCase() !== "NIL" && allBytes(s, isAstringChar)) return s;
  if (isQuotable(s, utf8)) return quoted(s);
  return literal(encoder.encode(s));
}

/**
 * An `nstring`: null is `NIL`; a string is quoted when it can be (no CR/LF/NUL or other
 * controls but TAB; 8-bit text only when `utf8`, i.e. for UTF8=ACCEPT / IMAP4rev2 clients),
 * else a literal; bytes are always a literal. `""` stays `""`.
 *
 * @example
 * ```ts
 * nstring(null); // "NIL"
 * nstring(""); // "\"\""
 * nstring("NIL"); // "\"NIL\""
 * ```
 */
export function nstring(value: string | Uint8Array | null, utf8 = false): string | Uint8Array {
  if (value === null) return "NIL";
  if (typeof value !== "string") return literal(value);
  if (isQuotable(value, utf8)) return quoted(value);
  return literal(encoder.encode(value));
}

/**
 * A parenthesised flag list; `recent` adds `\Recent` (IMAP4rev1 sessions: it is per session,
 * never stored).
 *
 * @example
 * ```ts
 * flagList(["\\Seen", "foo"]); // "(\\Seen foo)"
 * flagList(["\\Seen"], true); // "(\\Seen \\Recent)"
 * ```
 */
export function flagList(flags: readonly string[], recent = false): string {
  const encode = () => encodeFlagList(recent ? [...flags, RECENT_FLAG] : flags);
  // Stored flag lists are interned and frozen (store/flags.ts): encode each distinct one once.
  if (!Object.isFrozen(flags)) return encode();
  const cache = recent ? encodedWithRecent : encodedFlagLists;
  let encoded = cache.get(flags);
  if (encoded === undefined) {
    encoded = encode();
    cache.set(flags, encoded);
  }
  return encoded;
}

const encodedFlagLists = new WeakMap<readonly string[], string>();
const encodedWithRecent = new WeakMap<readonly string[], string>();

function encodeFlagList(flags: readonly string[]): string {
  for (const flag of flags) {
    const name = flag.startsWith("\\") ? flag.slice(1) : flag;
    if (name !== "*" && (name.length === 0 || !allBytes(name, isAtomChar))) {
      throw new Error(`Cannot encode flag: ${JSON.stringify(flag)}`);
    }
  }
  return `(${flags.join(" ")})`;
}

/**
 * An INTERNALDATE `date-time`, quotes included, in UTC.
 *
 * @example
 * ```ts
 * formatInternalDate(Date.UTC(2026, 10, 25, 7, 22, 1)); // "\"25-Nov-2026 07:22:01 +0000\""
 * ```
 */
export function formatInternalDate(ms: number): string {
  return formatDateTime(ms);
}

/**
 * A mailbox name: as UTF-8 for UTF8=ACCEPT / IMAP4rev2 clients, modified UTF-7 otherwise
 * (RFC 9051 5.1), then as an astring.
 *
 * @example
 * ```ts
 * mailboxName("Entw\u00fcrfe", false); // "Entw&APw-rfe"
 * ```
 */
export function mailboxName(name: string, utf8: boolean): string | Uint8Array {
  return astring(utf8 ? name : encodeModifiedUtf7(name), utf8);
}

/** Byte parts up to this size are copied into the builder's buffer; larger ones are kept as is. */
const COPY_LIMIT = 8 * 1024;
/**
 * Literal data up to this size is copied into the builder's buffer; larger data (message
 * bytes, never changed once stored) is kept as is: the transport copies small writes together
 * anyway (lib/net/output_queue.ts), so a second copy here would only cost.
 */
const LITERAL_COPY_LIMIT = 1024;

/**
 * Accumulates a response from text and byte parts. Text and small byte parts are written
 * into one growing buffer as they come (ASCII without TextEncoder, so a `FETCH 1:*` of many
 * short items costs no encoder call per item); large byte parts, message bodies, stay the
 * caller's arrays and are never copied.
 *
 * @example
 * ```ts
 * const out = new ResponseBuilder().push("* 1 FETCH (BODY[] ", literal(bytes), ")").line();
 * out.toBytes();
 * ```
 */
export class ResponseBuilder {
  /** Finished chunks: views into earlier buffers and large caller arrays, in order. */
  #parts: Uint8Array[] = [];
  #length = 0;
  /** The buffer being written; bytes from #start to #end are not in #parts yet. */
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Appends parts as they are. */
  push(...parts: Array<string | Uint8Array>): this {
    for (const part of parts) {
      if (typeof part === "string") this.#writeText(part);
      else if (part.length > COPY_LIMIT) this.#keep(part);
      else if (part.length > 0) {
        this.#reserve(part.length);
        this.#buf.set(part, this.#end);
        this.#end += part.length;
      }
    }
    return this;
  }

  /** Appends parts and CRLF. */
  line(...parts: Array<string | Uint8Array>): this {
    return this.push(...parts, "\r\n");
  }

  /**
   * Appends a literal (`{n}` CRLF, or `~{n}` for BINARY data); `bytes` over 1 KiB (a message
   * body) stays the caller's buffer until the bytes are written, so it must not change.
   *
   * @example
   * ```ts
   * new ResponseBuilder().push("* 1 FETCH (BODY[] ").literal(body).line(")");
   * ```
   */
  literal(bytes: Uint8Array, binary = false): this {
    this.push(`${binary ? "~" : ""}{${bytes.length}}\r\n`);
    if (bytes.length <= LITERAL_COPY_LIMIT) return this.push(bytes);
    return this.#keep(bytes);
  }

  /**
   * Everything so far as a list of byte arrays, emptying the builder. Large byte parts are
   * the caller's arrays, not copies (write them in order, e.g. one `write` per chunk). Prefer
   * this to {@linkcode ResponseBuilder.toBytes} for FETCH responses that carry large literals.
   */
  takeChunks(): Uint8Array[] {
    this.#seal();
    const parts = this.#parts;
    this.#parts = [];
    this.#length = 0;
    // The chunks may be views of the buffer: later writes go to a new one.
    this.#buf = new Uint8Array(0);
    this.#start = this.#end = 0;
    return parts;
  }

  /** Everything so far as one byte array. */
  toBytes(): Uint8Array {
    this.#seal();
    if (this.#parts.length === 1) return this.#parts[0];
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    this.#parts = out.length > 0 ? [out] : [];
    return out;
  }

  /** Bytes accumulated so far. */
  get length(): number {
    return this.#length + this.#end - this.#start;
  }

  #writeText(text: string): void {
    this.#reserve(text.length);
    const buf = this.#buf;
    let at = this.#end;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        // 8-bit text (UTF-8 mailbox names and strings): the rest through the encoder.
        this.#end = at;
        const rest = text.slice(i);
        this.#reserve(rest.length * 3);
        this.#end += encoder.encodeInto(rest, this.#buf.subarray(this.#end)).written;
        return;
      }
      buf[at++] = code;
    }
    this.#end = at;
  }

  /** Room for `n` more bytes; pending bytes move to a larger buffer (sealed views keep theirs). */
  #reserve(n: number): void {
    if (this.#end + n <= this.#buf.length) return;
    const pending = this.#end - this.#start;
    const next = new Uint8Array(Math.max(1024, (pending + n) * 2));
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = next;
    this.#start = 0;
    this.#end = pending;
  }

  /** Appends `part` as it is (not copied), after the pending bytes. */
  #keep(part: Uint8Array): this {
    this.#seal();
    this.#parts.push(part);
    this.#length += part.length;
    return this;
  }

  /** Moves the pending bytes to #parts (as a view) so a large part can follow them. */
  #seal(): void {
    if (this.#end === this.#start) return;
    this.#parts.push(this.#buf.subarray(this.#start, this.#end));
    this.#length += this.#end - this.#start;
    this.#start = this.#end;
  }
}

/**
 * A command continuation request (RFC 9051 7.6), CRLF included: the `+` that lets a client
 * send a synchronizing literal, or an AUTHENTICATE challenge (base64, may be empty).
 *
 * @example
 * ```ts
 * continuation("Ready for literal data"); // "+ Ready for literal data\r\n"
 * continuation(""); // "+ \r\n"
 * ```
 */
export function continuation(text: string): string {
  return `+ ${oneLine(text)}\r\n`;
}

/**
 * A response code's text from an atom and arguments, for {@linkcode tagged} and `OK [..]`
 * lines. Numbers must be non-negative integers; strings are taken as already encoded
 * (`formatSequenceSet`, `flagList`, `quoted`), and must not hold CR, LF, NUL or an unquoted
 * `]`.
 *
 * @example
 * ```ts
 * responseCode("APPENDUID", 1, 5); // "APPENDUID 1 5"
 * tagged("a1", "OK", responseCode("APPENDUID", 1, 5), "APPEND completed");
 * ```
 */
export function responseCode(name: string, ...args: Array<string | number>): string {
  const parts = [atom(name)];
  for (const arg of args) {
    if (typeof arg === "number") {
      if (!Number.isSafeInteger(arg) || arg < 0) {
        throw new Error(`Cannot encode response code ${name}: bad number ${arg}`);
      }
      parts.push(String(arg));
    } else if (arg.length === 0 || /[\r\n\0]/.test(arg) || (arg.includes("]") && arg[0] !== '"')) {
      // "]" would end the code early; only a quoted string may carry one.
      throw new Error(`Cannot encode response code ${name}: bad argument ${JSON.stringify(arg)}`);
    } else parts.push(arg);
  }
  return parts.join(" ");
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\0]+/g, " ");
}

/**
 * A tagged status response, CRLF included; CR/LF in the text become spaces.
 *
 * @example
 * ```ts
 * tagged("a1", "NO", "TRYCREATE", "No such mailbox"); // "a1 NO [TRYCREATE] No such mailbox\r\n"
 * ```
 */
export function tagged(
  tag: string,
  status: "OK" | "NO" | "BAD",
  code: string | null,
  text: string,
): string {
  return `${tag} ${status} ${code ? `[${oneLine(code)}] ` : ""}${oneLine(text)}\r\n`;
}

/**
 * An untagged response, CRLF included.
 *
 * @example
 * ```ts
 * untagged("3 EXISTS"); // "* 3 EXISTS\r\n"
 * ```
 */
export function untagged(text: string): string {
  return `* ${oneLine(text)}\r\n`;
}
