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

import type { MessageIndex } from "../mail/message_index.ts";
import { type SearchText, searchText } from "../mail/search_text.ts";
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
 * The whole filter. `text` says whether the message's searchable text (`searchableText`)
 * holds a lower-case needle; it is asked only when `contains` or a text term of `q` asks and
 * the metadata matched, so callers can read the message lazily (a {@linkcode MessageText}).
 * `store` gives the message's parts to `q`'s `has:attachment`.
 */
export function matchesMessage(
  filter: MessageFilter,
  meta: MessageMeta,
  text: (needle: string) => boolean,
  store: Store,
): boolean {
  if (!matchesMeta(filter, meta)) return false;
  if (filter.contains !== null && !text(filter.contains)) return false;
  return filter.query === null || matchesQuery(filter.query, store, meta, text);
}

/**
 * One message's searchable text (`searchableText`) for the needles of one filter or of the
 * waiters one new message is offered to, without building it: the Subject, then the text
 * bodies searched as the bytes they are (`SearchText.bodyIncludes`; building the lower-cased
 * text of each message made a `contains=` over 5,000 messages of 21 KB take over a second).
 * The message is read at most once, on the first needle that needs its bytes, and
 * {@linkcode MessageText.release} gives a SQLite store's read back.
 */
export class MessageText {
  readonly #store: Store;
  readonly #meta: MessageMeta;
  #text: SearchText | null | undefined;
  #read: Uint8Array | null = null;
  #whole: string | undefined;

  constructor(store: Store, meta: MessageMeta) {
    this.#store = store;
    this.#meta = meta;
  }

  /** Whether the text holds `needle` (lower case). */
  readonly includes = (needle: string): boolean => {
    // Across the Subject and the body, or across body parts (joined by LF): the whole text.
    if (needle.includes("\n")) return (this.#whole ??= this.#wholeText()).includes(needle);
    if (this.#meta.summary.subject.toLowerCase().includes(needle)) return true;
    const text = this.#searchText();
    return text === null ? needle.length === 0 : text.bodyIncludes(needle);
  };

  /** Gives back the bytes read, if the store made them for the read. */
  release(): void {
    if (this.#read !== null) this.#store.releaseRaw?.(this.#read);
    this.#read = null;
    this.#text = undefined;
  }

  #wholeText(): string {
    const text = this.#searchText();
    return text === null ? "" : this.#meta.summary.subject.toLowerCase() + "\n" + text.body;
  }

  #searchText(): SearchText | null {
    if (this.#text !== undefined) return this.#text;
    const { user, mailbox, uid } = this.#meta;
    const index = this.#store.getIndex(user, mailbox, uid);
    const raw = () => this.#read ??= this.#store.getRaw(user, mailbox, uid) ?? new Uint8Array(0);
    return this.#text = index ? searchText(index, raw) : null;
  }
}

/**
 * The text `contains` searches, lower case: Subject, then the decoded text parts (plain and
 * html), from the same cached index and text IMAP SEARCH uses.
 */
export function searchableText(store: Store, meta: MessageMeta): string {
  const index = store.getIndex(meta.user, meta.mailbox, meta.uid);
  if (!index) return "";
  return meta.summary.subject.toLowerCase() + "\n" +
    withSearchText(store, meta, index, (text) => text.body);
}

/**
 * `use` applied to the message's search text (`searchText`, from its cached index); bytes it
 * read from a store that makes them for each read (SQLite) are given back after it
 * (`Store.releaseRaw`): a search of every message otherwise left each one's bytes to a later
 * collection. `use` must keep no view of them (strings are copies).
 */
export function withSearchText<T>(
  store: Store,
  meta: MessageMeta,
  index: MessageIndex,
  use: (text: SearchText) => T,
): T {
  const reads: Uint8Array[] = [];
  const raw = () => {
    const bytes = store.getRaw(meta.user, meta.mailbox, meta.uid) ?? new Uint8Array(0);
    reads.push(bytes);
    return bytes;
  };
  try {
    return use(searchText(index, raw));
  } finally {
    for (const bytes of reads) store.releaseRaw?.(bytes);
  }
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
        let text: MessageText | undefined;
        const includes = (needle: string) =>
          (text ??= new MessageText(store, meta)).includes(needle);
        const matches = matchesMessage(filter, meta, includes, store);
        text?.release();
        if (!matches) continue;
        out.push(meta);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}
