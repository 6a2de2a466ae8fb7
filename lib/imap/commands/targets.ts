/**
 * Turning a sequence set into the selected mailbox's messages, by sequence number or UID
 * (RFC 9051 6.4.8, 9 "sequence-set"), shared by FETCH, STORE, COPY, MOVE and UID EXPUNGE;
 * `$` is the result saved by `SEARCH RETURN (SAVE)` (RFC 5182).
 *
 * @module
 */

import { ImapError, type Selection, type Session } from "../context.ts";
import { resolveSequenceSet, sequenceRanges, type SequenceSet } from "../sequence.ts";

/** A message the command addresses, as the client numbers it. */
export interface Target {
  readonly seq: number;
  readonly uid: number;
}

/** The selection, or BAD when none (the command table already checks the state). */
export function selectionOf(session: Session): Selection {
  if (!session.selection) throw new ImapError("BAD", null, "No mailbox selected");
  return session.selection;
}

/** The selection, or `NO` when it was EXAMINEd: `verb` would change it. */
export function writableSelection(session: Session, verb: string): Selection {
  const selection = selectionOf(session);
  if (selection.readOnly) {
    throw new ImapError("NO", null, `${verb}: the mailbox is read-only (EXAMINE)`);
  }
  return selection;
}

/**
 * The saved search result (RFC 5182 2.1), UIDs ascending, without messages that have left
 * the session's view: expunged messages drop out of `$` once their EXPUNGE is reported.
 */
export function savedUids(selection: Selection): number[] {
  const saved = selection.savedSearch ?? [];
  const present = saved.filter((uid) => selection.tracker.seqOf(uid) > 0);
  if (present.length !== saved.length) selection.savedSearch = present;
  return present;
}

/**
 * Resolves `set` against the session's view. By sequence number, a number past the last
 * message is an error (`BAD`); by UID, UIDs that do not exist are skipped (RFC 9051 6.4.8).
 * One object per message, from {@linkcode resolveRuns}.
 */
export function resolveTargets(session: Session, set: SequenceSet, byUid: boolean): Target[] {
  return targetsOf(resolveRuns(session, set, byUid));
}

/**
 * The messages a command addresses as runs of sequence numbers: `runs` holds ascending,
 * disjoint `[low, high]` runs, and `uids` their UIDs in the same order (the t-th message of
 * the runs is `uids[t]`), so strictly ascending, as UIDs ascend with sequence numbers. For a plain set (not `$`) both come without a step per message:
 * each run is a slice of the session's UIDs, copied natively, so `STORE 1:*` or `FETCH 1:*`
 * of a freshly loaded mailbox does not walk thousands of messages in V8's interpreter before
 * its own loop.
 */
export interface TargetRuns {
  readonly runs: ReadonlyArray<readonly [number, number]>;
  readonly uids: number[];
}

/** What `set` names, as {@linkcode TargetRuns}; checked as {@linkcode resolveTargets} says. */
export function resolveRuns(session: Session, set: SequenceSet, byUid: boolean): TargetRuns {
  const selection = selectionOf(session);
  const { tracker } = selection;
  if (!byUid) checkSequenceNumbers(session, set);
  if (set === "$") {
    // The saved UIDs, by UID or sequence number alike (RFC 5182 2.1); empty when none.
    return runsOf(savedUids(selection).map((uid) => ({ uid, seq: tracker.seqOf(uid) })));
  }
  const count = tracker.count;
  const runs: Array<[number, number]> = [];
  if (count === 0) return { runs, uids: [] };
  for (const [low, high] of sequenceRanges(set, byUid ? tracker.maxUid : count)) {
    // UIDs ascend with sequence numbers: a UID range is a run of sequence numbers.
    const first = byUid ? tracker.countAtMost(low - 1) + 1 : low;
    const last = byUid ? tracker.countAtMost(high) : Math.min(high, count);
    if (first > last) continue;
    const previous = runs[runs.length - 1];
    if (previous && previous[1] + 1 === first) previous[1] = last;
    else runs.push([first, last]);
  }
  const uids = runs.length === 1
    ? tracker.uidSlice(runs[0][0], runs[0][1])
    : runs.flatMap(([low, high]) => tracker.uidSlice(low, high));
  return { runs, uids };
}

/** Targets (ascending by sequence number) as {@linkcode TargetRuns}. */
export function runsOf(targets: readonly Target[]): TargetRuns {
  const runs: Array<[number, number]> = [];
  const uids: number[] = [];
  for (const { seq, uid } of targets) {
    const previous = runs[runs.length - 1];
    if (previous && previous[1] + 1 === seq) previous[1] = seq;
    else runs.push([seq, seq]);
    uids.push(uid);
  }
  return { runs, uids };
}

/** The targets of {@linkcode TargetRuns}, one object per message. */
export function targetsOf({ runs, uids }: TargetRuns): Target[] {
  const targets: Target[] = [];
  for (const [low, high] of runs) {
    for (let seq = low; seq <= high; seq++) targets.push({ seq, uid: uids[targets.length] });
  }
  return targets;
}

/**
 * `BAD` for a sequence number past the last message of the session's view, `*` in an empty
 * mailbox included (RFC 9051 9, the note on seq-number; Dovecot: "Invalid messageset").
 */
function checkSequenceNumbers(session: Session, set: SequenceSet): void {
  if (set === "$") return;
  const count = selectionOf(session).tracker.count;
  for (const range of set) {
    for (const bound of [range.start, range.end]) {
      if (bound === "*" ? count === 0 : bound > count) {
        throw new ImapError(
          "BAD",
          null,
          `Invalid message sequence number: ${bound} (mailbox has ${count})`,
        );
      }
    }
  }
}

/**
 * The messages `set` names among `uids` (ascending: those changed since a MODSEQ), checked
 * as {@linkcode resolveTargets} checks. Costs the UIDs given, not the set or the mailbox:
 * FETCH CHANGEDSINCE on `1:*` of a large mailbox looks only at what changed (RFC 7162 3.1.4).
 */
export function resolveAmong(
  session: Session,
  set: SequenceSet,
  byUid: boolean,
  uids: readonly number[],
): Target[] {
  const selection = selectionOf(session);
  const { tracker } = selection;
  if (!byUid) checkSequenceNumbers(session, set);
  const saved = set === "$" ? savedUids(selection) : undefined;
  const has = resolveSequenceSet(set, byUid ? tracker.maxUid : tracker.count, saved);
  const targets: Target[] = [];
  const seqs = tracker.seqsOf(uids);
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i];
    const seq = seqs[i];
    // Messages the session has not heard of yet have no number: they come with EXISTS.
    if (seq === 0) continue;
    if (set === "$" ? has(uid) : has(byUid ? uid : seq)) targets.push({ seq, uid });
  }
  return targets;
}
