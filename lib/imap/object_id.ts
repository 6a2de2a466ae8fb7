/**
 * Object identifiers (RFC 8474, OBJECTID): what the IMAP layer adds to the ids the store
 * gives (`MailboxInfo.mailboxId`, `MessageMeta.emailId`).
 *
 * ```abnf
 * fetch-att      =/ "EMAILID" / "THREADID"                      ; RFC 8474 7
 * msg-att-static =/ "EMAILID" SP "(" objectid ")" / "THREADID" SP ("(" objectid ")" / nil)
 * search-key     =/ "EMAILID" SP objectid / "THREADID" SP objectid
 * objectid       = 1*255(ALPHA / DIGIT / "_" / "-")
 * ```
 * EMAILID is `M` and the user's message counter when the message was stored, kept by COPY
 * and MOVE (the same message), so it costs nothing to answer: clients such as imapflow ask
 * for it in every FETCH once OBJECTID is advertised.
 *
 * THREADID is NIL: the server has no thread index (RFC 8474 5.2 lets a server that does not
 * thread answer NIL), so `SEARCH THREADID` matches nothing. Dovecot 2.3 has no OBJECTID at
 * all.
 *
 * @module
 */

/** Whether `text` is an RFC 8474 `objectid`. */
export function isObjectId(text: string): boolean {
  if (text.length === 0 || text.length > 255) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d;
    if (!ok) return false;
  }
  return true;
}
