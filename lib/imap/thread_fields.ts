/**
 * What THREAD reads of a message's header (RFC 5256 4): its Message-ID, its parents'
 * (References, else the first of In-Reply-To), its base subject and sent date. Computed
 * once per MIME index and kept in its memo, like the SORT keys.
 *
 * @module
 */

import { baseSubject } from "../mail/base_subject.ts";
import { headerValue } from "../mail/headers.ts";
import type { MessageIndex } from "../mail/message_index.ts";
import { messageIds } from "../mail/message_id.ts";
import { casemap, sortFields } from "./sort.ts";

/** The header-derived data of one message for THREAD. */
export interface ThreadFields {
  readonly messageId: string | null;
  readonly references: readonly string[];
  /** The base subject, case-folded. */
  readonly subject: string;
  readonly replyOrForward: boolean;
  /** The `Date:` instant, or null. */
  readonly date: number | null;
}

const FIELDS = Symbol("thread fields");

/** The THREAD data of a message, computed once per index. */
export function threadFields(index: MessageIndex): ThreadFields {
  return index.memo(FIELDS, () => {
    const fields = index.root.fields;
    const subject = headerValue(fields, "Subject");
    const base = subject === undefined ? null : baseSubject(subject);
    const references = messageIds(headerValue(fields, "References") ?? "");
    const inReplyTo = references.length > 0
      ? []
      : messageIds(headerValue(fields, "In-Reply-To") ?? "").slice(0, 1);
    return {
      messageId: messageIds(headerValue(fields, "Message-ID") ?? "")[0] ?? null,
      references: references.length > 0 ? references : inReplyTo,
      subject: base === null ? "" : casemap(base.subject),
      replyOrForward: base?.replyOrForward ?? false,
      date: sortFields(index).date,
    };
  });
}
