/**
 * The one error type the IMAP framer-to-parser path throws for bad client input. Kept in its
 * own file so `utf7.ts`, `datetime.ts` and `sequence.ts` can throw it without importing the
 * parser.
 *
 * @module
 */

/** Bad syntax in a client command; the session answers `BAD` with the message. */
export class ParseError extends Error {
  /** The command's tag when it was readable, for the tagged `BAD` response. */
  tag: string | null;
  constructor(message: string, tag: string | null = null) {
    super(message);
    this.name = "ParseError";
    this.tag = tag;
  }
}

/**
 * A string that is not valid UTF-8 where UTF-8 is required. Still bad syntax, but SEARCH
 * answers it as a charset problem (see commands/search.ts).
 */
export class InvalidUtf8Error extends ParseError {
  constructor(tag: string | null = null) {
    super("String is not valid UTF-8", tag);
    this.name = "InvalidUtf8Error";
  }
}
