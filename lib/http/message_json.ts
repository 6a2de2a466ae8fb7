/**
 * The listing form of a message, shared by the message routes, the wait route, injection
 * and the event stream (apart so the event hub needs no route module).
 *
 * @module
 */

import type { MessageMeta } from "../store/types.ts";

/**
 * The listing form of a message. `from`, `to` and `cc` are the header fields (`""` when
 * absent); `envelope` is the SMTP envelope the copy was delivered with, `{ from, to }` (`from`
 * is `""` for the null reverse-path), or null for a message stored without one (IMAP APPEND,
 * `/inject` to a user). `modseq` is the message's MODSEQ (RFC 7162), as IMAP reports it.
 */
export function messageJson(meta: MessageMeta): Record<string, unknown> {
  return {
    id: meta.id,
    user: meta.user,
    mailbox: meta.mailbox,
    uid: meta.uid,
    from: meta.summary.from,
    to: meta.summary.to,
    cc: meta.summary.cc,
    subject: meta.summary.subject,
    date: meta.summary.date,
    messageId: meta.summary.messageId,
    internalDate: new Date(meta.internalDate).toISOString(),
    size: meta.size,
    flags: meta.flags,
    modseq: meta.modseq,
    envelope: meta.envelope === null ? null : { from: meta.envelope.from, to: meta.envelope.to },
  };
}
