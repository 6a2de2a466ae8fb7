/**
 * The types of the MIME part tree (see `mime.ts`, which builds it). Apart so that the modules
 * `mime.ts` is built from (parameters, transfer decoding, content extraction) can name them
 * without importing the parser that imports them.
 *
 * @module
 */

import type { HeaderField } from "./headers.ts";

/** A parameter list: lower-cased names, decoded values (RFC 2231 continuations joined). */
export type MimeParams = Record<string, string>;

/** One parameter of a `value; name=value; ...` list as written. */
export interface WrittenParameter {
  /** As given (case kept, RFC 2231 section marks kept). */
  readonly name: string;
  /** Quotes and escapes removed, nothing decoded. */
  readonly value: string;
  /** Whether the value was a quoted string. */
  readonly quoted: boolean;
}

/** A `value; name=value; ...` list as written (comments dropped), and what it was read from. */
export interface WrittenParameters {
  /** The field value read. */
  readonly source: string;
  /** The leading token, white space removed, case kept. */
  readonly type: string;
  readonly params: readonly WrittenParameter[];
}

/** A parsed `Content-Type`. */
export interface ContentType {
  /** Lower-cased, e.g. `text`. */
  readonly type: string;
  /** Lower-cased, e.g. `plain`. */
  readonly subtype: string;
  readonly params: MimeParams;
  /**
   * The field's parameter list as written, when parsed from a field: BODYSTRUCTURE reports
   * it so, and reads it here rather than tokenizing the field again.
   */
  readonly written?: WrittenParameters;
}

/** A parsed `Content-Disposition`. */
export interface ContentDisposition {
  /** Lower-cased, e.g. `attachment` or `inline`. */
  readonly type: string;
  readonly params: MimeParams;
}

/** One node of the part tree. Offsets index the raw message bytes. */
export interface MimePart {
  /** IMAP part number: `""` for a whole message (the root or an encapsulated one). */
  readonly partNumber: string;
  readonly headerStart: number;
  /** Offset of the empty line ending the header (== `bodyStart` without one). */
  readonly headerEnd: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly fields: readonly HeaderField[];
  readonly contentType: ContentType;
  readonly disposition: ContentDisposition | null;
  /** Lower-cased `Content-Transfer-Encoding`, `7bit` when absent. */
  readonly encoding: string;
  /** `Content-ID` without the angle brackets, or null. */
  readonly contentId: string | null;
  /** Children of a multipart, in order; empty otherwise. */
  readonly children: readonly MimePart[];
  /** The encapsulated message of a `message/rfc822` or `message/global` part, or null. */
  readonly message: MimePart | null;
}
