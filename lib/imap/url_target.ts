/**
 * What an IMAP URL (RFC 5092, parsed by `imap_url.ts`) names in the store: the message or
 * section's bytes, for CATENATE (RFC 4469) and URLFETCH (RFC 4467). Every failure is an
 * {@linkcode UrlTargetError} whose message the callers put beside `[BADURL url]` (or after
 * the URL in URLFETCH's NIL), as Dovecot does.
 *
 * @module
 */

import { MessageIndex } from "../mail/message_index.ts";
import type { Store } from "../store/types.ts";
import type { ImapUrl } from "./imap_url.ts";
import { MessageView } from "./message_view.ts";
import { readFetchAttribute, type Section } from "./parse_fetch.ts";
import { Reader } from "./parser.ts";
import { applyPartial, sectionBytes } from "./sections.ts";

/** The URL names nothing this user can read; the message says why. */
export class UrlTargetError extends Error {
  override name = "UrlTargetError";
}

const encoder = new TextEncoder();

/** What a URL names: its bytes, the message, and the section's part numbers if it is a part. */
export interface UrlTarget {
  readonly bytes: Uint8Array;
  readonly view: MessageView;
  /** The part numbers (`[]`: the whole message); null for HEADER, TEXT and MIME sections. */
  readonly part: readonly number[] | null;
  /** The URL's `;PARTIAL=` as a range (already applied to `bytes`), or null. */
  readonly partial: { readonly offset: number; readonly length: number } | null;
}

/**
 * The bytes `url` names among `owner`'s messages; a relative URL is resolved against
 * `selected` (the session's selected mailbox, or null).
 */
export function urlBytes(
  store: Store,
  owner: string,
  url: ImapUrl,
  selected: string | null,
): Uint8Array {
  return resolveUrl(store, owner, url, selected).bytes;
}

/** As {@linkcode urlBytes}, with the message and part for URLFETCH's BINARY and structure. */
export function resolveUrl(
  store: Store,
  owner: string,
  url: ImapUrl,
  selected: string | null,
): UrlTarget {
  const mailbox = url.mailbox ?? selected;
  if (mailbox === null) {
    throw new UrlTargetError("Mailbox-relative IMAP URL, but no mailbox selected");
  }
  const info = store.getMailbox(owner, mailbox);
  if (!info) throw new UrlTargetError(`Mailbox doesn't exist: ${mailbox}`);
  if (url.uidValidity !== null && url.uidValidity !== info.uidValidity) {
    throw new UrlTargetError("Invalid UIDVALIDITY");
  }
  const raw = store.getRaw(owner, info.name, url.uid);
  if (!raw) throw new UrlTargetError("Message not found");
  const view = new MessageView(
    raw,
    (load) => store.getIndex(owner, info.name, url.uid) ?? new MessageIndex(load()),
  );
  let bytes: Uint8Array = raw;
  let part: readonly number[] | null = [];
  if (url.section !== null) {
    const section = parseSection(url.section);
    const found = sectionBytes(view, section);
    if (!found) throw new UrlTargetError("Message part not found");
    bytes = found;
    part = section.text === null ? section.part : null;
  }
  const partial = url.partial && {
    offset: url.partial.offset,
    length: url.partial.length ?? Number.MAX_SAFE_INTEGER,
  };
  return { bytes: applyPartial(bytes, partial), view, part, partial };
}

/** A URL's section text read as FETCH's `section-spec` (RFC 5092 `isection`). */
export function parseSection(text: string): Section {
  const reader = new Reader({ line: encoder.encode(`BODY[${text}]`), literals: [] });
  try {
    const item = readFetchAttribute(reader);
    reader.end();
    if (item.kind === "BODY" && "section" in item) return item.section;
  } catch {
    // Below: any syntax error is a bad URL.
  }
  throw new UrlTargetError("Invalid section");
}
