/**
 * Message filters shared by `GET /messages` and `GET /messages/wait`: parsed once from the
 * query (a bad one is a 400 naming it), then matched against a message's metadata first and
 * its decoded text only when `contains` asks for it. The envelope filters are
 * case-insensitive too, and never match a message stored without an envelope.
 *
 * | filter         | matches                                                              |
 * | -------------- | -------------------------------------------------------------------- |
 * | `user`         | the owner (case-insensitive)                                         |
 * | `mailbox`      | the mailbox name (`INBOX` in any case)                               |
 * | `to`           | a substring of To or Cc, case-insensitive (`alice+t1@` finds a tag) |
 * | `from`         | a substring of From, case-insensitive                                |
 * | `envelopeFrom` | a substring of the envelope sender (MAIL FROM); `<>` the null one    |
 * | `envelopeTo`   | a substring of the recipient the copy was delivered for (RCPT TO)    |
 * | `rcpt`         | another name of `envelopeTo`                                         |
 * | `subject`      | a substring of the decoded Subject, case-insensitive                 |
 * | `contains`     | a substring of the Subject, text body or html body, case-insensitive |
 * | `q`            | a query (`from:x is:unread "a phrase"`, see `query.ts`), shared with the web inbox |
 * | `since`        | a message id (same user and mailbox, higher UID), a time (ISO 8601 or epoch milliseconds, INTERNALDATE at or after it), or `now` (wait only: messages that arrive after the request) |
 *
 * @module
 */

import { searchText } from "../mail/search_text.ts";
import { type MessageMeta, parseMessageId, type Store } from "../store/types.ts";
import { canonicalUserName } from "../store/names.ts";
import { HttpError } from "./json.ts";
import { matchesQuery, parseQuery, type QueryTerm } from "./query.ts";

/** Where a filter starts. */
export type Since =
  | { readonly kind: "cursor"; readonly user: string; readonly mailbox: string; uid: number }
  | { readonly kind: "time"; readonly ms: number }
  | { readonly kind: "now" };

/** A parsed filter; null fields match everything. Text fields are lower case. */
export interface MessageFilter {
  readonly user: string | null;
  readonly mailbox: string | null;
  readonly to: string | null;
  readonly from: string | null;
  /** `""` stands for the null reverse-path (`envelopeFrom=<>`). */
  readonly envelopeFrom: string | null;
  readonly envelopeTo: string | null;
  readonly subject: string | null;
  readonly contains: string | null;
  /** The terms of `q`; null without one. */
  readonly query: readonly QueryTerm[] | null;
  readonly since: Since | null;
}

/** The filter names every message query accepts. */
export const FILTER_NAMES = [
  "user",
  "mailbox",
  "to",
  "from",
  "subject",
  "contains",
  "q",
  "since",
  "envelopeFrom",
  "envelopeTo",
  "rcpt",
];

const MAX_FILTER_LENGTH = 1000;

/**
 * Reads the filters from a query. Parameters not in `FILTER_NAMES` or `extra` are a 400, as
 * are empty or repeated values; `since=now` only where `allowNow`.
 */
export function parseMessageFilter(
  params: URLSearchParams,
  options: { extra?: readonly string[]; allowNow?: boolean } = {},
): MessageFilter {
  const allowed = [...FILTER_NAMES, ...(options.extra ?? [])];
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (!allowed.includes(key)) {
      throw new HttpError(400, `Unknown filter "${key}" (use ${allowed.join(", ")})`);
    }
    if (seen.has(key)) throw new HttpError(400, `Filter "${key}" is given twice`);
    seen.add(key);
    if (value === "") throw new HttpError(400, `Empty filter "${key}"`);
    if (value.length > MAX_FILTER_LENGTH) {
      throw new HttpError(400, `Filter "${key}" is longer than ${MAX_FILTER_LENGTH} characters`);
    }
  }
  const text = (key: string) => params.get(key)?.toLowerCase() ?? null;
  let user: string | null = null;
  const userText = params.get("user");
  if (userText !== null) {
    try {
      user = canonicalUserName(userText);
    } catch {
      throw new HttpError(400, `Invalid user filter "${userText}"`);
    }
  }
  const mailbox = params.get("mailbox");
  if (params.has("envelopeTo") && params.has("rcpt")) {
    throw new HttpError(400, `"rcpt" is another name of "envelopeTo": give one of them`);
  }
  const envelopeFrom = text("envelopeFrom");
  const since = parseSince(params.get("since"), options.allowNow ?? false);
  if (since?.kind === "cursor") {
    if (user !== null && user !== since.user) {
      throw new HttpError(400, `"since" names a message of ${since.user}, but "user" is ${user}`);
    }
    if (mailbox !== null && !sameMailbox(since.mailbox, mailbox)) {
      throw new HttpError(400, `"since" names a message in ${since.mailbox}, not ${mailbox}`);
    }
  }
  return {
    user,
    mailbox,
    to: text("to"),
    from: text("from"),
    envelopeFrom: envelopeFrom === "<>" ? "" : envelopeFrom,
    envelopeTo: text("envelopeTo") ?? text("rcpt"),
    subject: text("subject"),
    contains: text("contains"),
    query: params.has("q") ? parseQuery(params.get("q")!) : null,
    since,
  };
}

