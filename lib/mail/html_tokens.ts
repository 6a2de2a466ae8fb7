/**
 * A small HTML tokenizer for message bodies, after the WHATWG tokenizer's states (data, tag
 * open, attributes with quotes, comments, bogus comments, raw text and RCDATA elements), for
 * the text, links and codes of a message and for defusing its HTML. It never backtracks: the
 * position only moves forward, and every search for a terminator starts where the last one
 * ended, so hostile markup (`<` or `<!--` repeated a million times) costs linear time. A tag
 * still open at the end of the input is dropped, as browsers drop it.
 *
 * @module
 */

/** One token; `start` and `end` are UTF-16 offsets into the input. */
export type HtmlToken =
  | {
    readonly kind: "text";
    readonly start: number;
    readonly end: number;
    /** Content of script, style, title and the like: not markup, entities not decoded. */
    readonly raw: boolean;
  }
  | {
    readonly kind: "start";
    readonly start: number;
    readonly end: number;
    /** ASCII lower case. */
    readonly name: string;
    /** Attributes in order, names in ASCII lower case, values as written (entities kept). */
    readonly attributes: ReadonlyArray<readonly [string, string]>;
  }
  | { readonly kind: "end"; readonly start: number; readonly end: number; readonly name: string }
  | { readonly kind: "comment"; readonly start: number; readonly end: number };

/** Elements whose content is text up to their end tag (raw text and RCDATA). */
const TEXT_ELEMENTS = new Set([
  "script",
  "style",
  "title",
  "textarea",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
]);

/** Whether the UTF-16 unit is HTML whitespace (tab, LF, FF, CR, space). */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** ASCII-only lower case: keeps every offset (`toLowerCase` may not, e.g. for U+0130). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/** Reads a tag name from `i`: up to whitespace, `/` or `>`. */
function tagNameEnd(html: string, i: number): number {
  while (i < html.length) {
    const code = html.charCodeAt(i);
    if (isSpace(code) || code === 0x2f || code === 0x3e) break;
    i++;
  }
  return i;
}

/**
 * Reads attributes from `i` up to the tag's `>`. Returns the offset after `>`, or -1 when
 * the input ends inside the tag.
 */
function readAttributes(
  html: string,
  i: number,
  out: Array<readonly [string, string]> | null,
): number {
  const n = html.length;
  while (i < n) {
    const code = html.charCodeAt(i);
    if (isSpace(code) || code === 0x2f) {
      i++;
      continue;
    }
    if (code === 0x3e) return i + 1;
    // A name runs to whitespace, `/`, `>` or `=` (a leading `=` belongs to the name).
    const nameStart = i++;
    while (i < n) {
      const c = html.charCodeAt(i);
      if (isSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
      i++;
    }
    const name = html.slice(nameStart, i);
    while (i < n && isSpace(html.charCodeAt(i))) i++;
    let value = "";
    if (html.charCodeAt(i) === 0x3d) {
      i++;
      while (i < n && isSpace(html.charCodeAt(i))) i++;
      const quote = html.charCodeAt(i);
      if (quote === 0x22 || quote === 0x27) {
        const close = html.indexOf(quote === 0x22 ? '"' : "'", i + 1);
        if (close < 0) return -1;
        value = html.slice(i + 1, close);
        i = close + 1;
      } else {
        const valueStart = i;
        while (i < n) {
          const c = html.charCodeAt(i);
          if (isSpace(c) || c === 0x3e) break;
          i++;
        }
        value = html.slice(valueStart, i);
      }
    }
    out?.push([asciiLower(name), value]);
  }
  return -1;
}

/**
 * Where the text of a raw text element (`script`, `title`, ...) ends: the offset of its end
 * tag `</name` followed by whitespace, `/` or `>`, or the end of the input.
 */
function textElementEnd(lower: string, name: string, from: number): number {
  const needle = "</" + name;
  let at = lower.indexOf(needle, from);
  while (at >= 0) {
    const after = lower.charCodeAt(at + needle.length);
    if (isSpace(after) || after === 0x2f || after === 0x3e) return at;
    at = lower.indexOf(needle, at + needle.length);
  }
  return lower.length;
}

/** The tokens of `html`, in order. Linear in the input's length. */
export function* tokenizeHtml(html: string): Generator<HtmlToken> {
  const n = html.length;
  // Made on the first raw text element: most mail has a style sheet, but not all of it.
  let lower: string | null = null;
  let i = 0;
  while (i < n) {
    let lt = html.indexOf("<", i);
    // A `<` not followed by a letter, `/`, `!` or `?` is text.
    while (lt >= 0 && lt + 1 < n) {
      const next = html.charCodeAt(lt + 1);
      if (isAsciiLetter(next) || next === 0x2f || next === 0x21 || next === 0x3f) break;
      lt = html.indexOf("<", lt + 1);
    }
    if (lt < 0 || lt + 1 >= n) {
      yield { kind: "text", start: i, end: n, raw: false };
      return;
    }
    if (lt > i) yield { kind: "text", start: i, end: lt, raw: false };
    const next = html.charCodeAt(lt + 1);
    if (next === 0x21 && html.startsWith("<!--", lt)) {
      // `<!-->` and `<!--->` are empty comments; otherwise up to `-->` or the end.
      let end: number;
      if (html.startsWith(">", lt + 4)) end = lt + 5;
      else if (html.startsWith("->", lt + 4)) end = lt + 6;
      else {
        const close = html.indexOf("-->", lt + 4);
        end = close < 0 ? n : close + 3;
      }
      yield { kind: "comment", start: lt, end };
      i = end;
    } else if (
      next === 0x21 || next === 0x3f || (next === 0x2f && !isAsciiLetter(html.charCodeAt(lt + 2)))
    ) {
      // Doctype, CDATA, processing instruction, `</3`: a bogus comment up to `>`.
      const close = html.indexOf(">", lt + 2);
      const end = close < 0 ? n : close + 1;
      yield { kind: "comment", start: lt, end };
      i = end;
    } else if (next === 0x2f) {
      const nameEnd = tagNameEnd(html, lt + 2);
      const end = readAttributes(html, nameEnd, null);
      if (end < 0) return;
      yield { kind: "end", start: lt, end, name: asciiLower(html.slice(lt + 2, nameEnd)) };
      i = end;
    } else {
      const nameEnd = tagNameEnd(html, lt + 1);
      const attributes: Array<readonly [string, string]> = [];
      const end = readAttributes(html, nameEnd, attributes);
      if (end < 0) return;
      const name = asciiLower(html.slice(lt + 1, nameEnd));
      yield { kind: "start", start: lt, end, name, attributes };
      i = end;
      if (TEXT_ELEMENTS.has(name)) {
        lower ??= asciiLower(html);
        const close = textElementEnd(lower, name, i);
        if (close > i) yield { kind: "text", start: i, end: close, raw: true };
        i = close;
      }
    }
  }
}

/** The value of the first attribute called `name` (lower case), or null. */
export function attribute(
  attributes: ReadonlyArray<readonly [string, string]>,
  name: string,
): string | null {
  for (const [key, value] of attributes) if (key === name) return value;
  return null;
}
