/**
 * Mailpit's search syntax (mailpit.axllent.org, "Search filters"): words and `"quoted
 * phrases"` match the headers and text; `from:`, `to:`, `cc:`, `bcc:`, `subject:`,
 * `message-id:`, `tag:`, `is:read|unread|tagged`, `has:attachment`, `before:`, `after:`
 * narrow it; a leading `-` negates a term. All terms must hold. Read in one pass, no
 * regular expression over the query.
 *
 * @module
 */

import { HttpError } from "../json.ts";
import { queryTokens } from "../query.ts";

/** One search term; `value` is lower case (a time in milliseconds for before/after). */
export interface SearchTerm {
  readonly field: string;
  readonly value: string;
  readonly negate: boolean;
}

/** The fields a term may name before its `:`. */
const FIELDS = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "message-id",
  "tag",
  "is",
  "has",
  "before",
  "after",
]);

/** Parses a Mailpit query; a bad `is:`, `has:` or date is a 400. */
export function parseSearch(query: string): SearchTerm[] {
  if (query.length > 1000) throw new HttpError(400, `"query" is longer than 1000 characters`);
  const terms: SearchTerm[] = [];
  for (let token of queryTokens(query)) {
    const negate = token.startsWith("-") && token.length > 1;
    if (negate) token = token.slice(1);
    const colon = token.indexOf(":");
    const field = colon > 0 ? token.slice(0, colon).toLowerCase() : "";
    if (!FIELDS.has(field)) {
      terms.push({ field: "text", value: token.toLowerCase(), negate });
      continue;
    }
    let value = token.slice(colon + 1).toLowerCase();
    if (field === "is" && !["read", "unread", "seen", "unseen", "tagged"].includes(value)) {
      throw new HttpError(400, `Unknown search "is:${value}" (use read, unread or tagged)`);
    }
    if (field === "has" && value !== "attachment" && value !== "attachments") {
      throw new HttpError(400, `Unknown search "has:${value}" (use attachment)`);
    }
    if (field === "before" || field === "after") {
      const ms = Date.parse(value.toUpperCase());
      if (Number.isNaN(ms)) throw new HttpError(400, `Cannot read the date in "${token}"`);
      value = String(ms);
    }
    terms.push({ field, value, negate });
  }
  return terms;
}

/** What a term is matched against, lower case; computed only when a term asks for it. */
export interface Searchable {
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
  readonly subject: string;
  readonly messageId: string;
  readonly tags: readonly string[];
  readonly read: boolean;
  readonly created: number;
  attachments(): number;
  /** Whether the headers, subject and decoded text bodies hold `needle` (lower case). */
  textIncludes(needle: string): boolean;
}

function holds(term: SearchTerm, message: Searchable): boolean {
  const { value } = term;
  switch (term.field) {
    case "from":
    case "to":
    case "cc":
    case "bcc":
    case "subject":
      return message[term.field].includes(value);
    case "message-id":
      return message.messageId.replace(/^<|>$/g, "").includes(value.replace(/^<|>$/g, ""));
    case "tag":
      return message.tags.some((tag) => tag.toLowerCase() === value);
    case "is":
      if (value === "tagged") return message.tags.length > 0;
      return (value === "read" || value === "seen") === message.read;
    case "has":
      return message.attachments() > 0;
    case "before":
      return message.created < Number(value);
    case "after":
      return message.created > Number(value);
    default:
      return message.textIncludes(value);
  }
}

/** Whether every term holds (a negated one must not). */
export function matchesSearch(terms: readonly SearchTerm[], message: Searchable): boolean {
  return terms.every((term) => holds(term, message) !== term.negate);
}
