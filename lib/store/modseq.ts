/**
 * Mod-sequences (RFC 7162 3.1.1): every message has a MODSEQ and every mailbox a
 * HIGHESTMODSEQ. Each operation that changes a mailbox (flags, a new message, an expunge, a
 * renumbering rename) takes the mailbox's next value, so the same operations from a fresh
 * start give the same values, as UIDs do. Also the two indexes CONDSTORE and QRESYNC read:
 *
 * - the modseq log, the mailbox's messages in the order their MODSEQ was given, so "changed
 *   since n" costs the changed messages, not the mailbox (built on first use, compacted when
 *   stale entries outnumber live ones);
 * - the vanished ranges, the UIDs expunged from the mailbox with the MODSEQ of their expunge
 *   (RFC 7162 3.2.5.1, 3.2.6): disjoint, ascending ranges; ranges that touch are merged and
 *   keep the higher MODSEQ, so the list stays about as long as the gaps between the
 *   messages left. Kept as long as the mailbox exists. A merged range may report a UID as
 *   vanished since a MODSEQ later than its own expunge: more than needed, which RFC 7162
 *   allows (a client ignores UIDs it does not hold), never less.
 *
 * Functions over the store's records that write through the backend; each must run inside
 * the store's transaction.
 *
 * @module
 */

import type { VanishedRange } from "./persistence.ts";
import type { MailboxRecord, MessageRecord, ModseqLogEntry, StoreState } from "./records.ts";

/**
 * Takes the mailbox's next MODSEQ (its new HIGHESTMODSEQ). Not written as such: the caller
 * writes a row that carries it (a message's MODSEQ, or a vanished range's), and a backend
 * that keeps state derives HIGHESTMODSEQ at open as the highest of those and the mailbox's
 * stored value, which is written only where no row carries the MODSEQ (`mailbox_tree.ts`).
 * A message row's MODSEQ only rises, and one that goes leaves a vanished range at a higher
 * MODSEQ (or, with its mailbox, the name's high-water mark), so the derived value never goes
 * back. That saves a mailbox row write per append and per change.
 */
export function nextModseq(_state: StoreState, mailbox: MailboxRecord): number {
  return ++mailbox.highestModseq;
}

/** Notes in the log that `message` got `modseq` (the caller keeps it in the backend). */
export function logModseq(mailbox: MailboxRecord, message: MessageRecord): void {
  mailbox.modseqLog?.push({ modseq: message.modseq, message });
}

/** Whether a log entry still says the message's MODSEQ (a later one did not replace it). */
function live(mailbox: MailboxRecord, entry: ModseqLogEntry): boolean {
  return entry.message.modseq === entry.modseq &&
    mailbox.byUid.get(entry.message.uid) === entry.message;
}

/** The log, built from the messages on first use and when it holds mostly stale entries. */
function modseqLog(mailbox: MailboxRecord): ModseqLogEntry[] {
  const log = mailbox.modseqLog;
  if (log && log.length <= 2 * mailbox.messages.length + 64) return log;
  const fresh = mailbox.messages.map((message) => ({ modseq: message.modseq, message }));
  // Stable: equal MODSEQs stay in UID order.
  fresh.sort((a, b) => a.modseq - b.modseq);
  mailbox.modseqLog = fresh;
  return fresh;
}

/**
 * The messages whose MODSEQ is above `modseq`, ascending by UID. Costs the entries logged
 * since `modseq` (a binary search finds the first), not the mailbox.
 */
export function changedSince(mailbox: MailboxRecord, modseq: number): MessageRecord[] {
  if (modseq >= mailbox.highestModseq) return [];
  // Every message changed since (a resync from MODSEQ 1, or from before the last change of
  // them all): the messages as they are, already in UID order. Before the log is first
  // needed this spares building it, which sorts the mailbox.
  if (mailbox.modseqLog === null && modseq < lowestModseq(mailbox)) {
    return mailbox.messages.slice();
  }
  const log = modseqLog(mailbox);
  let low = 0;
  let high = log.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (log[mid].modseq <= modseq) low = mid + 1;
    else high = mid;
  }
  const changed: MessageRecord[] = [];
  for (let i = low; i < log.length; i++) {
    if (live(mailbox, log[i])) changed.push(log[i].message);
  }
  return changed.sort((a, b) => a.uid - b.uid);
}

/** The lowest MODSEQ of the mailbox's messages (Infinity for none). */
function lowestModseq(mailbox: MailboxRecord): number {
  let lowest = Infinity;
  const messages = mailbox.messages;
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].modseq < lowest) lowest = messages[i].modseq;
  }
  return lowest;
}

/**
 * Records UIDs (ascending) as expunged at `modseq`, merging them into the mailbox's
 * vanished ranges, and writes the change through the backend.
 */
export function recordVanished(
  state: StoreState,
  mailbox: MailboxRecord,
  uids: readonly number[],
  modseq: number,
): void {
  let i = 0;
  while (i < uids.length) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j] + 1) j++;
    addRange(state, mailbox, { start: uids[i], end: uids[j], modseq });
    i = j + 1;
  }
}

/**
 * Merges the range `range.start..range.end` (expunged, or never given here, at
 * `range.modseq`) into the mailbox's sorted, disjoint, non-touching list.
 */
export function addRange(state: StoreState, mailbox: MailboxRecord, range: VanishedRange): void {
  const list = mailbox.vanished;
  // First range that ends at or after range.start - 1 (it may touch or overlap).
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid].end < range.start - 1) low = mid + 1;
    else high = mid;
  }
  let last = low;
  let { start, end, modseq } = range;
  while (last < list.length && list[last].start <= end + 1) {
    start = Math.min(start, list[last].start);
    end = Math.max(end, list[last].end);
    modseq = Math.max(modseq, list[last].modseq);
    last++;
  }
  const removed = list.slice(low, last).map((r) => r.start);
  const merged = { start, end, modseq };
  list.splice(low, last - low, merged);
  state.persistence.replaceVanished(mailbox.rowId, removed, [merged]);
}

/**
 * The UIDs expunged since `modseq` (exclusive), as ascending inclusive `[low, high]` ranges.
 * Costs the mailbox's vanished ranges.
 */
export function vanishedSince(mailbox: MailboxRecord, modseq: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (modseq >= mailbox.highestModseq) return out;
  for (const range of mailbox.vanished) {
    if (range.modseq > modseq) out.push([range.start, range.end]);
  }
  return out;
}
