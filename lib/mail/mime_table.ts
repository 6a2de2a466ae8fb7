/**
 * The compact form of a MIME part tree: what `parseMime` (mime.ts) finds is kept as typed
 * arrays of offsets (one row per part) plus a copy of the header bytes, not as an object
 * per part. A message of 10,000 tiny parts took about 6.6 MB as objects (headers parsed into
 * field, content-type and parameter objects, part-number strings, child arrays); as a table
 * it takes the header bytes plus 32 bytes per part.
 *
 * Consumers still see {@linkcode MimePart}s: a {@linkcode PartView} reads its offsets from
 * the table and parses its header fields from the copied bytes on first use. Views are made
 * on demand and kept by nobody but the walk that made them, so a finished FETCH or SEARCH
 * leaves only the table behind (what they derive is kept in the index memo).
 *
 * @module
 */

import { type HeaderField, headerValue, parseHeaderFields } from "./headers.ts";
import {
  lowerCase,
  parseContentType,
  parseParameterized,
  stripComments,
  TEXT_PLAIN,
} from "./params.ts";
import type { ContentDisposition, ContentType, MimePart } from "./mime_part.ts";

/** Content-Type of a `multipart/digest` child without a Content-Type field. */
export const MESSAGE_RFC822: ContentType = { type: "message", subtype: "rfc822", params: {} };

/** How a part's content type is known: its own field, or a default. */
export enum TypeSource {
  /** Parsed from the part's `Content-Type` field. */
  Field = 0,
  /** `text/plain`: no field, or a multipart that cannot be split (no boundary, too deep). */
  TextPlain = 1,
  /** `message/rfc822`: a `multipart/digest` child without a field. */
  MessageRfc822 = 2,
}

/** One part as the parser reports it to {@linkcode MimeTableBuilder.set}. */
export interface PartRow {
  readonly headerStart: number;
  readonly headerEnd: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly typeSource: TypeSource;
  /** First row of the children (they are consecutive) and how many; 0 for none. */
  readonly childFirst: number;
  readonly childCount: number;
  /** Row of the encapsulated message, or -1. */
  readonly message: number;
}

/** Columns of a table row. */
const HEADER_START = 0;
const HEADER_END = 1;
const BODY_START = 2;
const BODY_END = 3;
const CHILD_FIRST = 4;
const CHILD_COUNT = 5;
const MESSAGE = 6;
/** Where the row's header bytes start in the header copy, times 4, plus its TypeSource. */
const HEADER_AT_TYPE = 7;
const COLUMNS = 8;
/** Bytes a row takes in the packed buffer. */
const ROW_BYTES = COLUMNS * 4;
const NO_BYTES = new Uint8Array(0);
const NO_FIELDS: readonly HeaderField[] = [];

/** The part table of one message. Row 0 is the root. */
export class MimeTable {
  /** {@linkcode COLUMNS} numbers a row, in one array. */
  readonly #rows: Int32Array;
  /**
   * The header bytes of every row but the root, then those of the root (from `#rootAt` on):
   * ENVELOPE, SEARCH and HEADER.FIELDS read the root's fields. In the same buffer as the rows,
   * so a message's table is one allocation, which V8 tracks as one.
   */
  readonly #bytes: Uint8Array;
  readonly #rootAt: number;
  /**
   * The root's fields as the parser found them, handed to the first view of the root (the
   * one indexing at delivery reads) and then dropped: kept, they were a dozen objects a
   * message for V8 to mark after every burst, while a later reader parses the copy anew in
   * a few microseconds.
   */
  #rootFields: readonly HeaderField[] | null;
  /**
   * The root's content type as the parser read it from those fields, handed the same way to
   * the first view of the root that asks (BODYSTRUCTURE at delivery): parsed again, its
   * parameters were a few hundred bytes of garbage a message.
   */
  #rootContentType: ContentType | null;

  constructor(
    rows: Int32Array,
    bytes: Uint8Array,
    rootAt: number,
    rootFields: readonly HeaderField[] | null,
    rootContentType: ContentType | null = null,
  ) {
    this.#rows = rows;
    this.#bytes = bytes;
    this.#rootAt = rootAt;
    this.#rootFields = rootFields;
    this.#rootContentType = rootContentType;
  }

