/**
 * NOTIFY (RFC 5465): which events a session asked for, what they owe it, and the untagged
 * responses that pay it: `STATUS` for other mailboxes whose messages changed (RFC 5465 5.2,
 * 5.3, 5.4), `LIST` for created, deleted and renamed mailboxes (5.5) and for subscription
 * changes (5.6), in Dovecot 2.3's forms. The store's change events reach every session
 * through its own subscription (session.ts), which ends with the session.
 *
 * Pending notifications coalesce per mailbox (one STATUS however many messages arrived), so
 * a session owes at most one STATUS per mailbox plus the mailbox-name events; past
 * {@linkcode MAX_PENDING_NOTIFICATIONS} of those it gets `* OK [NOTIFICATIONOVERFLOW]` and its
 * NOTIFY is turned off (RFC 5465 5.8), as if it had sent `NOTIFY NONE`.
 *
 * @module
 */

import { HIERARCHY_DELIMITER, type StoreEvent } from "../store/types.ts";
import type { Session } from "./context.ts";
import { mailboxName, quoted, untagged } from "./encoder.ts";
import type { NotifyEvent, NotifyFilter, NotifyState } from "./notify_state.ts";

export type { NotifyEvent, NotifyFilter, NotifyGroup, NotifyState } from "./notify_state.ts";
export { SUPPORTED_EVENTS } from "./notify_state.ts";

/**
 * Notifications a session may owe at once (mailboxes with a STATUS due plus LIST events):
 * a client that does not read, or one command that runs long while thousands of mailboxes
 * change, cannot make the server keep more than this for it.
 */
export const MAX_PENDING_NOTIFICATIONS = 1000;

/** The events a group asks for `mailbox`, or none. */
function eventsFor(
  session: Session,
  state: NotifyState,
  mailbox: string,
): ReadonlySet<NotifyEvent> | null {
  for (const group of state.groups) {
    if (covers(session, group.filter, mailbox)) return group.events;
  }
  return null;
}

function covers(session: Session, filter: NotifyFilter, mailbox: string): boolean {
  switch (filter.kind) {
    case "personal":
      return true;
    case "inboxes":
      // Mail is delivered to INBOX only.
      return mailbox === "INBOX";
    case "subscribed":
      return session.ctx.store.getMailbox(session.user!, mailbox)?.subscribed ?? false;
    case "mailboxes":
      return filter.names.includes(mailbox);
    case "subtree":
      return filter.names.some((name) =>
        name === "" || mailbox === name || mailbox.startsWith(name + HIERARCHY_DELIMITER)
      );
  }
}

/** Records what a store event owes the session under its NOTIFY SET. */
export function recordNotification(session: Session, event: StoreEvent): void {
  const state = session.notify;
  if (!state || !session.user) return;
  const selected = session.selection?.tracker.mailbox;
  const owe = (mailbox: string, want: NotifyEvent) => {
    // The selected mailbox gets EXISTS, EXPUNGE and FETCH instead (RFC 5465 5.1).
    if (mailbox === selected) return;
    if (eventsFor(session, state, mailbox)?.has(want)) state.dirty.add(mailbox);
  };
  const list = (mailbox: string, want: NotifyEvent, line: () => string) => {
    if (eventsFor(session, state, mailbox)?.has(want)) state.lists.push(line());
  };
  switch (event.type) {
    case "message.added":
      if (event.message.user === session.user) owe(event.message.mailbox, "MessageNew");
      break;
    case "message.expunged":
      if (event.user === session.user) owe(event.mailbox, "MessageExpunge");
      break;
    case "flags.changed":
      if (event.user === session.user) owe(event.mailbox, "FlagChange");
      break;
    case "mailbox.created":
      if (event.user !== session.user) break;
      list(event.mailbox, "MailboxName", () => listLine(session, "()", event.mailbox));
      break;
    case "mailbox.deleted":
      if (event.user !== session.user) break;
      state.dirty.delete(event.mailbox);
      list(event.mailbox, "MailboxName", () => listLine(session, "(\\NonExistent)", event.mailbox));
      break;
    case "mailbox.renamed": {
      if (event.user !== session.user) break;
      if (state.dirty.delete(event.mailbox)) state.dirty.add(event.newName);
      // Either name covered: a client watching a subtree learns where a mailbox went.
      const covered = eventsFor(session, state, event.newName)?.has("MailboxName") ||
        eventsFor(session, state, event.mailbox)?.has("MailboxName");
      if (!covered) break;
      const old = text(mailboxName(event.mailbox, session.utf8));
      state.lists.push(listLine(session, "()", event.newName, ` ("OLDNAME" (${old}))`));
      break;
    }
    case "mailbox.subscribed":
      if (event.user !== session.user) break;
      list(
        event.mailbox,
        "SubscriptionChange",
        () => listLine(session, event.subscribed ? "(\\Subscribed)" : "()", event.mailbox),
      );
      break;
    default:
      break;
  }
  if (state.dirty.size + state.lists.length > MAX_PENDING_NOTIFICATIONS) {
    session.notify = null;
    session.out.push(
      untagged("OK [NOTIFICATIONOVERFLOW] Too many notifications pending: NOTIFY is now off"),
    );
  }
}

/** Writes the notifications owed (LIST first, then STATUS, as they happened per kind). */
export function writeNotifications(session: Session): void {
  const state = session.notify;
  if (!state || (state.dirty.size === 0 && state.lists.length === 0)) return;
  for (const line of state.lists) session.out.push(line);
  state.lists.length = 0;
  for (const mailbox of state.dirty) writeNotifyStatus(session, mailbox);
  state.dirty.clear();
}

/**
 * `* STATUS name (MESSAGES n UIDNEXT n UIDVALIDITY n UNSEEN n)`, as Dovecot 2.3 sends for
 * NOTIFY, with HIGHESTMODSEQ once CONDSTORE is on (RFC 5465 5.2).
 */
export function writeNotifyStatus(session: Session, mailbox: string): void {
  const info = session.ctx.store.getMailbox(session.user!, mailbox);
  if (!info) return;
  const modseq = session.condstore ? ` HIGHESTMODSEQ ${info.highestModseq}` : "";
  session.out.push(
    "* STATUS ",
    mailboxName(info.name, session.utf8),
    ` (MESSAGES ${info.messages} UIDNEXT ${info.uidNext} UIDVALIDITY ${info.uidValidity} ` +
      `UNSEEN ${info.unseen}${modseq})\r\n`,
  );
}

/** The mailboxes `NOTIFY SET STATUS` reports at once: every one a group covers. */
export function coveredMailboxes(session: Session, state: NotifyState): string[] {
  const selected = session.selection?.tracker.mailbox;
  return session.ctx.store.listMailboxes(session.user!).map((info) => info.name).filter(
    (name) => {
      if (name === selected) return false;
      const events = eventsFor(session, state, name);
      return events !== null && (events.has("MessageNew") || events.has("MessageExpunge"));
    },
  );
}

function listLine(session: Session, attributes: string, mailbox: string, extra = ""): string {
  const name = text(mailboxName(mailbox, session.utf8));
  return `* LIST ${attributes} ${quoted(HIERARCHY_DELIMITER)} ${name}${extra}\r\n`;
}

const decoder = new TextDecoder();

/** A mailbox name as written (a literal only for names with CR/LF, which the store refuses). */
function text(encoded: string | Uint8Array): string {
  return typeof encoded === "string" ? encoded : decoder.decode(encoded);
}
