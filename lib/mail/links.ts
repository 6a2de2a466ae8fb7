/**
 * What end-to-end tests want from a message: the links (a confirmation URL) and the likely
 * one-time codes (a 6-digit login code). Pure functions over the decoded bodies.
 *
 * @module
 */

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
/** Trailing characters that end a sentence rather than a URL. */
const TRAILING = /[.,;:!?]+$/;

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

/** The visible text of an HTML body: no tags, no script or style, entities decoded. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, " ")
      .replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6])\s*>/gi, "\n")
      .replace(/<[^>]*>/g, " "),
  ).replace(/[ \t\u00a0]+/g, " ");
}

function cleanUrl(url: string): string {
  let out = url.replace(TRAILING, "");
  // A closing parenthesis belongs to the URL only if it opened one: "(see https://a/b)".
  while (out.endsWith(")") && count(out, "(") < count(out, ")")) out = out.slice(0, -1);
  return out;
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/**
 * Links of a message: `href`s of html anchors (with their text) first, in document order,
 * then URLs in the text body not already found. Each URL appears once.
 */
export function extractLinks(text: string | null, html: string | null): FoundLink[] {
  const out: FoundLink[] = [];
  const seen = new Set<string>();
  const add = (url: string, label: string | null, source: "html" | "text") => {
    if (url === "" || seen.has(url)) return;
    seen.add(url);
    out.push({ url, text: label, source });
  };
  if (html !== null) {
    const anchor = /<(a|area)\b([^>]*)>([\s\S]*?)(?:<\/\1\s*>|(?=<(?:a|area)\b)|$)/gi;
    for (const match of html.matchAll(anchor)) {
      const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(match[2]);
      if (!href) continue;
      const url = decodeEntities(href[1] ?? href[2] ?? href[3]).trim();
      if (!/^(https?:|mailto:)/i.test(url)) continue;
      const label = htmlToText(match[3]).replace(/\s+/g, " ").trim();
      add(url, label === "" ? null : label, "html");
    }
    for (const match of htmlToText(html).matchAll(TEXT_URL)) add(cleanUrl(match[0]), null, "html");
  }
  if (text !== null) {
    for (const match of text.matchAll(TEXT_URL)) add(cleanUrl(match[0]), null, "text");
  }
  return out;
}

/** Words that announce a code nearby. */
const CODE_WORDS =
  /\b(code|otp|passcode|pin|token|verification|verify|one[- ]time|2fa|mfa|security|confirm|login|sign[- ]in|password|kod|código|codice)\b/i;

/**
 * Likely one-time codes, best first: numbers of 4 to 8 digits (also written `123 456` or
 * `123-456`), and 6 to 10 character upper-case letter-and-digit mixes next to a word such as
 * "code". Numbers that look like years, times, dates, prices, phone numbers or parts of
 * URLs and longer numbers are left out (years unless a code word is right before them).
 */
export function extractCodes(
  subject: string,
  text: string | null,
  html: string | null,
): string[] {
  const sources = [subject, text ?? "", html !== null ? htmlToText(html) : ""];
  const scored = new Map<string, { score: number; order: number }>();
  let order = 0;
  for (const source of sources) {
    const plain = source.replace(TEXT_URL, " ");
    const candidates =
      /(?<![\w$€£¥.,:/\-]|\d[ -])(\d{3}[ -]\d{3}|\d{4,8}|(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,10})(?![\w%/:\-]|[.,]\d|[ -]\d)/g;
    for (const match of plain.matchAll(candidates)) {
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
    .map(([code]) => code);
}