function parseSince(value: string | null, allowNow: boolean): Since | null {
  if (value === null) return null;
  if (value === "now") {
    if (!allowNow) throw new HttpError(400, `"since=now" only applies to /messages/wait`);
    return { kind: "now" };
  }
  if (/^[0-9]{1,15}$/.test(value)) return { kind: "time", ms: Number(value) };
  const id = parseMessageId(value);
  if (id) {
    try {
      return { kind: "cursor", user: canonicalUserName(id.user), mailbox: id.mailbox, uid: id.uid };
    } catch {
      // not a user name: try it as a date below
    }
  }
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return { kind: "time", ms };
  }
  throw new HttpError(
    400,
    `Cannot read "since": "${value}" is not a message id (user:mailbox:uid), ` +
      `an ISO 8601 time, epoch milliseconds or "now"`,
  );
}

/** Whether a mailbox name is the one a filter names (`INBOX` in any case). */
export function sameMailbox(name: string, filter: string): boolean {
  return name === filter || (name === "INBOX" && filter.toUpperCase() === "INBOX");
}

/** Everything but `contains`: metadata only, no message bytes read. */
export function matchesMeta(filter: MessageFilter, meta: MessageMeta): boolean {
  if (filter.user !== null && meta.user !== filter.user) return false;
  if (filter.mailbox !== null && !sameMailbox(meta.mailbox, filter.mailbox)) return false;
  const { summary } = meta;
  if (
    filter.to !== null && !summary.to.toLowerCase().includes(filter.to) &&
    !summary.cc.toLowerCase().includes(filter.to)
  ) return false;
  if (filter.from !== null && !summary.from.toLowerCase().includes(filter.from)) return false;
  if (!matchesEnvelope(filter, meta)) return false;
  if (filter.subject !== null && !summary.subject.toLowerCase().includes(filter.subject)) {
    return false;
  }
  const since = filter.since;
  if (since?.kind === "time" && meta.internalDate < since.ms) return false;
  if (
    since?.kind === "cursor" &&
    (meta.user !== since.user || !sameMailbox(meta.mailbox, since.mailbox) ||
      meta.uid <= since.uid)
  ) return false;
  return true;
}

/** `envelopeFrom` and `envelopeTo`: a message without an envelope matches neither. */
function matchesEnvelope(filter: MessageFilter, meta: MessageMeta): boolean {
  if (filter.envelopeFrom === null && filter.envelopeTo === null) return true;
  const { envelope } = meta;
  if (envelope === null) return false;
  if (filter.envelopeFrom !== null) {
    const from = envelope.from.toLowerCase();
    if (filter.envelopeFrom === "" ? from !== "" : !from.includes(filter.envelopeFrom)) {
      return false;
    }
  }
  return filter.envelopeTo === null || envelope.to.toLowerCase().includes(filter.envelopeTo);
}

/**
 * The whole filter. `text` gives the message's searchable text in lower case; it is called
 * only when `contains` or a text term of `q` asks for it and the metadata matched, so callers
 * can compute it lazily. `store` gives the message's parts to `q`'s `has:attachment`.
 */
export function matchesMessage(
  filter: MessageFilter,
  meta: MessageMeta,
  text: () => string,
  store: Store,
): boolean {
  if (!matchesMeta(filter, meta)) return false;
  if (filter.contains !== null && !text().includes(filter.contains)) return false;
  return filter.query === null || matchesQuery(filter.query, store, meta, text);
}

/**
 * The text `contains` searches, lower case: Subject, then the decoded text parts (plain and
 * html), from the same cached index and text IMAP SEARCH uses.
 */
export function searchableText(store: Store, meta: MessageMeta): string {
  const index = store.getIndex(meta.user, meta.mailbox, meta.uid);
  if (!index) return "";
  const raw = () => store.getRaw(meta.user, meta.mailbox, meta.uid) ?? new Uint8Array(0);
  return meta.summary.subject.toLowerCase() + "\n" + searchText(index, raw).body;
}

/**
 * Messages matching `filter`, in store order (users in creation order, mailboxes by name
 * with INBOX first, UIDs ascending): the order `/messages/wait` takes the first of.
 * `GET /messages` sorts them (`listing.ts`). Stops after `limit` matches.
 */
export function findMessages(store: Store, filter: MessageFilter, limit = Infinity): MessageMeta[] {
  const out: MessageMeta[] = [];
  if (filter.since?.kind === "now") return out;
  const users = filter.user === null
    ? store.listUsers()
    : store.hasUser(filter.user)
    ? [filter.user]
    : [];
  for (const user of users) {
    for (const mailbox of store.listMailboxes(user)) {
      if (filter.mailbox !== null && !sameMailbox(mailbox.name, filter.mailbox)) continue;
      for (const meta of store.listMessages(user, mailbox.name)) {
        let text: string | undefined;
        const lazyText = () => text ??= searchableText(store, meta);
        if (!matchesMessage(filter, meta, lazyText, store)) continue;
        out.push(meta);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}