  /** Number of parts (rows). */
  get size(): number {
    return this.#rows.length / COLUMNS;
  }

  /** Bytes held, for tests and measurements. */
  get byteLength(): number {
    return this.#rows.byteLength + this.#bytes.byteLength;
  }

  /**
   * A copy of the root header; the offsets of the root's fields index it (the root header
   * starts the message). Not to be changed.
   */
  get rootHeader(): Uint8Array {
    return this.#bytes.subarray(this.#rootAt);
  }

  /**
   * The bytes {@linkcode rootHeader} is the end of, from {@linkcode rootHeaderAt} on: for a
   * reader of thousands of messages' headers (a `FETCH 1:*` of header fields), which a view a
   * message made measurably slower. Not to be changed.
   */
  get headerBytes(): Uint8Array {
    return this.#bytes;
  }

  /** Where the root header starts in {@linkcode headerBytes}. */
  get rootHeaderAt(): number {
    return this.#rootAt;
  }

  /**
   * The root's fields as the parser found them, while no view of the root has taken them
   * (see {@linkcode fields}); null after. Read, not taken: the store makes a message's
   * summary from them as it stores the message, and indexing at delivery then reads them.
   */
  get parsedRootFields(): readonly HeaderField[] | null {
    return this.#rootFields;
  }

  /**
   * The root's content type as the parser found it in its `Content-Type` field, the first
   * time it is asked for (null after, or when the type is not the field's). The parse of the
   * same field's value, so the same result.
   */
  takeRootContentType(): ContentType | null {
    const contentType = this.#rootContentType;
    this.#rootContentType = null;
    return contentType;
  }

  /** A view of the root: the whole message, part number `""`. */
  root(): MimePart {
    return new PartView(this, 0, "", "");
  }

  /** Offset `column` (0 headerStart, 1 headerEnd, 2 bodyStart, 3 bodyEnd) of `row`. */
  offset(row: number, column: number): number {
    return this.#rows[row * COLUMNS + column];
  }

  /** Link `column` (0 childFirst, 1 childCount, 2 message) of `row`. */
  link(row: number, column: number): number {
    return this.#rows[row * COLUMNS + CHILD_FIRST + column];
  }

  typeSource(row: number): TypeSource {
    return this.#rows[row * COLUMNS + HEADER_AT_TYPE] & 3;
  }

