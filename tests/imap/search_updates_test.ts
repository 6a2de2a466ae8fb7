/**
 * Kept search results (search_updates.ts, RFC 5267 4) without a socket: a tracker fed store
 * events, and the ADDTO/REMOVEFROM lines written around its flush, as sendUpdates does. Also
 * the CONTEXT=SORT hook: a result with `positionOf` names positions instead of 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ResponseBuilder } from "../../lib/imap/encoder.ts";
import { type LiveResult, LiveResults, MAX_LIVE_RESULTS } from "../../lib/imap/search_updates.ts";
import { MailboxTracker } from "../../lib/imap/tracker.ts";
import type { MessageMeta, StoreEvent } from "../../lib/store/types.ts";

const decoder = new TextDecoder();

function lines(out: ResponseBuilder): string[] {
  return out.takeChunks().map((chunk) => decoder.decode(chunk)).join("").split("\r\n")
    .filter((line) => line !== "");
}

function added(uid: number, mailbox = "INBOX"): StoreEvent {
  return {
    type: "message.added",
    message: { user: "u", mailbox, uid, flags: [] } as unknown as MessageMeta,
  };
}

function flagged(...uids: number[]): StoreEvent {
  const changes = uids.map((uid) => ({ uid, flags: ["\\Flagged"], modseq: 9 }));
  return { type: "flags.changed", user: "u", mailbox: "INBOX", changes };
}

/** What sendUpdates does: REMOVEFROM for expunges, the tracker's flush, then the changes. */
function sync(live: LiveResults, tracker: MailboxTracker, allowExpunge = true): string[] {
  const out = new ResponseBuilder();
  if (allowExpunge) live.writeExpunged(out, tracker);
  for (const update of tracker.flush(allowExpunge)) {
    if (update.type === "expunge") out.push(`* ${update.seq} EXPUNGE\r\n`);
    if (update.type === "exists") out.push(`* ${update.count} EXISTS\r\n`);
  }
  live.writeChanges(out, tracker);
  return lines(out);
}

Deno.test("search_updates: ADDTO and REMOVEFROM by sequence number and by UID, REMOVEFROM before EXPUNGE", () => {
  const tracker = new MailboxTracker("u", "INBOX", [10, 11, 12]);
  const flaggedNow = new Set([11]);
  const matches = (uid: number) => flaggedNow.has(uid);
  const live = new LiveResults();
  const feed = (event: StoreEvent) => (tracker.onEvent(event), live.onEvent(event, tracker));
  assert.ok(live.add({ tag: "s", byUid: false, uids: new Set([11]), matches }));
  assert.ok(live.add({ tag: "u", byUid: true, uids: new Set([11]), matches }));
  flaggedNow.add(12).add(13);
  feed(flagged(12));
  feed(added(13));
  assert.deepEqual(sync(live, tracker), [
    "* 4 EXISTS",
    '* ESEARCH (TAG "s") ADDTO (0 3:4)',
    '* ESEARCH (TAG "u") UID ADDTO (0 12:13)',
  ]);
  // Unflagged and expunged: the expunged one leaves with its old number, before EXPUNGE.
  flaggedNow.delete(11);
  feed(flagged(11));
  feed({ type: "message.expunged", user: "u", mailbox: "INBOX", uids: [12], modseq: 10 });
  // Not while EXPUNGE is held back (FETCH, STORE, SEARCH): only the flag change.
  assert.deepEqual(sync(live, tracker, false), [
    '* ESEARCH (TAG "s") REMOVEFROM (0 2)',
    '* ESEARCH (TAG "u") UID REMOVEFROM (0 11)',
  ]);
  assert.deepEqual(sync(live, tracker), [
    '* ESEARCH (TAG "s") REMOVEFROM (0 3)',
    '* ESEARCH (TAG "u") UID REMOVEFROM (0 12)',
    "* 3 EXPUNGE",
  ]);
  // Another mailbox's events are none of its business; a cancelled result hears nothing.
  feed(added(99, "Other"));
  assert.ok(live.cancel("s"));
  assert.ok(!live.cancel("s"));
  flaggedNow.add(10);
  feed(flagged(10));
  assert.deepEqual(sync(live, tracker), ['* ESEARCH (TAG "u") UID ADDTO (0 10)']);
});

Deno.test("search_updates: the limit, unannounced mail, and the CONTEXT=SORT position hook", () => {
  const live = new LiveResults();
  for (let i = 0; i < MAX_LIVE_RESULTS; i++) {
    assert.ok(live.add({ tag: `t${i}`, byUid: true, uids: new Set(), matches: () => false }));
  }
  assert.ok(!live.add({ tag: "over", byUid: true, uids: new Set(), matches: () => true }));
  assert.equal(live.size, MAX_LIVE_RESULTS);

  // A sorted result (by UID descending here) names each message's position in it.
  const tracker = new MailboxTracker("u", "INBOX", [1, 2]);
  const sorted = new LiveResults();
  const uids = new Set([1, 2]);
  const result: LiveResult = {
    tag: "sort",
    byUid: true,
    uids,
    matches: () => true,
    positionOf: (uid) => [...uids].sort((a, b) => b - a).indexOf(uid) + 1,
  };
  // Message 3 arrived before the search ran but was not announced: tested at the next sync.
  tracker.onEvent(added(3));
  assert.ok(sorted.add(result, [3]));
  assert.deepEqual(sync(sorted, tracker), ["* 3 EXISTS", '* ESEARCH (TAG "sort") UID ADDTO (1 3)']);
  tracker.onEvent({ type: "message.expunged", user: "u", mailbox: "INBOX", uids: [2], modseq: 5 });
  assert.deepEqual(sync(sorted, tracker), [
    '* ESEARCH (TAG "sort") UID REMOVEFROM (2 2)',
    "* 2 EXPUNGE",
  ]);
  // Several at once (RFC 5267 4.3, applied in turn): ADDTO ascending, each its place once
  // inserted; REMOVEFROM descending, each its place before removal. Order now: 5 4 3 1.
  for (const event of [added(4), added(5)]) {
    tracker.onEvent(event);
    sorted.onEvent(event, tracker);
  }
  assert.deepEqual(sync(sorted, tracker), [
    "* 4 EXISTS",
    '* ESEARCH (TAG "sort") UID ADDTO (1 5 2 4)',
  ]);
  tracker.onEvent({
    type: "message.expunged",
    user: "u",
    mailbox: "INBOX",
    uids: [1, 4],
    modseq: 6,
  });
  assert.deepEqual(sync(sorted, tracker), [
    '* ESEARCH (TAG "sort") UID REMOVEFROM (4 1 2 4)',
    "* 1 EXPUNGE",
    "* 2 EXPUNGE",
  ]);
});
