/**
 * The base subject of RFC 5256 2.1, which SORT SUBJECT and THREAD compare:
 *
 * ```abnf
 * subj-refwd      = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 * subj-blob       = "[" *BLOBCHAR "]" *WSP
 * subj-fwd        = subj-fwd-hdr subject subj-fwd-trl
 * subj-fwd-hdr    = "[fwd:"
 * subj-fwd-trl    = "]"
 * subj-leader     = (*subj-blob subj-refwd) / WSP
 * subj-trailer    = "(fwd)" / WSP
 * BLOBCHAR        = %x01-5a / %x5c / %x5e-ff   ; not "[" or "]"
 * ```
 * Steps (RFC 5256 2.1): (1) decode encoded words, turn tabs and line breaks into spaces and
 * runs of spaces into one; (2) remove trailing `(fwd)` and white space, repeatedly; (3)
 * remove a leading subj-leader; (4) remove a leading subj-blob when something is left after
 * it; (5) repeat 3 and 4; (6) unwrap `[fwd: ... ]` and go back to 2. Matching is
 * case-insensitive. Each step scans the text once, without regular expressions.
 *
 * @module
 */

import { decodeEncodedWords } from "./headers.ts";

/** A base subject and whether extracting it removed a reply or forward marker. */
export interface BaseSubject {
  readonly subject: string;
  /**
   * `Re:`, `Fwd:`, `(fwd)` or `[fwd: ]` was removed: THREAD=REFERENCES step 5 and
   * ORDEREDSUBJECT treat the message as a reply (RFC 5256 2.1, 4).
   */
  readonly replyOrForward: boolean;
}

/**
 * The base subject of a Subject field value (RFC 2047 encoded words are decoded here).
 *
 * @example
 * ```ts
 * baseSubject("Re: [list] Fwd: =?utf-8?q?Gr=C3=BC=C3=9Fe?= (fwd)");
 * // { subject: "Gr\u00fc\u00dfe", replyOrForward: true }
 * ```
 */
export function baseSubject(value: string): BaseSubject {
  let text = packWhitespace(decodeEncodedWords(value));
  let replyOrForward = false;
  for (;;) {
    // (2) trailers.
    let end = text.length;
    for (;;) {
      if (end > 0 && text[end - 1] === " ") end--;
      else if (end >= 5 && text.slice(end - 5, end).toLowerCase() === "(fwd)") {
        end -= 5;
        replyOrForward = true;
      } else break;
    }
    // (3)-(5) leaders and blobs.
    let start = 0;
    for (;;) {
      const leader = leaderEnd(text, start, end);
      if (leader > start) {
        if (text[start] !== " ") replyOrForward = true;
        start = leader;
        continue;
      }
      const blob = blobEnd(text, start, end);
      if (blob > start && hasNonSpace(text, blob, end)) {
        start = blob;
        continue;
      }
      break;
    }
    text = text.slice(start, end);
    // (6) the [fwd: ...] wrapper.
    if (text.length >= 6 && text.slice(0, 5).toLowerCase() === "[fwd:" && text.endsWith("]")) {
      text = text.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { subject: text, replyOrForward };
  }
}

/** Step 1: tabs, CR and LF become spaces; runs of spaces become one. */
function packWhitespace(text: string): string {
  let out = "";
  let space = false;
  for (const ch of text) {
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      space = true;
      continue;
    }
    if (space && out.length > 0) out += " ";
    space = false;
    out += ch;
  }
  // Trailing white space is dropped here; step 2 would remove it anyway.
  return out;
}

function hasNonSpace(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text[i] !== " ") return true;
  return false;
}

/** End of a subj-blob at `i`, or `i` when there is none. */
function blobEnd(text: string, i: number, end: number): number {
  if (text[i] !== "[") return i;
  let j = i + 1;
  while (j < end && text[j] !== "]" && text[j] !== "[") j++;
  if (j >= end || text[j] !== "]") return i;
  j++;
  while (j < end && text[j] === " ") j++;
  return j;
}

/** End of a subj-leader at `i`, or `i` when there is none. */
function leaderEnd(text: string, i: number, end: number): number {
  if (i < end && text[i] === " ") return i + 1;
  let j = i;
  for (let next = blobEnd(text, j, end); next > j; next = blobEnd(text, j, end)) j = next;
  return refwdEnd(text, j, end) ?? i;
}

/** End of a subj-refwd at `i`, or null. */
function refwdEnd(text: string, i: number, end: number): number | null {
  const two = text.slice(i, i + 2).toLowerCase();
  let j: number;
  if (two === "re") j = i + 2;
  else if (two === "fw") {
    j = i + 2 < end && (text[i + 2] === "d" || text[i + 2] === "D") ? i + 3 : i + 2;
  } else return null;
  while (j < end && text[j] === " ") j++;
  j = blobEnd(text, j, end);
  return j < end && text[j] === ":" ? j + 1 : null;
}
