/**
 * A session's view of its selected mailbox: the sequence-number <-> UID map and the queue of
 * unilateral updates (RFC 9051 5.2, 7.5.1) that other sessions' and deliveries' changes
 * cause. The store publishes events; the tracker turns them into `EXISTS`, `EXPUNGE` and
 * `FETCH (FLAGS ...)` at the moments the session allows: never an EXPUNGE during FETCH, STORE
 * or SEARCH, because the client would renumber under its feet.
 *
 * It also keeps the keywords the client has been told of in `FLAGS` (RFC 9051 7.3.5): a
 * keyword that appears in the mailbox from anywhere (another session's STORE, a delivery,
 * APPEND, COPY, MOVE, the HTTP API, or the session's own STORE) makes a new `FLAGS` response
 * due before any response that uses it. As Dovecot does, the list only grows while the
 * mailbox is selected, so a keyword still in use is never dropped from it.
 *
 * @module
 */

import { type FlagChange, HIERARCHY_DELIMITER, type StoreEvent } from "../store/types.ts";

/** An untagged update ready to send, in order. */
export type TrackerUpdate =
  | { readonly type: "expunge"; readonly seq: number; readonly uid: number }
  | { readonly type: "exists"; readonly count: number }
  | {
    readonly type: "flags";
    readonly seq: number;
    readonly uid: number;
    readonly flags: readonly string[];
    /** The message's MODSEQ with these flags (RFC 7162 3.1.4). */
    readonly modseq: number;
  };

/** A flag change not reported yet: the latest flags and MODSEQ. */
interface PendingFlags {
  readonly flags: readonly string[];
  readonly modseq: number;
}

/** The selected-mailbox view of one session. */
export class MailboxTracker {
  readonly user: string;
  #mailbox: string;
  /** UIDs in sequence order (ascending); sequence number = index + 1. */
  #uids: readonly number[];
  /** #uids is still the array the constructor was given (the store's): copied before a change. */
  #borrowed = true;
  /** The EXISTS count the client last heard. */
  #announced: number;
  /** UIDs that arrived and are not in #uids yet. */
  #added: number[] = [];
  /** Expunged UIDs not yet reported. */
  #expunged = new Set<number>();
  /** Latest flags (and MODSEQ) of messages whose change was not yet reported. */
  #flags = new Map<number, PendingFlags>();
  /** Set while the session itself changes flags (see {@linkcode MailboxTracker.ownFlagChange}). */
  #ownChange = false;
  /** Whether the session's own change running may give messages keywords. */
  #ownChangeAddsKeywords = true;
  #gone = false;
  /** Keywords in the client's FLAGS list, in the order they became known; only grows. */
  readonly #keywords: Set<string>;
  /** A keyword was added to #keywords since the last FLAGS response. */
  #keywordsGrew = false;

  /**
   * `uids`: the mailbox's UIDs at SELECT time, ascending, kept as they are and never changed
   * (SELECT passes the store's own list, shared copy-on-write: a copy of a large mailbox's
   * list was measurable in a cold SELECT); the tracker copies it before its first change
   * (new mail; an expunge builds a new list). `keywords`: those in use then (the SELECT's
   * FLAGS response lists them).
   */
  constructor(
    user: string,
    mailbox: string,
    uids: readonly number[],
    keywords: Iterable<string> = [],
  ) {
    this.user = user;
    this.#mailbox = mailbox;
    this.#uids = uids;
    this.#announced = uids.length;
    this.#keywords = new Set(keywords);
  }

  get mailbox(): string {
    return this.#mailbox;
  }

  /** Messages as the client knows them (including expunged ones not yet reported). */
  get count(): number {
    return this.#uids.length;
  }

  /** Whether the mailbox was deleted (or the store reset) under the session. */
  get gone(): boolean {
    return this.#gone;
  }

  /** The UID at a sequence number (1-based), or undefined. */
  uidAt(seq: number): number | undefined {
    return this.#uids[seq - 1];
  }

