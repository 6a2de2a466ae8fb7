import assert from "node:assert/strict";
import type { Session } from "../../lib/imap/context.ts";
import { resolveTargets } from "../../lib/imap/commands/targets.ts";
import { expandSequenceSet, type SequenceSet } from "../../lib/imap/sequence.ts";
import { MailboxTracker } from "../../lib/imap/tracker.ts";
import { randomBelow } from "../harness/random.ts";

/** A session with a mailbox of these UIDs selected: all resolveTargets reads. */
function sessionWith(uids: number[]): Session {
  const tracker = new MailboxTracker("u", "INBOX", uids);
  return { selection: { tracker, readOnly: false, savedSearch: null } } as unknown as Session;
}

Deno.test("resolveTargets: one walk agrees with expanding the set, by UID and by number", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const below = randomBelow(seed);
    const uids: number[] = [];
    for (let uid = 1 + below(3), n = below(40); uids.length < n; uid += 1 + below(4)) {
      uids.push(uid);
    }
    const session = sessionWith(uids);
    const bound = (max: number) => below(6) === 0 ? "*" as const : 1 + below(max + 3);
    const set: SequenceSet = Array.from({ length: 1 + below(4) }, () => {
      const max = (uids[uids.length - 1] ?? 0) + 2;
      return { start: bound(max), end: bound(max) };
    });
    const byUid = expandSequenceSet(set, uids, uids[uids.length - 1] ?? 0)
      .map((uid) => ({ seq: uids.indexOf(uid) + 1, uid }));
    assert.deepEqual(resolveTargets(session, set, true), byUid, JSON.stringify({ uids, set }));
    const count = uids.length;
    const numbers = Array.from({ length: count }, (_, i) => i + 1);
    const inRange = set.every(({ start, end }) =>
      (start === "*" || start <= count) && (end === "*" || end <= count)
    );
    if (!inRange || count === 0) continue; // BAD: checked elsewhere
    const bySeq = expandSequenceSet(set, numbers, count).map((seq) => ({
      seq,
      uid: uids[seq - 1],
    }));
    assert.deepEqual(resolveTargets(session, set, false), bySeq, JSON.stringify({ uids, set }));
  }
});
