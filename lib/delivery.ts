/**
 * Delivery into users' mailboxes, shared by SMTP and the HTTP control plane.
 *
 * @module
 */

import { DAY_NAMES, MONTH_NAMES, utcFields } from "./mail/dates.ts";
import { allocateShared } from "./mail/shared_bytes.ts";
import { ByteSlab } from "./net/byte_slab.ts";
import { type MessageEnvelope, type MessageMeta, type Store, StoreError } from "./store/types.ts";

/** One recipient of a delivery. */
export interface Recipient {
  /** The user the recipient routes to. */
  readonly user: string;
  /** The address it was given as (RCPT TO); null when a user is named directly. */
  readonly address: string | null;
}

/**
 * A message as SMTP receives it: the trace header the server adds (`head`, text) and the
 * data as the framer cut it (`size` bytes in `parts`, views of the input). Each copy is
 * joined from them once, with its envelope headers in front, into bytes the store keeps as
 * they are.
 */
export interface ReceivedMessage {
  readonly head: string;
  readonly parts: readonly Uint8Array[];
  readonly size: number;
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
  /** The SMTP client's HELO/EHLO name, kept in each copy's envelope. */
  envelopeHelo?: string;
  /**
   * Prepend `Return-Path:` and `Delivered-To:` to each copy with an envelope, as a
   * delivery agent does at final delivery (RFC 5321 4.4). SMTP does; `/inject` stores the
   * bytes it was given.
   */
  envelopeHeaders?: boolean;
  /**
   * Where the copies of a message as SMTP received it are cut from (absent: an array each).
   * A slab shared by many messages is one `ArrayBuffer` allocation for dozens of them; a
   * message the store keeps holds its slab alive, so only small ones are cut from it (see
   * {@linkcode SLAB_MESSAGE_MAX}).
   */
  slab?: ByteSlab;
}

/**
 * The largest copy cut from a {@linkcode DeliveryOptions.slab}: what a slab can keep alive
 * beyond the messages in it is bounded by its size, and a large message is one allocation
 * among many copies of its bytes anyway.
 */
export const SLAB_MESSAGE_MAX = 16 * 1024;

/**
 * Slabs of `size` bytes to cut delivered messages from ({@linkcode DeliveryOptions.slab}),
 * and to make larger ones' arrays: in shared memory when the store keeps the bytes it is
 * given (the memory store: lib/mail/shared_bytes.ts), ordinary arrays otherwise.
 */
export function messageSlab(size: number, store: Pick<Store, "kind">): ByteSlab {
  return store.kind === "memory" ? new ByteSlab(size, allocateShared) : new ByteSlab(size);
}

/**
 * Appends `raw` (bytes, or a message as SMTP received it) to `mailbox` once per distinct
 * recipient, creating the user and the mailbox
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
  raw: Uint8Array | ReceivedMessage,
  options: DeliveryOptions = {},
): MessageMeta[] {
  const mailbox = options.mailbox ?? "INBOX";
  const copies = distinctRecipients(recipients);
  // One copy (nearly every delivery): its append checks the one user it may create, before
  // anything is stored, so there is nothing to check ahead.
  if (copies.length > 1) store.checkUserLimit(copies.map((recipient) => recipient.user));
  const stored: MessageMeta[] = [];
  for (const { user, address } of copies) {
    const envelope: MessageEnvelope | null =
      options.envelopeFrom !== undefined && options.envelopeFrom !== null && address !== null
        ? (options.envelopeHelo === undefined
          ? { from: options.envelopeFrom, to: address }
          : { from: options.envelopeFrom, to: address, helo: options.envelopeHelo })
        : null;
    const head = envelope && options.envelopeHeaders ? envelopeHeaders(envelope) : "";
    // Bytes made here for this copy alone are handed over to the store; `raw` given as
    // bytes is the caller's, and shared by the copies.
    const transfer = head !== "" || !(raw instanceof Uint8Array);
    // The two heads are written one after the other, not joined: a joined head was a string
    // of its own, and a copy of it when read char by char, for every message.
    const bytes = raw instanceof Uint8Array
      ? (head === "" ? raw : joinBytes(head, "", [raw], raw.length))
      : joinBytes(head, raw.head, raw.parts, raw.size, options.slab);
    const appendOptions = {
      flags: options.flags,
      internalDate: options.internalDate,
      envelope,
      transfer,
    };
    try {
      stored.push(store.append(user, mailbox, bytes, appendOptions));
    } catch (error) {
      // First delivery to the user or the mailbox: create them (append creates the user).
      if (!(error instanceof StoreError) || error.kind !== "no-such-mailbox") throw error;
      store.createMailbox(user, mailbox);
      stored.push(store.append(user, mailbox, bytes, appendOptions));
    }
  }
  return stored;
}

/** One recipient per distinct address (case-insensitive) or, without one, per user. */
function distinctRecipients(recipients: readonly Recipient[]): readonly Recipient[] {
  // One recipient (the usual message) is distinct already.
  if (recipients.length <= 1) return recipients;
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
  return joinBytes(envelopeHeaders(envelope), "", [raw], raw.length);
}

function envelopeHeaders(envelope: MessageEnvelope): string {
  return `Return-Path: <${envelope.from}>\r\nDelivered-To: ${envelope.to}\r\n`;
}

/**
 * `head` and `head2` in UTF-8, then the bytes of `parts` (`size` in all), in one new array
 * (made as `slab` makes its arrays, when there is one), or a new region of `slab` when the
 * message is small. The heads are header text, nearly always ASCII, which is written here
 * without an encoder call.
 */
function joinBytes(
  head: string,
  head2: string,
  parts: readonly Uint8Array[],
  size: number,
  slab?: ByteSlab,
): Uint8Array {
  const length = head.length + head2.length + size;
  let out = slab === undefined
    ? new Uint8Array(length)
    : length <= SLAB_MESSAGE_MAX
    ? slab.region(length)
    : slab.own(length);
  let offset = writeAscii(out, 0, head);
  if (offset >= 0) offset = writeAscii(out, offset, head2);
  if (offset < 0) {
    // UTF-8 needs the encoder and a longer array. (A region taken from a slab is left
    // unused: a head that is not ASCII is rare.)
    const encoded = new TextEncoder().encode(head + head2);
    out = slab === undefined
      ? new Uint8Array(encoded.length + size)
      : slab.own(encoded.length + size);
    out.set(encoded);
    offset = encoded.length;
  }
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Copies `text` char by char into `out` from `offset` (one pass); returns the offset after
 * it, or -1 when it is not ASCII.
 */
function writeAscii(out: Uint8Array, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    out[offset + i] = code;
  }
  return offset + text.length;
}

/** An RFC 5322 date-time in UTC: `Wed, 25 Nov 2026 07:22:01 +0000`. */
export function formatRfc5322Date(ms: number): string {
  const d = utcFields(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${DAY_NAMES[d.weekday]}, ${d.day} ${MONTH_NAMES[d.month - 1]} ${d.year} ` +
    `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)} +0000`;
}
