/**
 * Delivery into users' mailboxes, shared by SMTP and the HTTP control plane.
 *
 * @module
 */

import { DAY_NAMES, MONTH_NAMES } from "./mail/dates.ts";
import type { MessageEnvelope, MessageMeta, Store } from "./store/types.ts";

/** One recipient of a delivery. */
export interface Recipient {
  /** The user the recipient routes to. */
  readonly user: string;
  /** The address it was given as (RCPT TO); null when a user is named directly. */
  readonly address: string | null;
}

/** Options for {@linkcode deliver}. */
export interface DeliveryOptions {
  /** Defaults to INBOX. */
  mailbox?: string;
  flags?: readonly string[];
  internalDate?: number;
  /**
   * The reverse-path (MAIL FROM; `""` for `<>`). With it, each copy for an address keeps
   * the envelope `{ from, to: address }`; without it, copies have no envelope.
   */
  envelopeFrom?: string | null;
  /**
   * Prepend `Return-Path:` and `Delivered-To:` to each copy with an envelope, as a
   * delivery agent does at final delivery (RFC 5321 4.4). SMTP does; `/inject` stores the
   * bytes it was given.
   */
  envelopeHeaders?: boolean;
}

/**
 * Appends `raw` to `mailbox` once per distinct recipient, creating the user and the mailbox
 * on first delivery. Returns the stored messages in recipient order.
 *
 * One copy per distinct address, as Postfix with Dovecot LMTP and GreenMail store: `u1@`
 * and `u1+bcc@` are two copies in u1's INBOX, each with its own envelope. The same address
 * twice, in any case, is one copy (the first spelling is kept). Recipients without an
 * address are one copy per user.
 *
 * All or nothing for the user cap: if the users to create do not all fit, nothing is
 * delivered (`user-limit`), so a client that retries later does not deliver twice.
 */
export function deliver(
  store: Store,
  recipients: readonly Recipient[],
  raw: Uint8Array,
  options: DeliveryOptions = {},
): MessageMeta[] {
  const mailbox = options.mailbox ?? "INBOX";
  const copies = distinctRecipients(recipients);
  store.checkUserLimit(copies.map((recipient) => recipient.user));
  const stored: MessageMeta[] = [];
  for (const { user, address } of copies) {
    const envelope: MessageEnvelope | null =
      options.envelopeFrom !== undefined && options.envelopeFrom !== null && address !== null
        ? { from: options.envelopeFrom, to: address }
        : null;
    const bytes = envelope && options.envelopeHeaders ? withEnvelopeHeaders(envelope, raw) : raw;
    store.ensureUser(user);
    if (!store.getMailbox(user, mailbox)) store.createMailbox(user, mailbox);
    stored.push(store.append(user, mailbox, bytes, {
      flags: options.flags,
      internalDate: options.internalDate,
      envelope,
    }));
  }
  return stored;
}

/** One recipient per distinct address (case-insensitive) or, without one, per user. */
function distinctRecipients(recipients: readonly Recipient[]): Recipient[] {
  const seen = new Set<string>();
  return recipients.filter((recipient) => {
    const key = recipient.address === null
      ? `user ${recipient.user}`
      : `address ${recipient.address.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `Return-Path:` with the reverse-path (`<>` for the null one; RFC 5321 4.4) and
 * `Delivered-To:` with the recipient, in the order and form Postfix and Dovecot LMTP write
 * them, before the message's own bytes (which begin with the SMTP server's Received
 * header).
 */
export function withEnvelopeHeaders(envelope: MessageEnvelope, raw: Uint8Array): Uint8Array {
  const headers = new TextEncoder().encode(
    `Return-Path: <${envelope.from}>\r\nDelivered-To: ${envelope.to}\r\n`,
  );
  const out = new Uint8Array(headers.length + raw.length);
  out.set(headers, 0);
  out.set(raw, headers.length);
  return out;
}

/** An RFC 5322 date-time in UTC: `Wed, 25 Nov 2026 07:22:01 +0000`. */
export function formatRfc5322Date(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${DAY_NAMES[d.getUTCDay()]}, ${d.getUTCDate()} ${
    MONTH_NAMES[d.getUTCMonth()]
  } ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
