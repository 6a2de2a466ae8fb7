/**
 * What a session's NOTIFY SET (RFC 5465) holds: types only (and the event list), so the
 * session type in `context.ts` can name it without importing `notify.ts`, which works on
 * sessions.
 *
 * @module
 */

/** The events Elektromail can notify (RFC 5465 5). */
export const SUPPORTED_EVENTS = [
  "MessageNew",
  "MessageExpunge",
  "FlagChange",
  "MailboxName",
  "SubscriptionChange",
] as const;
export type NotifyEvent = typeof SUPPORTED_EVENTS[number];

/** RFC 5465 6: the mailboxes an event group covers. */
export type NotifyFilter =
  | { readonly kind: "inboxes" | "personal" | "subscribed" }
  | { readonly kind: "subtree" | "mailboxes"; readonly names: readonly string[] };

export interface NotifyGroup {
  readonly filter: NotifyFilter;
  readonly events: ReadonlySet<NotifyEvent>;
}

/** A session's NOTIFY SET, and what it owes. */
export interface NotifyState {
  /** Events for the selected mailbox (SELECTED or SELECTED-DELAYED); null: not asked. */
  readonly selected: ReadonlySet<NotifyEvent> | null;
  /** SELECTED-DELAYED: expunges wait for a command that allows them. */
  readonly selectedDelayed: boolean;
  /** MessageNew's `(fetch-att ...)` for the selected mailbox (RFC 5465 5.2), or null. */
  readonly fetchAtts: string | null;
  readonly groups: readonly NotifyGroup[];
  /** Mailboxes whose STATUS is due, in the order they changed. */
  readonly dirty: Set<string>;
  /** LIST responses due. */
  readonly lists: string[];
}
