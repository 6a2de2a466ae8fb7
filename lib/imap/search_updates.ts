/**
 * Search results kept up to date (CONTEXT=SEARCH, RFC 5267 4): after `SEARCH RETURN (UPDATE)`
 * the session tells the client, unasked, how the result changes as mail arrives, flags change
 * and messages are expunged:
 *
 * ```abnf
 * search-return-data =/ "ADDTO" SP "(" context-position SP sequence-set
 *                       *(SP context-position SP sequence-set) ")" /
 *                       "REMOVEFROM" SP "(" context-position SP sequence-set
 *                       *(SP context-position SP sequence-set) ")"      ; RFC 5267 4.3
 * context-position = number   ; 0 for SEARCH: the result has no order
 * ```
 *
 * As Dovecot 2.3 does:
 * - `* ESEARCH (TAG "t") [UID] REMOVEFROM (0 set)` for the result's messages being expunged,
 *   with their numbers before the EXPUNGE responses that follow (so only where EXPUNGE may
 *   be sent);
 * - after the EXISTS and FETCH updates, the messages that arrived or whose flags changed
 *   (the session's own STORE too) are tested again: `REMOVEFROM` for those that left the
 *   result, then `ADDTO` for those that joined it. Only changed messages are tested, so a
 *   key on sequence numbers keeps the meaning it had when the search ran;
 * - at most {@linkcode MAX_LIVE_RESULTS} per session (Dovecot's limit): past it a search
 *   is answered as usual, without updates, after `* NO [NOUPDATE "tag"]`; a new SELECT or
 *   EXAMINE (a new selection) drops them all.
 *
 * CONTEXT=SORT: a SORT RETURN (UPDATE) registers a {@linkcode LiveResult} with
 * `positionOf`; ADDTO and REMOVEFROM then name each message with its 1-based position in
 * the sorted result instead of 0 (RFC 5267 4.3), one `position number` pair per message,
 * to be applied in the order given, each to the result as the pairs before it left it:
 * ADDTO in ascending position, each the message's position once it is inserted (so also
 * its position in the result after the whole response); REMOVEFROM in descending
 * position, each the message's position before it is removed (so also before the whole
 * response). Nothing here knows how a result is computed or ordered.
 *
 * @module
 */

import type { ResponseBuilder } from "./encoder.ts";
import { quoted, untagged } from "./encoder.ts";
import { formatSequenceSet } from "./sequence.ts";
import type { MailboxTracker } from "./tracker.ts";
import type { StoreEvent } from "../store/types.ts";

/** Most results one session keeps up to date at once (Dovecot: 10). */
export const MAX_LIVE_RESULTS = 10;

/** One result kept up to date. */
export interface LiveResult {
  /** The tag of the command that asked for it (the correlator of its updates). */
  readonly tag: string;
  /** UID SEARCH / UID SORT: updates name UIDs; else sequence numbers. */
  readonly byUid: boolean;
  /** The UIDs in the result now; kept by {@linkcode LiveResults}. */
  readonly uids: Set<number>;
  /** Whether the message with this UID (which exists) belongs to the result now. */
  matches(uid: number): boolean;
  /**
   * The 1-based position of a member in an ordered result (CONTEXT=SORT), after `uids`
   * has been updated; absent for SEARCH, whose positions are 0.
   */
  positionOf?(uid: number): number;
}

/** The results a selection keeps up to date, and the messages changed since the last sync. */
export class LiveResults {
  readonly #results = new Map<string, LiveResult>();
  /** UIDs added or with changed flags, not yet tested again. */
  readonly #dirty = new Set<number>();

  /** Results kept now. */
  get size(): number {
    return this.#results.size;
  }

  /** Whether a result is kept under this tag. */
  has(tag: string): boolean {
    return this.#results.has(tag);
  }

