/**
 * The IMAP command parser: a synchronous recursive-descent reader over one
 * {@linkcode FramedCommand}, with one method per RFC 9051 section 9 rule it reads.
 *
 * ```abnf
 * tag          = 1*<any ASTRING-CHAR except "+">
 * atom         = 1*ATOM-CHAR
 * ATOM-CHAR    = <any CHAR except atom-specials>
 * atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
 * astring      = 1*ASTRING-CHAR / string
 * ASTRING-CHAR = ATOM-CHAR / resp-specials
 * string       = quoted / literal
 * quoted       = DQUOTE *QUOTED-CHAR DQUOTE
 * QUOTED-CHAR  = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
 * literal      = "{" number64 ["+"] "}" CRLF *CHAR8       ; "+" is LITERAL+ (RFC 7888)
 * literal8     = "~{" number64 ["+"] "}" CRLF *OCTET      ; APPEND data only (RFC 3516)
 * nstring      = string / nil
 * number       = 1*DIGIT                                  ; unsigned 32-bit
 * nz-number    = digit-nz *DIGIT
 * flag-list    = "(" [flag *(SP flag)] ")"
 * flag         = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
 *                flag-keyword / flag-extension
 * mailbox      = "INBOX" / astring
 * list-mailbox = 1*list-char / string
 * list-char    = ATOM-CHAR / list-wildcards / resp-specials    ; list-wildcards = "%" / "*"
 * ```
 *
 * Every failure is a {@linkcode ParseError} carrying the tag once it has been read.
 *
 * @module
 */

import { RECENT_FLAG, SYSTEM_FLAGS } from "../store/flags.ts";
import { isAstringChar, isAtomChar, isTagChar, latin1, scanQuoted } from "./chars.ts";
import { type ImapDate, parseDateText, parseDateTime } from "./datetime.ts";
import type { FramedCommand } from "./framer.ts";
import { InvalidUtf8Error, ParseError } from "./parse_error.ts";
import type { SequenceSet } from "./sequence.ts";
import { decodeModifiedUtf7 } from "./utf7.ts";

export { isAstringChar, isAtomChar, ParseError };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_NUMBER = 4294967295;

/** System flags (and `\Recent`) by lower-case name, for their canonical spelling. */
const FLAG_SPELLING = new Map(
  [...SYSTEM_FLAGS, RECENT_FLAG].map((flag) => [flag.toLowerCase(), flag]),
);

/** A `mailbox` argument (see {@linkcode Reader.readMailboxName}). */
export interface MailboxName {
  /** The name, decoded; when `invalid`, the text as sent ("" if not even UTF-8). */
  readonly name: string;
  /** Why the name is not valid modified UTF-7, or null when it is a name. */
  readonly invalid: string | null;
}

