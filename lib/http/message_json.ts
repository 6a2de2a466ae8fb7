/**
 * The listing form of a message, shared by the message routes, the wait route, injection
 * and the event stream (apart so the event hub needs no route module).
 *
 * @module
 */

import type { MessageMeta } from "../store/types.ts";

/** The listing form of a message. */
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
  };
}