  /** The header fields of `row`, with offsets into the raw message as the parser saw them. */
  fields(row: number): readonly HeaderField[] {
    const start = this.offset(row, HEADER_START);
    if (row === 0) {
      const parsed = this.#rootFields;
      if (parsed !== null) {
        this.#rootFields = null;
        return parsed;
      }
      const at = this.#rootAt;
      return parseHeaderFields(this.#bytes, at, this.#bytes.length, start - at);
    }
    const at = this.#rows[row * COLUMNS + HEADER_AT_TYPE] >>> 2;
    const length = this.offset(row, HEADER_END) - start;
    return parseHeaderFields(this.#bytes, at, at + length, start - at);
  }
}

/**
 * Regions of larger buffers for the tables of one-part messages (their row and root header,
 * a few hundred bytes): the store indexes each message it is given, and an `ArrayBuffer` a
 * message was a call into the runtime and a malloc each, and a backing store for V8 to track
 * and sweep. A region is handed out once; a slab lives as long as any table cut from it, so
 * the slabs are small (a kept message holds at most one alive).
 */
export class TableSlab {
  readonly #size: number;
  #slab = new Uint8Array(0);
  #used = 0;

  /** `size`: bytes a slab; a longer region gets a buffer of its own. */
  constructor(size = 16 * 1024) {
    this.#size = size;
  }

  /** `length` fresh bytes, starting at a multiple of 4 within their buffer. */
  region(length: number): Uint8Array {
    if (length > this.#size) return new Uint8Array(length);
    if (this.#slab.length - this.#used < length) {
      this.#slab = new Uint8Array(this.#size);
      this.#used = 0;
    }
    const region = this.#slab.subarray(this.#used, this.#used + length);
    this.#used += (length + 3) & ~3;
    return region;
  }
}

/** Collects rows while `parseMime` walks a message; `finish` packs them. */
export class MimeTableBuilder {
  readonly #raw: Uint8Array;
  readonly #slab: TableSlab | null;
  /**
   * Rows so far, {@linkcode COLUMNS} numbers a row, as a plain array: `finish` packs them
   * into the table's one buffer. A typed array here was a backing store of its own per
   * message (Deno allocates even a 32-byte one outside V8's heap, through the runtime and
   * malloc), only to be copied and dropped.
   */
  #table: number[] = [];
  #headerBytes = 0;
  #rows = 0;

  /** `slab`: where the table of a one-part message is cut from (absent: a buffer of its own). */
  constructor(raw: Uint8Array, slab: TableSlab | null = null) {
    this.#raw = raw;
    this.#slab = slab;
  }

  /** Rows allocated so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Reserves `count` consecutive rows; returns the first. */
  allocate(count: number): number {
    const first = this.#rows;
    this.#rows += count;
    const table = this.#table;
    for (let i = table.length; i < this.#rows * COLUMNS; i++) table.push(0);
    return first;
  }

  /**
   * The root's fields, parsed from `rootHeader`, a copy of the root header (so the table
   * keeps nothing of `raw`), with the offsets of `raw`.
   */
  rootFields: readonly HeaderField[] = NO_FIELDS;
  /** The root's content type parsed from its `Content-Type` field; null without one. */
  rootContentType: ContentType | null = null;
  rootHeader: Uint8Array = NO_BYTES;
  /**
   * The region `rootHeader` was copied into, with room for one row before it: a message of
   * one part (most mail) is packed in it as it is, one allocation and copy fewer.
   */
  #rootRegion: Uint8Array | null = null;

  /** Copies the root header `raw[start, end)` into {@linkcode rootHeader} and returns it. */
  copyRootHeader(raw: Uint8Array, start: number, end: number): Uint8Array {
    const length = ROW_BYTES + end - start;
    const region = this.#slab === null ? new Uint8Array(length) : this.#slab.region(length);
    const header = region.subarray(ROW_BYTES);
    header.set(raw.subarray(start, end));
    this.#rootRegion = region;
    this.rootHeader = header;
    return header;
  }

  /** Fills a reserved row. */
  set(row: number, part: PartRow): void {
    const table = this.#table;
    const at = row * COLUMNS;
    table[at + HEADER_START] = part.headerStart;
    table[at + HEADER_END] = part.headerEnd;
    table[at + BODY_START] = part.bodyStart;
    table[at + BODY_END] = part.bodyEnd;
    table[at + CHILD_FIRST] = part.childFirst;
    table[at + CHILD_COUNT] = part.childCount;
    table[at + MESSAGE] = part.message;
    table[at + HEADER_AT_TYPE] = this.#headerBytes * 4 + part.typeSource;
    // The root's header is kept as a copy of its own (`rootHeader`).
    if (row > 0) this.#headerBytes += part.headerEnd - part.headerStart;
  }

  /**
   * The packed table: the rows and the header bytes (copied, so the table keeps nothing of
   * `raw`) in one buffer.
   */
  finish(): MimeTable {
    const rows = this.#rows;
    const table = this.#table;
    const region = this.#rootRegion;
    if (rows === 1 && region !== null) {
      const row = new Int32Array(region.buffer, region.byteOffset, COLUMNS);
      for (let i = 0; i < COLUMNS; i++) row[i] = table[i];
      return new MimeTable(row, this.rootHeader, 0, this.rootFields, this.rootContentType);
    }
    const raw = this.#raw;
    const rowBytes = rows * COLUMNS * 4;
    const rootAt = this.#headerBytes;
    const buffer = new ArrayBuffer(rowBytes + rootAt + this.rootHeader.length);
    const packed = new Int32Array(buffer, 0, rows * COLUMNS);
    packed.set(table);
    const bytes = new Uint8Array(buffer, rowBytes);
    for (let row = 1; row < rows; row++) {
      const at = row * COLUMNS;
      let to = table[at + HEADER_AT_TYPE] >>> 2;
      // Part headers are short: a loop costs less than a subarray and a set.
      for (let i = table[at + HEADER_START]; i < table[at + HEADER_END]; i++) {
        bytes[to++] = raw[i];
      }
    }
    bytes.set(this.rootHeader, rootAt);
    return new MimeTable(packed, bytes, rootAt, this.rootFields, this.rootContentType);
  }
}

/**
 * The lower-cased `Content-Transfer-Encoding` token; `7bit` when absent or not a token
 * (RFC 2045 6.1: `mechanism := "7bit" / ... / ietf-token / x-token`), as Dovecot reads it.
 */
export function transferEncoding(value: string | undefined): string {
  if (value === undefined) return "7bit";
  const token = lowerCase(stripComments(value).trim());
  return /^[!#$%&'*+.^_`{|}~0-9a-z-]+$/.test(token) ? token : "7bit";
}

/** One row of a {@linkcode MimeTable} as a {@linkcode MimePart}; header data parsed on use. */
class PartView implements MimePart {
  readonly #table: MimeTable;
  readonly #row: number;
  readonly partNumber: string;
  readonly #childPrefix: string;
  #fields: readonly HeaderField[] | null = null;
  #contentType: ContentType | null = null;
  #disposition: ContentDisposition | null | undefined;
  #encoding: string | null = null;
  #contentId: string | null | undefined;
  #children: readonly MimePart[] | null = null;
  #message: MimePart | null | undefined;

  constructor(table: MimeTable, row: number, partNumber: string, childPrefix: string) {
    this.#table = table;
    this.#row = row;
    this.partNumber = partNumber;
    this.#childPrefix = childPrefix;
  }

  get headerStart(): number {
    return this.#table.offset(this.#row, 0);
  }
  get headerEnd(): number {
    return this.#table.offset(this.#row, 1);
  }
  get bodyStart(): number {
    return this.#table.offset(this.#row, 2);
  }
  get bodyEnd(): number {
    return this.#table.offset(this.#row, 3);
  }
  get fields(): readonly HeaderField[] {
    return this.#fields ??= this.#table.fields(this.#row);
  }
  get contentType(): ContentType {
    if (this.#contentType) return this.#contentType;
    const source = this.#table.typeSource(this.#row);
    if (this.#row === 0 && source === TypeSource.Field) {
      const parsed = this.#table.takeRootContentType();
      if (parsed !== null) return this.#contentType = parsed;
    }
    const value = source === TypeSource.Field
      ? headerValue(this.fields, "Content-Type")
      : undefined;
    return this.#contentType = value !== undefined
      ? parseContentType(value)
      : source === TypeSource.MessageRfc822
      ? MESSAGE_RFC822
      : TEXT_PLAIN;
  }
  get disposition(): ContentDisposition | null {
    if (this.#disposition !== undefined) return this.#disposition;
    const value = headerValue(this.fields, "Content-Disposition");
    return this.#disposition = value === undefined ? null : parseParameterized(value);
  }
  get encoding(): string {
    return this.#encoding ??= transferEncoding(
      headerValue(this.fields, "Content-Transfer-Encoding"),
    );
  }
  get contentId(): string | null {
    if (this.#contentId !== undefined) return this.#contentId;
    const value = headerValue(this.fields, "Content-ID");
    return this.#contentId = value === undefined ? null : value.trim().replace(/^<(.*)>$/, "$1");
  }
  get children(): readonly MimePart[] {
    if (this.#children) return this.#children;
    const first = this.#table.link(this.#row, 0);
    const count = this.#table.link(this.#row, 1);
    // Of the exact length, not grown by pushes (room for 16 on the first).
    const children = new Array<MimePart>(count);
    for (let i = 0; i < count; i++) {
      const number = this.#childPrefix + (i + 1);
      children[i] = new PartView(this.#table, first + i, number, number + ".");
    }
    return this.#children = children;
  }
  get message(): MimePart | null {
    if (this.#message !== undefined) return this.#message;
    const row = this.#table.link(this.#row, 2);
    // The encapsulated message's parts are numbered below this part (RFC 9051 6.4.5); for a
    // whole message, below its body, part 1.
    const prefix = this.partNumber === "" ? this.#childPrefix + "1." : this.#childPrefix;
    return this.#message = row < 0 ? null : new PartView(this.#table, row, "", prefix);
  }
}
