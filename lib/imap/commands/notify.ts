/**
 * NOTIFY (RFC 5465): `NOTIFY SET` replaces the session's event groups, `NOTIFY NONE` drops
 * them. What they make the session send is in `../notify.ts`.
 *
 * ```abnf
 * notify           = "NOTIFY" SP (notify-set / notify-none)         ; RFC 5465 8
 * notify-set       = "SET" [status-indicator] SP event-groups
 * status-indicator = SP "STATUS"
 * notify-none      = "NONE"
 * event-groups     = event-group *(SP event-group)
 * event-group      = "(" filter-mailboxes SP events ")"
 * filter-mailboxes = "selected" / "selected-delayed" / "inboxes" / "personal" / "subscribed"
 *                    / ("subtree" SP one-or-more-mailbox) / ("mailboxes" SP one-or-more-mailbox)
 * one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
 * events           = ( "(" event *(SP event) ")" ) / "NONE"
 * event            = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) / "MessageExpunge"
 *                    / "FlagChange" / "AnnotationChange" / "MailboxName"
 *                    / "SubscriptionChange" / "MailboxMetadataChange"
 *                    / "ServerMetadataChange" / atom
 * resp-text-code   =/ "NOTIFICATIONOVERFLOW" / "BADEVENT" SP "(" event *(SP event) ")"
 * ```
 *
 * Errors as Dovecot 2.3 gives them: `MessageNew` without `MessageExpunge` (or the reverse),
 * `FlagChange` without both, a second selected filter and an unknown event name are `BAD`;
 * a known event this server does not notify (AnnotationChange, the METADATA ones) is
 * `NO [BADEVENT (...)]` (RFC 5465 8's form; Dovecot leaves out the parentheses).
 *
 * @module
 */

import { AUTHED, type AuthedCommandSpec, ImapError } from "../context.ts";
import {
  coveredMailboxes,
  type NotifyEvent,
  type NotifyFilter,
  type NotifyGroup,
  type NotifyState,
  SUPPORTED_EVENTS,
  writeNotifyStatus,
} from "../notify.ts";
import type { Reader } from "../parser.ts";
import { readFetchAttributes } from "../parse_fetch.ts";

/** RFC 5465 events this server knows but does not notify: NO [BADEVENT]. */
const UNSUPPORTED_EVENTS = ["AnnotationChange", "MailboxMetadataChange", "ServerMetadataChange"];

export const NOTIFY_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["NOTIFY", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["NOTIFY"],
    run(session, reader) {
      reader.sp();
      const word = reader.readAtom().toUpperCase();
      if (word === "NONE") {
        reader.end();
        session.notify = null;
        return;
      }
      if (word !== "SET") throw new ImapError("BAD", null, "NOTIFY takes SET or NONE");
      reader.sp();
      const status = reader.tryKeyword("STATUS");
      if (status) reader.sp();
      const state = readEventGroups(session.utf8, reader);
      reader.end();
      session.notify = state;
      // RFC 5465 3: STATUS now for every mailbox the groups cover, but the selected one.
      if (status) {
        for (const name of coveredMailboxes(session, state)) writeNotifyStatus(session, name);
      }
    },
  }],
];

function readEventGroups(utf8: boolean, reader: Reader): NotifyState {
  let selected: ReadonlySet<NotifyEvent> | null = null;
  let selectedDelayed = false;
  let selectedSeen = false;
  let fetchAtts: string | null = null;
  const groups: NotifyGroup[] = [];
  const unsupported: string[] = [];
  do {
    reader.expect("(");
    const kind = reader.readAtom().toLowerCase();
    let filter: NotifyFilter | null = null;
    switch (kind) {
      case "selected":
      case "selected-delayed":
        if (selectedSeen) throw new ImapError("BAD", null, "Duplicate selected filter");
        selectedSeen = true;
        selectedDelayed = kind === "selected-delayed";
        break;
      case "inboxes":
      case "personal":
      case "subscribed":
        filter = { kind };
        break;
      case "subtree":
      case "mailboxes":
        reader.sp();
        filter = { kind, names: readMailboxes(utf8, reader) };
        break;
      default:
        throw new ImapError("BAD", null, `Unknown NOTIFY filter: ${kind}`);
    }
    reader.sp();
    const fetch = { atts: null as string | null };
    const events = readEvents(reader, unsupported, fetch);
    reader.expect(")");
    if (filter) groups.push({ filter, events });
    else {
      selected = events;
      fetchAtts = fetch.atts;
    }
  } while (reader.maybeSp());
  if (unsupported.length > 0) {
    throw new ImapError("NO", `BADEVENT (${unsupported.join(" ")})`, "Unsupported NOTIFY events");
  }
  return { selected, selectedDelayed, fetchAtts, groups, dirty: new Set(), lists: [] };
}

/**
 * MessageNew's `(fetch-att ...)`, as text to run as a UID FETCH for each new message. Items
 * that would set `\Seen` are refused: a notification must not change the mailbox (use
 * BODY.PEEK).
 */
function readNewMessageAtts(reader: Reader): string {
  const start = reader.position;
  const items = readFetchAttributes(reader);
  for (const item of items) {
    const reads = item.kind === "RFC822" || item.kind === "RFC822.TEXT" ||
      ((item.kind === "BODY" || item.kind === "BINARY") && "peek" in item && !item.peek);
    if (reads) {
      throw new ImapError(
        "BAD",
        null,
        "MessageNew fetch attributes must not set \\Seen (use .PEEK)",
      );
    }
  }
  return reader.slice(start, reader.position);
}

function readMailboxes(utf8: boolean, reader: Reader): string[] {
  if (reader.peek() !== "(") return [reader.readMailbox(utf8)];
  reader.expect("(");
  const names: string[] = [];
  do names.push(reader.readMailbox(utf8)); while (reader.maybeSp());
  reader.expect(")");
  return names;
}

/** `events`: a parenthesized list or NONE; unsupported known events are collected. */
function readEvents(
  reader: Reader,
  unsupported: string[],
  fetch: { atts: string | null },
): ReadonlySet<NotifyEvent> {
  const events = new Set<NotifyEvent>();
  if (reader.tryKeyword("NONE")) return events;
  reader.expect("(");
  do {
    const name = reader.readAtom();
    const known = SUPPORTED_EVENTS.find((event) => event.toLowerCase() === name.toLowerCase());
    if (known) {
      events.add(known);
      // RFC 5465 5.2: attributes to FETCH for new messages in the selected mailbox.
      if (known === "MessageNew" && reader.maybeSp()) {
        if (reader.peek() === "(") fetch.atts = readNewMessageAtts(reader);
        else reader.unread(1);
      }
    } else if (UNSUPPORTED_EVENTS.some((event) => event.toLowerCase() === name.toLowerCase())) {
      unsupported.push(name);
    } else throw new ImapError("BAD", null, `Unknown NOTIFY event: ${name}`);
  } while (reader.maybeSp());
  reader.expect(")");
  if (events.has("MessageNew") !== events.has("MessageExpunge")) {
    throw new ImapError("BAD", null, "MessageNew and MessageExpunge must be together");
  }
  if (events.has("FlagChange") && !events.has("MessageNew")) {
    throw new ImapError("BAD", null, "FlagChange requires MessageNew and MessageExpunge");
  }
  return events;
}
