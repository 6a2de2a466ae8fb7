/**
 * The query language of `GET /messages?q=...` (and `/messages/wait`, `DELETE /messages`), which
 * the web inbox's query box sends as it is: one parser, so the box and the API can never
 * disagree. All terms must hold; a leading `-` negates one.
 *
 * | term                       | holds when                                                 |
 * | -------------------------- | ---------------------------------------------------------- |
 * | `word`, `"quoted phrase"`  | the subject, From, To, Cc or a text body contains it       |
 * | `from:x`                   | From contains x                                            |
 * | `to:x`                     | To or Cc contains x (`to:alice+t1@` finds a tag)           |
 * | `subject:x`                | the decoded Subject contains x                             |
 * | `has:attachment`           | the message lists an attachment (as `/messages/{id}` does) |
 * | `is:read`, `is:unread`     | `\Seen` is set, or not (`is:seen`, `is:unseen` too)        |
 * | `before:D`, `after:D`      | INTERNALDATE before D, or at or after D                    |
 *
 * Matching is case-insensitive. A value may be quoted (`subject:"two words"`). D is a day
 * (`2026-12-03`, midnight UTC) or an ISO 8601 time. Mailpit's search (`compat/
 * mailpit_search.ts`) reads the same syntax with Mailpit's extra fields; this one keeps to
 * what `/messages` has. Read in one pass, no regular expression over the query.
 *
 * @module
 */

import { extractContent } from "../mail/content.ts";
import { hasFlag } from "../store/flags.ts";
import type { MessageMeta, Store } from "../store/types.ts";
import { HttpError } from "./json.ts";

/** One term; `value` is lower case, or a time in milliseconds for before/after. */
export type QueryTerm =
  | {
    readonly kind: "text" | "from" | "to" | "subject";
    readonly value: string;
    readonly negate: boolean;
  }
  | { readonly kind: "has-attachment"; readonly negate: boolean }
  | { readonly kind: "read"; readonly value: boolean; readonly negate: boolean }
  | { readonly kind: "before" | "after"; readonly ms: number; readonly negate: boolean };

/** Longest query read, in characters. */
export const MAX_QUERY_LENGTH = 1000;

/**
 * Splits a query on white space outside double quotes; a quote only groups, it is not kept.
 * Mailpit's search (`compat/mailpit_search.ts`) reads its terms with this too.
 *
 * @example
 * ```ts
 * queryTokens('subject:"two words" -is:read'); // ["subject:two words", "-is:read"]
 * ```
 */
export function queryTokens(query: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let any = false;
  for (const char of query) {
    if (char === '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && (char === " " || char === "\t" || char === "\n" || char === "\r")) {
      if (any) out.push(current);
      current = "";
      any = false;
    } else {
      current += char;
      any = true;
    }
  }
  if (any) out.push(current);
  return out;
}

/** `2026-12-03` (midnight UTC) or an ISO 8601 time, in milliseconds. */
function readDate(text: string, token: string): number {
  const ms = /^\d{4}-\d\d-\d\d(T[0-9:.]+(Z|[+-]\d\d:?\d\d)?)?$/i.test(text)
    ? Date.parse(text.length === 10 ? text + "T00:00:00Z" : text.toUpperCase())
    : NaN;
  if (Number.isNaN(ms)) {
    throw new HttpError(400, `Cannot read the date in "${token}" (use 2026-12-03 or ISO 8601)`);
  }
  return ms;
}

/**
 * Parses a query; an unknown `is:` or `has:` value or a bad date is a 400 naming it. A word
 * with a colon that names no field (`http://x`) is plain text.
 *
 * @example
 * ```ts
 * parseQuery('from:shop subject:"your order" is:unread');
 * ```
 */
export function parseQuery(query: string): QueryTerm[] {
  if (query.length > MAX_QUERY_LENGTH) {
    throw new HttpError(400, `"q" is longer than ${MAX_QUERY_LENGTH} characters`);
  }
  const terms: QueryTerm[] = [];
  for (const token of queryTokens(query)) {
    const negate = token.length > 1 && token.startsWith("-");
    const body = negate ? token.slice(1) : token;
    const colon = body.indexOf(":");
    const field = colon > 0 ? body.slice(0, colon).toLowerCase() : "";
    const value = body.slice(colon + 1).toLowerCase();
    switch (field) {
      case "from":
      case "to":
      case "subject":
        terms.push({ kind: field, value, negate });
        break;
      case "has":
        if (value !== "attachment" && value !== "attachments") {
          throw new HttpError(400, `Unknown query term "${token}" (use has:attachment)`);
        }
        terms.push({ kind: "has-attachment", negate });
        break;
      case "is":
        if (!["read", "unread", "seen", "unseen"].includes(value)) {
          throw new HttpError(400, `Unknown query term "${token}" (use is:read or is:unread)`);
        }
        terms.push({ kind: "read", value: value === "read" || value === "seen", negate });
        break;
      case "before":
      case "after":
        terms.push({ kind: field, ms: readDate(value, token), negate });
        break;
      default:
        terms.push({ kind: "text", value: body.toLowerCase(), negate });
    }
  }
  return terms;
}

/**
 * Whether every term holds for `meta`. `text` says whether the subject and text bodies, lower
 * case, hold a needle; it and the attachment list are asked only when a term needs them.
 */
export function matchesQuery(
  terms: readonly QueryTerm[],
  store: Store,
  meta: MessageMeta,
  text: (needle: string) => boolean,
): boolean {
  const { summary } = meta;
  const lower = (value: string) => value.toLowerCase();
  for (const term of terms) {
    let holds: boolean;
    switch (term.kind) {
      case "from":
        holds = lower(summary.from).includes(term.value);
        break;
      case "to":
        holds = lower(summary.to).includes(term.value) || lower(summary.cc).includes(term.value);
        break;
      case "subject":
        holds = lower(summary.subject).includes(term.value);
        break;
      case "read":
        holds = hasFlag(meta.flags, "\\Seen") === term.value;
        break;
      case "before":
        holds = meta.internalDate < term.ms;
        break;
      case "after":
        holds = meta.internalDate >= term.ms;
        break;
      case "has-attachment":
        holds = hasAttachment(store, meta);
        break;
      case "text":
        holds = lower(summary.from).includes(term.value) ||
          lower(summary.to).includes(term.value) || lower(summary.cc).includes(term.value) ||
          text(term.value);
        break;
    }
    if (holds === term.negate) return false;
  }
  return true;
}

/** Whether `/messages/{id}` would list an attachment. */
function hasAttachment(store: Store, meta: MessageMeta): boolean {
  const index = store.getIndex(meta.user, meta.mailbox, meta.uid);
  const raw = store.getRaw(meta.user, meta.mailbox, meta.uid);
  if (!index || !raw) return false;
  try {
    return extractContent(raw, index.root).attachments.length > 0;
  } finally {
    // Only the count was kept: a SQLite store's read frees its bytes now (`withSearchText`).
    store.releaseRaw?.(raw);
  }
}
