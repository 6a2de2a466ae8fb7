import assert from "node:assert/strict";
import type { Session } from "../../lib/imap/context.ts";
import { resolveAmong, resolveRuns, targetsOf } from "../../lib/imap/commands/targets.ts";
import type { SequenceSet } from "../../lib/imap/sequence.ts";
import { MailboxTracker } from "../../lib/imap/tracker.ts";

const set = (...ranges: Array<[number | "*", number | "*"]>): SequenceSet =>
  ranges.map(([start, end]) => ({ start, end }));

/** Just what target resolution reads of a session: the selection's tracker. */
function sessionWith(uids: number[]): Session {
  const tracker = new MailboxTracker("u", "INBOX", uids);
  return { selection: { tracker, savedSearch: [uids[1]] } } as unknown as Session;
}

Deno.test("target runs: the messages the set names, by number and by UID", () => {
  const uids = [1, 2, 3, 5, 8, 9, 10, 14];
  const session = sessionWith(uids);
  const sets: SequenceSet[] = [
    set([1, "*"]),
    set([2, 3], [5, 6], [8, 8]),
    set(["*", 3], [1, 1]),
    "$",
  ];
  const uidSets: SequenceSet[] = [
    ...sets,
    set([4, 4], [6, 7], [20, 30]),
    set([3, 5], [8, 9], [11, 13]),
    set([2, 4], [5, 8]),
  ];
  for (const byUid of [false, true]) {
    for (const target of byUid ? uidSets : sets) {
      const runs = resolveRuns(session, target, byUid);
      // resolveAmong tests each UID for membership: an independent answer.
      assert.deepEqual(targetsOf(runs), resolveAmong(session, target, byUid, uids));
      for (let i = 1; i < runs.runs.length; i++) {
        assert.ok(runs.runs[i][0] > runs.runs[i - 1][1] + 1, "runs apart, ascending");
      }
    }
  }
  assert.deepEqual(resolveRuns(session, set([3, 5], [8, 9]), true).runs, [[3, 6]]);
  assert.throws(() => resolveRuns(session, set([9, 9]), false), /Invalid message sequence/);
  assert.deepEqual(resolveRuns(sessionWith([]), set([1, "*"]), true), { runs: [], uids: [] });
});
