/**
 * What CONDSTORE and QRESYNC (RFC 7162) share across commands: enabling them, the
 * mod-sequence grammar, and the selected mailbox's HIGHESTMODSEQ.
 *
 * ```abnf
 * mod-sequence-value  = 1*DIGIT   ; positive unsigned 63-bit integer     RFC 7162 7
 * mod-sequence-valzer = "0" / mod-sequence-value
 * ```
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
import type { Reader } from "./parser.ts";
import { writeHighestModseq } from "./responses.ts";

/** Inclusive `[low, high]` ranges, ascending and disjoint. */
export type Ranges = ReadonlyArray<readonly [number, number]>;

/** Mod-sequences past this are read as this: no MODSEQ this server gives comes near it. */
const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;

/**
 * Reads `mod-sequence-value` (or, with `zero`, `mod-sequence-valzer`). Values beyond what a
 * JavaScript number holds exactly are above every MODSEQ there is, and read as the largest.
 *
 * @example
 * ```ts
 * readModSequence(reader, false); // 12 on "12"; BAD on "0"
 * ```
 */
export function readModSequence(reader: Reader, zero: boolean): number {
  const start = reader.position;
  let digits = 0;
  while (reader.peek() >= "0" && reader.peek() <= "9") {
    reader.expect(reader.peek());
    digits++;
  }
  const text = reader.slice(start, reader.position);
  if (digits === 0) throw reader.error("Expected a mod-sequence");
  if (digits > 19 || BigInt(text) > 0x7fff_ffff_ffff_ffffn) {
    throw reader.error(`Mod-sequence out of range: ${text}`);
  }
  const value = Math.min(Number(text), MAX_MODSEQ);
  if (value === 0 && !zero) throw reader.error("Mod-sequence must be positive");
  return value;
}

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
