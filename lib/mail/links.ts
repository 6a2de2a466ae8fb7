/**
 * What end-to-end tests want from a message: the links (a confirmation URL) and the likely
 * one-time codes (a 6-digit login code). Pure functions over the decoded bodies.
 *
 * @module
 */

import { attribute, type HtmlToken, tokenizeHtml } from "./html_tokens.ts";

/** A URL found in a body. */
export interface FoundLink {
  readonly url: string;
  /** The anchor text for an html link, else null. */
  readonly text: string | null;
  /** Where it was found. */
  readonly source: "html" | "text";
}

/** URLs in running text: http(s), plus mailto and www. forms. */
const TEXT_URL = /\b(?:https?:\/\/|mailto:|www\.)[^\s<>"'`]+/gi;

const ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/** Decodes the HTML character references that occur in mail (named basics and numeric). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** How much of each body is scanned for links and codes, in UTF-16 units: the cap per message. */
export const MAX_SCAN_LENGTH = 2 * 1024 * 1024;
/** Most links and codes reported per message. */
export const MAX_LINKS = 1000;
export const MAX_CODES = 100;

/** The beginning of a body that is scanned. */
function scanned(text: string): string {
  return text.length > MAX_SCAN_LENGTH ? text.slice(0, MAX_SCAN_LENGTH) : text;
}

/** End tags that end a line of text. */
const BLOCK_ENDS = new Set(["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6"]);

/**
 * Turns the tokens of `html` into visible text: no tags, no script, style, title or head,
 * `<br>` and the end of a block as a line break, other tags and comments as a space. Calls
 * `visit` with each start and end tag first, so a caller can follow the structure too.
 */
function visibleText(
  html: string,
  visit?: (token: HtmlToken & { kind: "start" | "end" }, produced: number) => void,
): string[] {
  const out: string[] = [];
  let inHead = false;
  for (const token of tokenizeHtml(html)) {
    if (visit && (token.kind === "start" || token.kind === "end")) visit(token, out.length);
    switch (token.kind) {
      case "text":
        if (!token.raw && !inHead) out.push(decodeEntities(html.slice(token.start, token.end)));
        break;
      case "start":
        if (token.name === "head") inHead = true;
        else if (token.name === "body") inHead = false;
        out.push(token.name === "br" ? "\n" : " ");
        break;
      case "end":
        if (token.name === "head") inHead = false;
        out.push(BLOCK_ENDS.has(token.name) ? "\n" : " ");
        break;
      case "comment":
        out.push(" ");
    }
  }
  return out;
}

/** The visible text of an HTML body: no tags, no script or style, entities decoded. */
export function htmlToText(html: string): string {
  return collapseBlanks(visibleText(html).join(""));
}

/** Runs of spaces, tabs and no-break spaces become one space. */
function collapseBlanks(text: string): string {
  return text.replace(/[ \t\u00a0]+/g, " ");
}

/** Removes punctuation that ends a sentence, then unbalanced closing parentheses. */
function cleanUrl(url: string): string {
  let end = url.length;
  while (end > 0 && ".,;:!?".includes(url[end - 1])) end--;
  // A closing parenthesis belongs to the URL only if it opened one: "(see https://a/b)".
  let opened = 0;
  let closed = 0;
  for (let i = 0; i < end; i++) {
    if (url[i] === "(") opened++;
    else if (url[i] === ")") closed++;
  }
  while (end > 0 && url[end - 1] === ")" && opened < closed) {
    end--;
    closed--;
  }
  return url.slice(0, end);
}

/** The anchors of `html`: their `href` and the visible text up to `</a>` or the next anchor. */
function htmlAnchors(html: string): Array<{ href: string | null; label: string }> {
  interface Open {
    readonly name: string;
    readonly href: string | null;
    /** The range of visible text parts that make the label. */
    readonly from: number;
    to: number | null;
  }
  const anchors: Open[] = [];
  let open: Open | null = null;
  const parts = visibleText(html, (token, produced) => {
    const isAnchor = token.name === "a" || token.name === "area";
    if (!isAnchor) return;
    if (open && (token.kind === "start" || token.name === open.name)) {
      open.to = produced;
      open = null;
    }
    if (token.kind === "start") {
      // The tag itself produces one part (a space); the label starts after it. An area is
      // a void element: it has no text.
      const from = produced + 1;
      const anchor: Open = {
        name: token.name,
        href: attribute(token.attributes, "href"),
        from,
        to: null,
      };
      anchors.push(anchor);
      if (token.name === "area") anchor.to = from;
      else open = anchor;
    }
  });
  return anchors.map(({ href, from, to }) => ({
    href,
    label: parts.slice(from, to ?? parts.length).join(""),
  }));
}

/**
 * Links of a message: `href`s of html anchors (with their text) first, in document order,
 * then URLs in the text body not already found. Each URL appears once; at most
 * {@linkcode MAX_LINKS}, from the first {@linkcode MAX_SCAN_LENGTH} units of each body.
 */
export function extractLinks(text: string | null, html: string | null): FoundLink[] {
  const out: FoundLink[] = [];
  const seen = new Set<string>();
  const add = (url: string, label: string | null, source: "html" | "text") => {
    if (url === "" || seen.has(url) || out.length >= MAX_LINKS) return;
    seen.add(url);
    out.push({ url, text: label, source });
  };
  if (html !== null) {
    const page = scanned(html);
    for (const anchor of htmlAnchors(page)) {
      if (anchor.href === null) continue;
      const url = decodeEntities(anchor.href).trim();
      if (!/^(https?:|mailto:)/i.test(url)) continue;
      const label = anchor.label.replace(/\s+/g, " ").trim();
      add(url, label === "" ? null : label, "html");
    }
    for (const match of htmlToText(page).matchAll(TEXT_URL)) add(cleanUrl(match[0]), null, "html");
  }
  if (text !== null) {
    for (const match of scanned(text).matchAll(TEXT_URL)) add(cleanUrl(match[0]), null, "text");
  }
  return out;
}

/** Words that announce a code nearby. */
const CODE_WORDS =
  /\b(code|otp|passcode|pin|token|verification|verify|one[- ]time|2fa|mfa|security|confirm|login|sign[- ]in|password|kod|c\u00f3digo|codice)\b/i;

/**
 * Code candidates. A letter-and-digit code is one whole run of 6 to 10 such characters (the
 * look-behind and the look-ahead after it refuse a longer run), so its two look-aheads need
 * look no further than 10 characters: bounded, they stay linear on a long run.
 */
const CODE_CANDIDATES =
  /(?<![\w$\u20ac\u00a3\u00a5.,:/\-]|\d[ -])(\d{3}[ -]\d{3}|\d{4,8}|(?=[A-Z0-9]{0,9}\d)(?=[A-Z0-9]{0,9}[A-Z])[A-Z0-9]{6,10})(?![\w%/:\-]|[.,]\d|[ -]\d)/g;

/**
 * Likely one-time codes, best first: numbers of 4 to 8 digits (also written `123 456` or
 * `123-456`), and 6 to 10 character upper-case letter-and-digit mixes next to a word such as
 * "code". Numbers that look like years, times, dates, prices, phone numbers or parts of
 * URLs and longer numbers are left out (years unless a code word is right before them).
 * At most {@linkcode MAX_CODES}, from the first {@linkcode MAX_SCAN_LENGTH} units of each
 * body.
 */
export function extractCodes(
  subject: string,
  text: string | null,
  html: string | null,
): string[] {
  const sources = [
    scanned(subject),
    scanned(text ?? ""),
    html !== null ? htmlToText(scanned(html)) : "",
  ];
  const scored = new Map<string, { score: number; order: number }>();
  let order = 0;
  for (const source of sources) {
    const plain = source.replace(TEXT_URL, " ");
    for (const match of plain.matchAll(CODE_CANDIDATES)) {
      const code = match[1].replace(/[ -]/g, "");
      // The words before it in the same sentence (a code word ends a sentence rarely).
      const before = plain.slice(Math.max(0, match.index - 60), match.index)
        .split(/[.!?]\s|\n\s*\n/).pop()!;
      const near = CODE_WORDS.test(before);
      const digits = /^\d+$/.test(code);
      if (!digits && !near) continue;
      if (digits && !near && /^(19|20)\d\d$/.test(code)) continue;
      const score = (near ? 10 : 0) + (code.length === 6 ? 3 : 0) + (digits ? 1 : 0);
      const known = scored.get(code);
      if (!known || known.score < score) {
        scored.set(code, { score, order: known?.order ?? order++ });
      }
    }
  }
  return [...scored.entries()]
    .sort(([, a], [, b]) => b.score - a.score || a.order - b.order)
    .slice(0, MAX_CODES)
    .map(([code]) => code);
}
