/**
 * What CONDSTORE and QRESYNC (RFC 7162) share across commands: enabling them, the
 * selected mailbox's HIGHESTMODSEQ, and UID range sets (the grammar is in `parse_modseq.ts`).
 *
 * A CONDSTORE-enabling command (RFC 7162 3.1: `ENABLE CONDSTORE`, `SELECT/EXAMINE
 * (CONDSTORE)`, `STATUS (HIGHESTMODSEQ)`, FETCH of MODSEQ or with CHANGEDSINCE, STORE with
 * UNCHANGEDSINCE, SEARCH MODSEQ) turns CONDSTORE on for the rest of the connection; used
 * with a mailbox selected, it also sends the mailbox's HIGHESTMODSEQ at once, as Dovecot
 * does. `ENABLE QRESYNC` turns on both.
 *
 * @module
 */

import type { AuthedSession, Session } from "./context.ts";
import { writeHighestModseq } from "./responses.ts";

/** Inclusive `[low, high]` ranges, ascending and disjoint. */
export type Ranges = ReadonlyArray<readonly [number, number]>;

/** The selected mailbox's HIGHESTMODSEQ as the store has it now. */
export function selectedHighestModseq(session: AuthedSession): number {
  const mailbox = session.selection?.tracker.mailbox;
  if (!mailbox) return 0;
  return session.ctx.store.getMailbox(session.user, mailbox)?.highestModseq ?? 0;
}

/**
 * Runs a CONDSTORE-enabling command's part (RFC 7162 3.1): the first one with a mailbox
 * selected also sends `* OK [HIGHESTMODSEQ n]`.
 */
export function enableCondstore(session: AuthedSession): void {
  if (session.condstore) return;
  session.condstore = true;
  if (session.selection) writeHighestModseq(session.out, selectedHighestModseq(session));
}

/** The MODSEQ to put in a FETCH response: the message's, once CONDSTORE is on. */
export function sessionModseq(session: Session, modseq: number): number | null {
  return session.condstore ? modseq : null;
}

/** The parts of `a` that are also in `b` (both ascending, disjoint): a linear merge. */
export function intersectRanges(a: Ranges, b: Ranges): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const low = Math.max(a[i][0], b[j][0]);
    const high = Math.min(a[i][1], b[j][1]);
    if (low <= high) out.push([low, high]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return out;
}