/** A cursor over one framed command. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #literals: Uint8Array[];
  #pos = 0;
  #literalIndex = 0;
  #literalStart = 0;
  readonly #literalEnds: readonly number[] | undefined;
  /** The tag once {@linkcode Reader.readTag} has read it. */
  tag: string | null = null;

  constructor(command: FramedCommand) {
    this.#bytes = command.line;
    this.#literals = command.literals;
    this.#literalEnds = command.literalEnds;
  }

  /** The byte offset of the cursor in the command text. */
  get position(): number {
    return this.#pos;
  }

  /** The command text between two offsets (for item keys such as FETCH's `raw`). */
  slice(from: number, to: number): string {
    return this.#decodeLoose(this.#bytes.subarray(from, to));
  }

  /** Steps the cursor back `count` bytes (for one-byte lookahead in callers). */
  unread(count: number): void {
    this.#pos = Math.max(0, this.#pos - count);
  }

  /** The next word (up to a space, parenthesis or bracket), quoted for error messages. */
  peekWord(): string {
    let end = this.#pos;
    while (
      end < this.#bytes.length && end - this.#pos < 40 &&
      !" ()[]".includes(String.fromCharCode(this.#bytes[end]))
    ) end++;
    return end === this.#pos ? this.#describe() : JSON.stringify(this.#text(this.#pos, end));
  }

  /** A {@linkcode ParseError} with this command's tag. */
  error(message: string): ParseError {
    return new ParseError(message, this.tag);
  }

  #byte(): number {
    return this.#pos < this.#bytes.length ? this.#bytes[this.#pos] : -1;
  }

  #text(from: number, to: number): string {
    return latin1(this.#bytes.subarray(from, to));
  }

  #describe(): string {
    if (this.atEnd()) return "end of command";
    const next = this.#text(this.#pos, Math.min(this.#pos + 16, this.#bytes.length));
    return JSON.stringify(next);
  }

  /** The next character ("" at the end); non-ASCII bytes come back as one Latin-1 char. */
  peek(): string {
    const b = this.#byte();
    return b < 0 ? "" : String.fromCharCode(b);
  }

  atEnd(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /** Throws unless the whole command has been read. */
  end(): void {
    if (!this.atEnd()) throw this.error(`Unexpected ${this.#describe()} after the arguments`);
    if (this.#literalIndex !== this.#literals.length) throw this.error("Unexpected literal");
  }

  expect(char: string): void {
    if (this.peek() !== char) {
      throw this.error(`Expected ${JSON.stringify(char)} but found ${this.#describe()}`);
    }
    this.#pos++;
  }

  sp(): void {
    if (this.#byte() !== 0x20) throw this.error(`Expected a space but found ${this.#describe()}`);
    this.#pos++;
  }

  maybeSp(): boolean {
    if (this.#byte() !== 0x20) return false;
    this.#pos++;
    return true;
  }

  /**
   * Consumes `word` (case-insensitive) when it is next and not followed by more atom
   * characters (`[` and `<` may follow, for `BODY[` and `BODY[]<0.1>`).
   */
  tryKeyword(word: string): boolean {
    const end = this.#pos + word.length;
    if (end > this.#bytes.length) return false;
    if (this.#text(this.#pos, end).toUpperCase() !== word.toUpperCase()) return false;
    const after = end < this.#bytes.length ? this.#bytes[end] : -1;
    if (after >= 0 && isAtomChar(after) && after !== 0x5b && after !== 0x3c) return false;
    this.#pos = end;
    return true;
  }

  /** `tag`; remembered for error responses. */
  readTag(): string {
    const start = this.#pos;
    while (isTagChar(this.#byte())) this.#pos++;
    if (this.#pos === start) throw this.error("Missing or invalid tag");
    this.tag = this.#text(start, this.#pos);
    return this.tag;
  }

  /** `atom`, as sent. */
  readAtom(): string {
    const start = this.#pos;
    while (isAtomChar(this.#byte())) this.#pos++;
    if (this.#pos === start) throw this.error(`Expected an atom but found ${this.#describe()}`);
    return this.#text(start, this.#pos);
  }

  /** `astring`, decoded as UTF-8. */
  readAstring(): string {
    const b = this.#byte();
    if (b === 0x22 || b === 0x7b) return this.#decode(this.readString());
    const start = this.#pos;
    while (isAstringChar(this.#byte())) this.#pos++;
    if (this.#pos === start) throw this.error(`Expected a string but found ${this.#describe()}`);
    return this.#text(start, this.#pos);
  }

  /** `nstring`: null for NIL, else the string decoded as UTF-8 ("" stays ""). */
  readNstring(): string | null {
    if (this.tryKeyword("NIL")) return null;
    return this.#decode(this.readString());
  }

  /** `string`: a quoted string as text, a literal as its bytes. */
  readString(): Uint8Array | string {
    const b = this.#byte();
    if (b === 0x22) return this.#readQuoted();
    if (b === 0x7b) {
      const bytes = this.#readLiteral(false);
      if (bytes.includes(0)) throw this.error("NUL is not allowed in a literal; use literal8");
      return bytes;
    }
    throw this.error(`Expected a string but found ${this.#describe()}`);
  }

  /** APPEND message data: `literal` or `literal8` (`~{n}`), as bytes. */
  readLiteralBytes(): Uint8Array {
    const b = this.#byte();
    if (b === 0x7e) {
      this.#pos++;
      if (this.#byte() !== 0x7b) throw this.error("Expected a literal after ~");
      return this.#readLiteral(true);
    }
    if (b !== 0x7b) throw this.error(`Expected a literal but found ${this.#describe()}`);
    const bytes = this.#readLiteral(false);
    if (bytes.includes(0)) throw this.error("NUL is not allowed in a literal; use literal8");
    return bytes;
  }

  /** `number` (max defaults to 2^32-1). */
  readNumber(max: number = MAX_NUMBER): number {
    const start = this.#pos;
    let value = 0;
    while (this.#byte() >= 0x30 && this.#byte() <= 0x39) {
      value = value * 10 + (this.#byte() - 0x30);
      this.#pos++;
      if (value > max) throw this.error(`Number too large (limit ${max})`);
    }
    if (this.#pos === start) throw this.error(`Expected a number but found ${this.#describe()}`);
    return value;
  }

  /** `nz-number`. */
  readNzNumber(): number {
    if (this.#byte() === 0x30) throw this.error("Expected a non-zero number");
    return this.readNumber();
  }

  /** `sequence-set`, or `$` (RFC 9051 6.4.4.1 seq-last-command). */
  readSequenceSet(): SequenceSet {
    if (this.#byte() === 0x24 /* $ */) {
      this.#pos++;
      return "$";
    }
    const ranges: Array<{ start: number | "*"; end: number | "*" }> = [];
    do {
      const start = this.#readSeqNumber();
      let end = start;
      if (this.#byte() === 0x3a /* : */) {
        this.#pos++;
        end = this.#readSeqNumber();
      }
      ranges.push({ start, end });
    } while (this.#byte() === 0x2c /* , */ && ++this.#pos);
    return ranges;
  }

  #readSeqNumber(): number | "*" {
    if (this.#byte() === 0x2a /* * */) {
      this.#pos++;
      return "*";
    }
    const b = this.#byte();
    if (b < 0x31 || b > 0x39) {
      throw this.error(
        `Invalid sequence set: expected a number or * but found ${this.#describe()}`,
      );
    }
    return this.readNumber();
  }

  /** `flag-list`. */
  readFlagList(): string[] {
    this.expect("(");
    const flags: string[] = [];
    if (this.#byte() !== 0x29) {
      do flags.push(this.readFlag()); while (this.maybeSp());
    }
    this.expect(")");
    return flags;
  }

  /** `flag`: a keyword atom or `\` atom; system flags come back in their canonical case. */
  readFlag(): string {
    if (this.#byte() === 0x5c /* \ */) {
      this.#pos++;
      const name = "\\" + this.readAtom();
      return FLAG_SPELLING.get(name.toLowerCase()) ?? name;
    }
    return this.readAtom();
  }

  /** `date-time` (quoted), as milliseconds since the epoch. */
  readDateTime(): number {
    if (this.#byte() !== 0x22) {
      throw this.error(`Expected a quoted date-time but found ${this.#describe()}`);
    }
    return parseDateTime(this.#readQuoted(), this.tag);
  }

  /** `date`: `date-text`, optionally quoted. */
  readDate(): ImapDate {
    if (this.#byte() === 0x22) return parseDateText(this.#readQuoted(), this.tag);
    const start = this.#pos;
    while (isAtomChar(this.#byte())) this.#pos++;
    return parseDateText(this.#text(start, this.#pos), this.tag);
  }

  /**
   * `mailbox`: `INBOX` in any case becomes `INBOX`; without UTF8=ACCEPT / IMAP4rev2 the name
   * is modified UTF-7 and is decoded (RFC 9051 5.1, 6.3). A name that is not valid modified
   * UTF-7 is bad syntax here; commands that answer it with `NO` use
   * {@linkcode Reader.readMailboxName}.
   */
  readMailbox(utf8: boolean): string {
    const { name, invalid } = this.readMailboxName(utf8);
    if (invalid !== null) throw this.error(invalid);
    return name;
  }

  /**
   * `mailbox`, as {@linkcode Reader.readMailbox} reads it, except that a rev1 client's name
   * that is not valid modified UTF-7 (RFC 3501 5.1.3; an `&` that starts no shift, raw 8-bit
   * text such as mbsync's `"Caf\u00e9"`) is not an error: the command is syntactically fine and
   * the name just cannot exist, so the command answers `NO` (as Dovecot does).
   */
  readMailboxName(utf8: boolean): MailboxName {
    let text: string;
    try {
      text = this.readAstring();
    } catch (error) {
      // Raw 8-bit text that is not even UTF-8: the string was read whole before decoding.
      if (utf8 || !(error instanceof InvalidUtf8Error)) throw error;
      return { name: "", invalid: "Mailbox name is not valid modified UTF-7: 8-bit text" };
    }
    if (text.toUpperCase() === "INBOX") return { name: "INBOX", invalid: null };
    if (utf8) return { name: text, invalid: null };
    try {
      return { name: decodeModifiedUtf7(text), invalid: null };
    } catch (error) {
      if (error instanceof ParseError) return { name: text, invalid: error.message };
      throw error;
    }
  }

  /**
   * `list-mailbox` (LIST/LSUB patterns): `1*list-char` (atom characters plus `%`, `*` and
   * `]`) or a string; modified UTF-7 is decoded for rev1 clients as in `readMailbox`, and a
   * pattern that is not valid modified UTF-7 comes back null (it matches no mailbox). `INBOX`
   * is not normalised here: pattern matching treats it case-insensitively.
   */
  readListMailbox(utf8: boolean): string | null {
    const b = this.#byte();
    let text: string;
    if (b === 0x22 || b === 0x7b) {
      try {
        text = this.#decode(this.readString());
      } catch (error) {
        if (utf8 || !(error instanceof InvalidUtf8Error)) throw error;
        return null;
      }
    } else {
      const start = this.#pos;
      while (isAstringChar(this.#byte()) || this.#byte() === 0x25 || this.#byte() === 0x2a) {
        this.#pos++;
      }
      if (this.#pos === start) {
        throw this.error(`Expected a mailbox pattern but found ${this.#describe()}`);
      }
      text = this.#text(start, this.#pos);
    }
    if (utf8) return text;
    try {
      return decodeModifiedUtf7(text);
    } catch (error) {
      if (error instanceof ParseError) return null;
      throw error;
    }
  }

  #readQuoted(): string {
    this.expect('"');
    const scanned = scanQuoted(this.#bytes, this.#pos);
    if (typeof scanned === "string") throw this.error(scanned);
    this.#pos = scanned.end;
    return scanned.highBit ? this.#decode(scanned.value) : latin1(scanned.value);
  }

  #readLiteral(binary: boolean): Uint8Array {
    this.#literalStart = this.#pos;
    this.expect("{");
    const size = this.readNumber(Number.MAX_SAFE_INTEGER);
    if (this.#byte() === 0x2b) this.#pos++;
    this.expect("}");
    const bytes = this.#literals[this.#literalIndex];
    if (bytes === undefined || bytes.length !== size) {
      throw this.error("Literal does not match its announcement");
    }
    // The framer only cuts a literal where a line ends with its announcement; a "{3}" in the
    // middle of a line is not one.
    const ends = this.#literalEnds;
    if (ends && ends[this.#literalIndex] !== this.#pos) {
      throw this.error("Invalid literal announcement");
    }
    if (binary !== (this.#bytes[this.#literalStart - 1] === 0x7e)) {
      throw this.error("Invalid literal");
    }
    this.#literalIndex++;
    return bytes;
  }

  #decodeLoose(bytes: Uint8Array): string {
    return new TextDecoder().decode(bytes);
  }

  #decode(value: Uint8Array | string): string {
    if (typeof value === "string") return value;
    try {
      return utf8.decode(value);
    } catch {
      throw new InvalidUtf8Error(this.tag);
    }
  }
}

/** The command verb, upper-cased. `UID FETCH` comes back as `UID`; read the next atom. */
export function readCommandName(reader: Reader): string {
  return reader.readAtom().toUpperCase();
}
