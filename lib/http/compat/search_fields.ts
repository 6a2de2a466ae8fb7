/**
 * What the MailHog and Mailpit searches match a message's text against, without parsing
 * anything again per search:
 *
 * - its top-level header fields, lower-cased: Mailpit matches a word against the `name: value`
 *   lines, MailHog's `containing` against one field name or one value at a time. The index's
 *   fields are parsed anew on each read (`MessageIndex.root`), so the lines and the bounds of
 *   each name and value are kept in the index memo, made on the first search that reads them
 *   and gone with the index (DESIGN.md: consumers keep what they derive from the index there);
 * - its Subject and decoded text bodies, as `searchableText` (filters.ts) has them, matched
 *   with IMAP SEARCH's `bodyIncludes` on the cached text plan instead of a body string built
 *   per message and search.
 *
 * Each answer is the one the text made per search gave.
 *
 * @module
 */

import type { MessageIndex } from "../../mail/message_index.ts";
import type { MessageMeta, Store } from "../../store/types.ts";
import { searchableText, withSearchText } from "../filters.ts";

const HEADER_LINES = Symbol("compat header lines");

/**
 * The top-level header as lower-cased `name: value` lines joined by LF, with where each name
 * and value ends in them.
 */
export class HeaderLines {
  /** `name: value` lines, lower-cased (each name and value on its own), joined by LF. */
  readonly text: string;
  /**
   * Per field, the end of its name and the end of its value in {@linkcode text}: as the char
   * codes of a string when all are below 65,536 (nearly every header; V8 keeps it in 2 bytes
   * an end, one object, never walked when it marks), else an array. `#end` reads it.
   */
  readonly #ends: string | readonly number[];

  private constructor(text: string, ends: readonly number[]) {
    this.text = text;
    this.#ends = text.length < 0x10000 ? charCodes(ends) : ends;
  }

  /** End `k` of {@linkcode #ends}. */
  #end(k: number): number {
    const ends = this.#ends;
    return typeof ends === "string" ? ends.charCodeAt(k) : ends[k];
  }

  /** The lines of `index`'s top-level header, made once per index. */
  static of(index: MessageIndex): HeaderLines {
    return index.memo(HEADER_LINES, () => HeaderLines.fromFields(index.root.fields));
  }

  /** The lines of these fields (name and value as the header parser gives them). */
  static fromFields(fields: ReadonlyArray<{ name: string; value: string }>): HeaderLines {
    const parts: string[] = [];
    const ends: number[] = [];
    let length = 0;
    fields.forEach((field, i) => {
      // Lower-cased one by one: lower-casing may change a string's length, and the bounds
      // are those of the lower-cased text.
      const name = field.name.toLowerCase();
      const value = field.value.toLowerCase();
      if (i > 0) parts.push("\n");
      parts.push(name, ": ", value);
      const nameEnd = length + (i > 0 ? 1 : 0) + name.length;
      length = nameEnd + 2 + value.length;
      ends.push(nameEnd, length);
    });
    return new HeaderLines(parts.join(""), ends);
  }

  /**
   * Whether one field's name or value holds `needle` (lower case), as MailHog's `containing`
   * matches: an occurrence across a name and its value, or across two fields, does not count.
   */
  fieldHas(needle: string): boolean {
    const fields = this.#ends.length >> 1;
    let field = 0;
    for (let at = this.text.indexOf(needle); at >= 0; at = this.text.indexOf(needle, at + 1)) {
      // The field whose line holds `at` (lines end at their value's end, then LF).
      while (field < fields && at > this.#end(2 * field + 1)) field++;
      if (field === fields) return false;
      const nameStart = field === 0 ? 0 : this.#end(2 * field - 1) + 1;
      const nameEnd = this.#end(2 * field);
      const end = at + needle.length;
      if (at >= nameStart && end <= nameEnd) return true;
      if (at >= nameEnd + 2 && end <= this.#end(2 * field + 1)) return true;
    }
    return false;
  }
}

/** The numbers (each below 65,536) as the char codes of one string, in bounded chunks. */
function charCodes(numbers: readonly number[]): string {
  let codes = "";
  for (let i = 0; i < numbers.length; i += 8192) {
    codes += String.fromCharCode(...numbers.slice(i, i + 8192));
  }
  return codes;
}

/**
 * `searchableText(store, meta).includes(needle)` (Subject, then the decoded text bodies; the
 * needle lower case), read from the text plan IMAP SEARCH keeps in the index memo.
 */
export function searchableIncludes(
  store: Store,
  meta: MessageMeta,
  index: MessageIndex | undefined,
  needle: string,
): boolean {
  // Across the Subject and the body, or across body parts (joined by LF): the whole text.
  if (needle.includes("\n")) return searchableText(store, meta).includes(needle);
  if (!index) return needle.length === 0;
  if (meta.summary.subject.toLowerCase().includes(needle)) return true;
  return withSearchText(store, meta, index, (text) => text.bodyIncludes(needle));
}
