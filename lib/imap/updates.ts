/**
 * Unilateral updates of the selected mailbox (RFC 9051 7.5.1, go-imap's `UpdateWriter`): the
 * tracker's queue written as `FLAGS` (new keywords), `EXPUNGE`, `EXISTS` (with `RECENT` for
 * IMAP4rev1), `FETCH (FLAGS ...)` and the ESEARCH updates of kept search results (RFC 5267), and the `\Recent` bookkeeping IMAP4rev1 sessions share per server.
 *
 * @module
 */

import type { MailboxInfo } from "../store/types.ts";
import type { Selection, Session } from "./context.ts";
import { flagList, untagged } from "./encoder.ts";
import { writeNotifications } from "./notify.ts";
import {
  writeExists,
  writeExpunge,
  writeFetchFlags,
  writeFlags,
  writeRecent,
  writeVanished,
} from "./responses.ts";

/**
 * Sends the pending updates of the selected mailbox; EXPUNGE only when `allowExpunge` (not
 * after FETCH, STORE or SEARCH by sequence number). A mailbox deleted under the session ends
 * the connection.
 */
export function sendUpdates(session: Session, allowExpunge: boolean): void {
  // Other mailboxes' NOTIFY events (RFC 5465) go out wherever updates may.
  writeNotifications(session);
  const selection = session.selection;
  if (!selection) return;
  const out = session.out;
  if (selection.tracker.gone) {
    out.push(untagged("BYE Selected mailbox was deleted or reset, have to disconnect"));
    session.close();
    return;
  }
  // First, as Dovecot's sync does: the FETCH responses below may use the new keywords.
  announceKeywords(session);
  const before = selection.tracker.maxUid;
  // RFC 7162 3.2.10: with QRESYNC the expunged UIDs go out as one VANISHED (they come in UID
  // order), before the EXISTS that counts without them.
  const vanished: Array<[number, number]> = [];
  // RFC 5267 4.3, as Dovecot: REMOVEFROM for expunged members, numbered before the EXPUNGEs.
  if (allowExpunge) selection.liveResults?.writeExpunged(out, selection.tracker);
  const updates = selection.tracker.flush(allowExpunge);
  for (const update of updates) {
    if (update.type !== "expunge") {
      writeVanished(out, vanished, false);
      vanished.length = 0;
    }
    if (update.type === "expunge") {
      selection.recent.delete(update.uid);
      if (!session.qresync) writeExpunge(out, update.seq);
      else {
        const last = vanished[vanished.length - 1];
        if (last && last[1] + 1 === update.uid) last[1] = update.uid;
        else vanished.push([update.uid, update.uid]);
      }
    } else if (update.type === "exists") {
      writeExists(out, update.count);
      if (!session.rev2) {
        claimRecent(session, selection, before);
        writeRecent(out, selection.recent.size);
      }
    } else {
      const flags = sessionFlagList(session, update.uid, update.flags);
      writeFetchFlags(out, update.seq, update.uid, flags, session.condstore ? update.modseq : null);
    }
  }
  writeVanished(out, vanished, false);
  // Last: ADDTO and REMOVEFROM use the numbers the EXISTS and EXPUNGE above gave.
  selection.liveResults?.writeChanges(out, selection.tracker);
}

/**
 * RFC 9051 7.3.5: writes `FLAGS` (and `PERMANENTFLAGS`) when keywords new to the session
 * appeared in the selected mailbox, so that no response uses a keyword the client has not
 * been told of. Cheap when nothing changed: call it before any response that reports flags.
 */
export function announceKeywords(session: Session): void {
  const selection = session.selection;
  if (!selection?.tracker.takeKeywordGrowth()) return;
  writeFlags(session.out, selection.tracker.keywords, selection.readOnly);
}

/** A message's flags as the session reports them: with `\Recent` where rev1 sees it so. */
export function sessionFlagList(session: Session, uid: number, flags: readonly string[]): string {
  const recent = !session.rev2 && session.selection !== null && session.selection.recent.has(uid);
  return flagList(flags, recent);
}

/**
 * Marks messages above `previousMax` that no session has seen yet as `\Recent` for this one
 * (RFC 3501 2.3.2); a read-only session reports them without claiming them.
 */
export function claimRecent(session: Session, selection: Selection, previousMax: number): void {
  const key = recentKey(selection.tracker.user, selection.tracker.mailbox);
  const claimed = session.ctx.shared.recentClaims.get(key) ?? 0;
  const floor = Math.max(previousMax, claimed);
  const { tracker } = selection;
  const highest = tracker.maxUid;
  if (highest <= floor) return;
  // UIDs ascend: the newest ones, above what was seen (by this session or another).
  selection.recent.claim(floor, highest, tracker.count - tracker.countAtMost(floor));
  if (!selection.readOnly) session.ctx.shared.recentClaims.set(key, highest);
}

/**
 * STATUS RECENT: messages of the mailbox no session has claimed as `\Recent` yet; for the
 * session's selected mailbox, also those this session reports as `\Recent` (RFC 3501 6.3.10:
 * the messages with the flag set, as the session's own FETCH and SEARCH RECENT see it;
 * Dovecot counts them too).
 */
export function recentCount(session: Session, info: MailboxInfo): number {
  const selection = session.selection;
  const selected = selection !== null && selection.tracker.user === info.user &&
    selection.tracker.mailbox === info.name;
  const claimed = Math.max(
    session.ctx.shared.recentClaims.get(recentKey(info.user, info.name)) ?? 0,
    // What the session knows is its own (recent or not), claimed or not (EXAMINE).
    selected ? selection.tracker.maxUid : 0,
  );
  const own = selected ? selection.recent.size : 0;
  if (claimed >= info.uidNext - 1) return own;
  return own +
    session.ctx.store.listMessages(info.user, info.name).filter((message) => message.uid > claimed)
      .length;
}

function recentKey(user: string, mailbox: string): string {
  return `${user}\u0000${mailbox}`;
}