  /** The sequence number of a UID, or 0 when the client has not heard of it. Binary search. */
  seqOf(uid: number): number {
    let low = 0;
    let high = this.#uids.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.#uids[mid];
      if (value === uid) return mid + 1;
      if (value < uid) low = mid + 1;
      else high = mid - 1;
    }
    return 0;
  }

  /**
   * The sequence numbers of `uids` (0 for one the client has not heard of), in order. UIDs
   * that ascend (a CHANGEDSINCE's messages: every one of a mailbox after a STORE of them all)
   * are found in one walk along with the known ones, not a binary search each: a first
   * resync of 5,000 messages spent 1-2.5 ms in {@linkcode seqOf}'s loop, mostly before V8
   * had compiled it. A UID below the one before is searched for.
   */
  seqsOf(uids: readonly number[]): number[] {
    const known = this.#uids;
    const seqs: number[] = [];
    let k = 0;
    let last = 0;
    for (let i = 0; i < uids.length; i++) {
      const uid = uids[i];
      if (uid < last) {
        seqs.push(this.seqOf(uid));
        continue;
      }
      while (k < known.length && known[k] < uid) k++;
      seqs.push(k < known.length && known[k] === uid ? k + 1 : 0);
      last = uid;
    }
    return seqs;
  }

  /** How many UIDs the client knows are at most `uid`. Binary search. */
  countAtMost(uid: number): number {
    let low = 0;
    let high = this.#uids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#uids[mid] <= uid) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The UIDs at sequence numbers `from` to `to` (1-based, inclusive), as a new array. */
  uidSlice(from: number, to: number): number[] {
    return this.#uids.slice(from - 1, to);
  }

  /** UIDs in sequence order (a copy). */
  uids(): number[] {
    return [...this.#uids];
  }

  /** The largest UID the client knows, or 0. */
  get maxUid(): number {
    return this.#uids.length === 0 ? 0 : this.#uids[this.#uids.length - 1];
  }

  /** The keywords of the mailbox's FLAGS response: those at SELECT, then each new one. */
  get keywords(): ReadonlySet<string> {
    return this.#keywords;
  }

  /**
   * Whether keywords became known since the last call: a FLAGS response listing
   * {@linkcode MailboxTracker.keywords} is due before any response that may use them.
   */
  takeKeywordGrowth(): boolean {
    const grew = this.#keywordsGrew;
    this.#keywordsGrew = false;
    return grew;
  }

  /** Learns the keywords of a message's flags. */
  #learnKeywords(flags: readonly string[]): void {
    for (const flag of flags) {
      if (flag.charCodeAt(0) === 0x5c || this.#keywords.has(flag)) continue;
      this.#keywords.add(flag);
      this.#keywordsGrew = true;
    }
  }

  /** Learns the keywords of changed messages' flags. */
  #learnChanges(changes: readonly FlagChange[]): void {
    // Stored lists are interned, so a large change repeats a few: each is read once.
    for (let i = 0; i < changes.length; i++) {
      const flags = changes[i].flags;
      if (i === 0 || flags !== changes[i - 1].flags) this.#learnKeywords(flags);
    }
  }

  /** Whether `uid` was expunged and the client has not been told yet. */
  isExpunged(uid: number): boolean {
    return this.#expunged.has(uid);
  }

  /** Feeds a store event; events for other mailboxes are ignored. */
  onEvent(event: StoreEvent): void {
    switch (event.type) {
      case "message.added":
        if (event.message.user === this.user && event.message.mailbox === this.#mailbox) {
          this.#added.push(event.message.uid);
          this.#learnKeywords(event.message.flags);
        }
        return;
      case "flags.changed":
        if (event.user !== this.user || event.mailbox !== this.#mailbox) return;
        // Also the session's own change: its FETCH responses use the new keywords too.
        if (!this.#ownChange || this.#ownChangeAddsKeywords) this.#learnChanges(event.changes);
        if (this.#ownChange && this.#flags.size === 0) return;
        for (const change of event.changes) {
          // An own change is not queued, but a pending change from elsewhere to the same
          // message must still be reported (also after .SILENT, RFC 9051 6.4.6), with the
          // flags as they are now.
          if (!this.#ownChange || this.#flags.has(change.uid)) {
            this.#flags.set(change.uid, { flags: change.flags, modseq: change.modseq });
          }
        }
        return;
      case "message.expunged":
        if (event.user !== this.user || event.mailbox !== this.#mailbox) return;
        for (const uid of event.uids) {
          if (this.seqOf(uid) > 0) this.#expunged.add(uid);
          else {
            const pending = this.#added.indexOf(uid);
            if (pending >= 0) this.#added.splice(pending, 1);
          }
          this.#flags.delete(uid);
        }
        return;
      case "mailbox.renamed":
        if (event.user === this.user && event.mailbox === this.#mailbox) {
          this.#mailbox = event.newName;
        } else if (
          event.user === this.user && this.#mailbox.startsWith(event.mailbox + HIERARCHY_DELIMITER)
        ) {
          this.#mailbox = event.newName + this.#mailbox.slice(event.mailbox.length);
        }
        return;
      case "mailbox.deleted":
        if (event.user === this.user && event.mailbox === this.#mailbox) this.#gone = true;
        return;
      case "reset":
        this.#gone = true;
        return;
      default:
        return;
    }
  }

  /**
   * Runs the session's own flag change: its store events are not queued back to this tracker
   * (the session reports its changes itself, or was asked not to with `.SILENT`); a message
   * with a pending change from elsewhere keeps it pending, with the new flags. Store events
   * are synchronous, so only this change's events are treated so.
   *
   * `addsKeywords` false promises that the change only removes flags or sets system flags:
   * its messages then carry no keyword the tracker does not know (it knows every keyword of
   * the mailbox from SELECT on, and learns each new one from the events), so they are not
   * read for new ones: a first `STORE 1:* +FLAGS.SILENT (\Seen)` of thousands of messages
   * ran that read in V8's interpreter.
   */
  ownFlagChange<T>(change: () => T, addsKeywords = true): T {
    this.#ownChange = true;
    this.#ownChangeAddsKeywords = addsKeywords;
    try {
      return change();
    } finally {
      this.#ownChange = false;
      this.#ownChangeAddsKeywords = true;
    }
  }

  /** Forgets pending flag updates for `uids` (the session already reported its own change). */
  dropFlagUpdates(uids: Iterable<number>): void {
    if (this.#flags.size === 0) return;
    for (const uid of uids) this.#flags.delete(uid);
  }

  /**
   * Takes the pending updates the session may send now. With `allowExpunge` false (during
   * FETCH, STORE, SEARCH), expunges stay queued and expunged messages keep their numbers.
   */
  flush(allowExpunge: boolean): TrackerUpdate[] {
    const updates: TrackerUpdate[] = [];
    // Each kind of update in a method of its own: after most commands none is pending, and
    // V8 compiles a method on its first call, so a first SELECT compiles only these checks.
    if (allowExpunge && this.#expunged.size > 0) this.#flushExpunged(updates);
    if (this.#added.length > 0) this.#flushAdded();
    if (this.#uids.length !== this.#announced) {
      this.#announced = this.#uids.length;
      updates.push({ type: "exists", count: this.#announced });
    }
    if (this.#flags.size > 0) this.#flushFlags(updates);
    return updates;
  }

  /** Takes the expunged UIDs out of the view, as EXPUNGE updates numbered as they go. */
  #flushExpunged(updates: TrackerUpdate[]): void {
    const kept: number[] = [];
    let removed = 0;
    for (let i = 0; i < this.#uids.length; i++) {
      const uid = this.#uids[i];
      if (this.#expunged.has(uid)) {
        // Each number is the message's sequence number after the earlier ones went.
        updates.push({ type: "expunge", seq: i + 1 - removed, uid });
        removed++;
      } else kept.push(uid);
    }
    this.#uids = kept;
    this.#borrowed = false;
    this.#announced -= removed;
    this.#expunged.clear();
  }

  /** Adds the UIDs that arrived to the view, in order. */
  #flushAdded(): void {
    this.#added.sort((a, b) => a - b);
    const uids = this.#borrowed ? this.#uids.slice() : this.#uids as number[];
    for (const uid of this.#added) {
      if (uid > (uids.length === 0 ? 0 : uids[uids.length - 1])) uids.push(uid);
    }
    this.#uids = uids;
    this.#borrowed = false;
    this.#added = [];
  }

  /** The pending flag changes of messages in the view, as updates in sequence order. */
  #flushFlags(updates: TrackerUpdate[]): void {
    const changed = [...this.#flags].map(([uid, { flags, modseq }]) => ({
      uid,
      flags,
      modseq,
      seq: this.seqOf(uid),
    }))
      .filter((entry) => entry.seq > 0)
      .sort((a, b) => a.seq - b.seq);
    for (const { uid, flags, modseq, seq } of changed) {
      updates.push({ type: "flags", seq, uid, flags, modseq });
    }
    this.#flags.clear();
  }
}