  /**
   * Keeps `result` up to date; false when {@linkcode MAX_LIVE_RESULTS} are kept already.
   * `unannounced`: messages already in the mailbox that the session has not been told of
   * (so the search did not see them); they are tested at the next sync like new mail.
   */
  add(result: LiveResult, unannounced: Iterable<number> = []): boolean {
    if (this.#results.size >= MAX_LIVE_RESULTS) return false;
    this.#results.set(result.tag, result);
    for (const uid of unannounced) this.#dirty.add(uid);
    return true;
  }

  /** CANCELUPDATE: stops updating the result of `tag`; false if there is none. */
  cancel(tag: string): boolean {
    return this.#results.delete(tag);
  }

  /** Notes the messages a store event touched in the tracker's mailbox (after the tracker saw it). */
  onEvent(event: StoreEvent, tracker: MailboxTracker): void {
    if (this.#results.size === 0) return;
    if (event.type === "message.added") {
      const { message } = event;
      if (message.user === tracker.user && message.mailbox === tracker.mailbox) {
        this.#dirty.add(message.uid);
      }
    } else if (event.type === "flags.changed") {
      if (event.user !== tracker.user || event.mailbox !== tracker.mailbox) return;
      for (const change of event.changes) this.#dirty.add(change.uid);
    }
  }

  /**
   * Writes REMOVEFROM for the members the tracker is about to report expunged, numbered as
   * before the expunge. Call right before the EXPUNGE responses are written.
   */
  writeExpunged(out: ResponseBuilder, tracker: MailboxTracker): void {
    for (const result of this.#results.values()) {
      const gone: number[] = [];
      for (const uid of result.uids) if (tracker.isExpunged(uid)) gone.push(uid);
      if (gone.length === 0) continue;
      const entries = gone.map((uid) => ({
        uid,
        number: result.byUid ? uid : tracker.seqOf(uid),
        position: result.positionOf?.(uid) ?? 0,
      }));
      for (const uid of gone) result.uids.delete(uid);
      writeUpdate(out, result, "REMOVEFROM", entries);
    }
  }

  /**
   * Tests the changed messages again and writes REMOVEFROM and ADDTO. Call after the
   * tracker's updates (EXISTS, FETCH) are written, so every number is one the client knows.
   */
  writeChanges(out: ResponseBuilder, tracker: MailboxTracker): void {
    if (this.#dirty.size === 0) return;
    const changed: Array<{ uid: number; seq: number }> = [];
    for (const uid of this.#dirty) {
      const seq = tracker.seqOf(uid);
      // Unknown: expunged before the session heard of it. Expunged but not yet reported:
      // its REMOVEFROM comes with its EXPUNGE.
      if (seq > 0 && !tracker.isExpunged(uid)) changed.push({ uid, seq });
    }
    this.#dirty.clear();
    changed.sort((a, b) => a.seq - b.seq);
    for (const result of this.#results.values()) {
      const left: Array<{ uid: number; number: number }> = [];
      const joined: Array<{ uid: number; number: number }> = [];
      for (const { uid, seq } of changed) {
        const member = result.uids.has(uid);
        if (result.matches(uid) === member) continue;
        (member ? left : joined).push({ uid, number: result.byUid ? uid : seq });
      }
      if (left.length > 0) {
        const entries = left.map((e) => ({ ...e, position: result.positionOf?.(e.uid) ?? 0 }));
        for (const { uid } of left) result.uids.delete(uid);
        writeUpdate(out, result, "REMOVEFROM", entries);
      }
      if (joined.length > 0) {
        for (const { uid } of joined) result.uids.add(uid);
        const entries = joined.map((e) => ({ ...e, position: result.positionOf?.(e.uid) ?? 0 }));
        writeUpdate(out, result, "ADDTO", entries);
      }
    }
  }
}

/**
 * `* ESEARCH (TAG "t") [UID] ADDTO|REMOVEFROM (position set ...)`: entries with position 0
 * (SEARCH) share one set; ordered results (SORT) name each position, ADDTO ascending and
 * REMOVEFROM descending (see the module notes).
 */
function writeUpdate(
  out: ResponseBuilder,
  result: LiveResult,
  kind: "ADDTO" | "REMOVEFROM",
  entries: ReadonlyArray<{ number: number; position: number }>,
): void {
  const unordered = entries.filter((e) => e.position === 0).map((e) => e.number);
  const pairs: string[] = [];
  if (unordered.length > 0) {
    pairs.push(`0 ${formatSequenceSet([...unordered].sort((a, b) => a - b))}`);
  }
  const sign = kind === "ADDTO" ? 1 : -1;
  const ordered = entries.filter((e) => e.position > 0)
    .sort((a, b) => sign * (a.position - b.position));
  for (const e of ordered) pairs.push(`${e.position} ${e.number}`);
  const uid = result.byUid ? " UID" : "";
  out.push(untagged(`ESEARCH (TAG ${quoted(result.tag)})${uid} ${kind} (${pairs.join(" ")})`));
}
