/**
 * A message's preview (RFC 8970 PREVIEW): the beginning of what a person reads of it, as one
 * line of at most 256 characters.
 *
 * The text is the first text/plain body (not an attachment), else the first text/html body
 * with its markup, scripts and styles removed and its entities decoded; white space (line
 * breaks included) is collapsed to single spaces and trimmed, control characters dropped.
 * As Dovecot 2.3 does, quoted lines (starting with `>`) of a plain text body are left out.
 * A message without a readable body has the empty preview (Dovecot: `PREVIEW ""`).
 * Computed once per message and kept in its MIME index.
 *
 * @module
 */

import { htmlToText } from "./links.ts";
import type { MessageIndex } from "./message_index.ts";
import type { MimePart } from "./mime_part.ts";
import { decodeBodyText } from "./transfer.ts";

/** RFC 8970 3.1: a preview holds at most 256 characters. */
export const MAX_PREVIEW_CHARS = 256;

/** What of a long body is looked at, in UTF-16 units: the preview needs its beginning only. */
const MAX_SCAN = 64 * 1024;

const PREVIEW_KEY = Symbol("preview");

/**
 * The message's preview (see the module text), cached in its index.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("Subject: x\r\n\r\nHello,\r\n  world\r\n");
 * preview(new MessageIndex(raw), () => raw); // "Hello, world"
 * ```
 */
export function preview(index: MessageIndex, raw: () => Uint8Array): string {
  return index.memo(PREVIEW_KEY, () => {
    const part = bodyPart(index.root, "plain") ?? bodyPart(index.root, "html");
    if (!part) return "";
    let text = decodeBodyText(raw(), part);
    if (text.length > MAX_SCAN) text = text.slice(0, MAX_SCAN);
    const html = part.contentType.subtype === "html";
    return previewLine(html ? htmlToText(text) : text, !html);
  });
}

/** The first leaf of the given text subtype that is a body, not an attachment. */
function bodyPart(root: MimePart, subtype: string): MimePart | null {
  if (root.children.length === 0) {
    const { type, subtype: sub } = root.contentType;
    const attachment = root.disposition?.type === "attachment" ||
      root.disposition?.params.filename !== undefined;
    return type === "text" && sub === subtype && !attachment ? root : null;
  }
  // An attached message is not the body of this one.
  if (root.contentType.type === "message") return null;
  for (const child of root.children) {
    const found = bodyPart(child, subtype);
    if (found) return found;
  }
  return null;
}

/**
 * White space collapsed to one space, control characters dropped, trimmed, and cut after
 * {@linkcode MAX_PREVIEW_CHARS} characters (code points: a surrogate pair is never split).
 * With `dropQuoted`, lines that start with `>` are left out.
 */
export function previewLine(text: string, dropQuoted = false): string {
  let out = "";
  let chars = 0;
  let space = false;
  let lineStart = true;
  let quoted = false;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code === 0x0a) {
      lineStart = true;
      quoted = false;
    } else if (lineStart) {
      lineStart = false;
      quoted = dropQuoted && code === 0x3e;
    }
    if (quoted) continue;
    const blank = code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d ||
      code === 0x0c || code === 0xa0;
    if (blank) {
      space = out.length > 0;
      continue;
    }
    if (code < 0x20 || code === 0x7f) continue;
    if (space) {
      if (chars + 2 > MAX_PREVIEW_CHARS) break;
      out += " ";
      chars++;
      space = false;
    }
    out += char;
    if (++chars === MAX_PREVIEW_CHARS) break;
  }
  return out;
}
