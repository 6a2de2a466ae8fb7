/**
 * FETCH of items that come from a message's record alone (UID, FLAGS, MODSEQ, RFC822.SIZE,
 * INTERNALDATE): what a client syncing a mailbox asks of every message (`FETCH 1:* (UID
 * FLAGS)`), answered with one response line per message and no per-message item machinery
 * (no view of the message, no section cache, no closures). The answer is the one the general
 * path (commands/fetch.ts) gives; that path handles every other item.
 *
 * @module
 */

import { type AuthedSession, FLUSH_THRESHOLD } from "./context.ts";
import { formatInternalDate } from "./encoder.ts";
import type { FetchAttribute } from "./parse_fetch.ts";
import { announceKeywords, sessionFlagList } from "./updates.ts";

/** Item kinds answered from the message's record. */
const META_KINDS: ReadonlySet<string> = new Set([
  "UID",
  "FLAGS",
  "MODSEQ",
  "RFC822.SIZE",
  "INTERNALDATE",
]);

/** `\Recent` of no message: IMAP4rev2 has none. */
const NO_RECENT = { has: (_uid: number) => false };

/** Whether every item of a FETCH comes from the message's record (none reads its bytes). */
export function recordItemsOnly(items: readonly FetchAttribute[]): boolean {
  for (const item of items) if (!META_KINDS.has(item.kind)) return false;
  return true;
}

/**
 * Writes the FETCH responses of `targets` for record-only `items` (see
 * {@linkcode recordItemsOnly}); returns how many targets no longer exist in the store.
 * Once CONDSTORE is on, a response with FLAGS carries MODSEQ too (RFC 7162 3.1.4).
 */
export async function fetchRecordItems(
  session: AuthedSession,
  mailbox: string,
  targets: ReadonlyArray<{ readonly seq: number; readonly uid: number }>,
  items: readonly FetchAttribute[],
): Promise<number> {
  const { store } = session.ctx;
  const user = session.user;
  const out = session.out;
  const kinds = items.map((item) => item.kind);
  if (
    session.condstore && kinds.includes("FLAGS") && !kinds.includes("MODSEQ")
  ) kinds.push("MODSEQ");
  // The session's work is synchronous from here to the end of a batch: no other session's
  // change can come between the messages, so new keywords are announced once.
  announceKeywords(session);
  let missing = 0;
  const recent = session.rev2 ? NO_RECENT : session.selection?.recent ?? NO_RECENT;
  let lastFlags: readonly string[] | null = null;
  let lastRecent = false;
  let flagsText = "";
  // Record fields are read at once, before the next change (MessageState is live).
  const statesFrom = (first: number) =>
    store.messageStates(user, mailbox, targets.slice(first).map((target) => target.uid));
  let states = statesFrom(0);
  let base = 0;
  for (let t = 0; t < targets.length; t++) {
    const { seq, uid } = targets[t];
    const meta = states[t - base];
    if (!meta) {
      missing++;
      continue;
    }
    let line = `* ${seq} FETCH (`;
    for (let i = 0; i < kinds.length; i++) {
      if (i > 0) line += " ";
      switch (kinds[i]) {
        case "UID":
          line += `UID ${uid}`;
          break;
        case "FLAGS":
          // Runs of messages share one interned list: its text is looked up once a run.
          if (meta.flags !== lastFlags || recent.has(uid) !== lastRecent) {
            lastFlags = meta.flags;
            lastRecent = recent.has(uid);
            flagsText = `FLAGS ${sessionFlagList(session, uid, meta.flags)}`;
          }
          line += flagsText;
          break;
        case "MODSEQ":
          line += `MODSEQ (${meta.modseq})`;
          break;
        case "RFC822.SIZE":
          line += `RFC822.SIZE ${meta.size}`;
          break;
        case "INTERNALDATE":
          line += `INTERNALDATE ${formatInternalDate(meta.internalDate)}`;
          break;
      }
    }
    out.push(line, ")\r\n");
    if (out.length > FLUSH_THRESHOLD) {
      await session.flush();
      if (session.ended) return missing;
      announceKeywords(session);
      // The records are live: read them again after giving other sessions a turn.
      base = t + 1;
      states = statesFrom(base);
    }
  }
  return missing;
}
