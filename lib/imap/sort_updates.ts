/**
 * SORT results kept up to date (CONTEXT=SORT, RFC 5267 4): `SORT RETURN (UPDATE ...)` keeps
 * its result in search_updates.ts's {@linkcode LiveResults} like a kept SEARCH, with the
 * same limit, notifications and CANCELUPDATE; what this adds is the order, so that ADDTO
 * and REMOVEFROM carry each message's position in the sorted result (RFC 5267 4.3).
 *
 * A message's sort keys never change (they come from its content, INTERNALDATE and size;
 * ties go by UID, which keeps sequence order through expunges), so the order of the
 * members is recomputed only when the membership changed since it was last computed.
 * The keys of every member are kept here: a member expunged by another session is gone
 * from the store before its REMOVEFROM is written, and its position is still needed.
 *
 * @module
 */

import type { LiveResult } from "./search_updates.ts";
import {
  NO_FIELDS,
  type SortCriterion,
  type SortFields,
  type SortItem,
  sortItems,
} from "./sort.ts";

/** What sorting needs of one message (its `seq` is set when sorting). */
export interface SortEntry {
  readonly item: SortItem;
  /** Null when the criteria need no header fields (ARRIVAL, SIZE). */
  readonly fields: SortFields | null;
}

/** A sorted result kept up to date; registered with `LiveResults.add`. */
export class KeptSort implements LiveResult {
  readonly uids: Set<number>;
  readonly matches: (uid: number) => boolean;
  readonly #criteria: readonly SortCriterion[];
  readonly #lookup: (uid: number) => SortEntry | undefined;
  /** The sort keys of the members (and of former members until the next recompute). */
  readonly #entries = new Map<number, SortEntry>();
  /** 1-based positions of the members, as last computed. */
  #positions = new Map<number, number>();

  /**
   * `sorted`: the result in sort order, as answered; `lookup` reads a message's keys while
   * it exists (for messages that join later).
   */
  constructor(
    readonly tag: string,
    readonly byUid: boolean,
    sorted: readonly SortEntry[],
    matches: (uid: number) => boolean,
    criteria: readonly SortCriterion[],
    lookup: (uid: number) => SortEntry | undefined,
  ) {
    this.matches = matches;
    this.#criteria = criteria;
    this.#lookup = lookup;
    this.uids = new Set(sorted.map((e) => e.item.uid));
    sorted.forEach((entry, i) => {
      this.#entries.set(entry.item.uid, entry);
      this.#positions.set(entry.item.uid, i + 1);
    });
  }

  /** The member's 1-based position in the sorted result as it is now; 0 if unknown. */
  positionOf(uid: number): number {
    if (!this.#current()) this.#recompute();
    return this.#positions.get(uid) ?? 0;
  }

  /** Whether the positions were computed for exactly the members there are now. */
  #current(): boolean {
    if (this.#positions.size !== this.uids.size) return false;
    for (const uid of this.uids) if (!this.#positions.has(uid)) return false;
    return true;
  }

  #recompute(): void {
    const members = [...this.uids].sort((a, b) => a - b);
    for (const uid of [...this.#entries.keys()]) {
      if (!this.uids.has(uid)) this.#entries.delete(uid);
    }
    // Positions in UID order stand in for sequence numbers (the tie-break).
    const items: SortItem[] = [];
    for (const uid of members) {
      let entry = this.#entries.get(uid);
      if (entry === undefined) {
        entry = this.#lookup(uid);
        if (entry === undefined) continue;
        this.#entries.set(uid, entry);
      }
      items.push({ ...entry.item, seq: items.length + 1 });
    }
    const sorted = sortItems(
      items,
      this.#criteria,
      (item) => this.#entries.get(item.uid)?.fields ?? NO_FIELDS,
    );
    this.#positions = new Map(sorted.map((item, i) => [item.uid, i + 1]));
  }
}

/** Whether sorting by `criteria` reads header fields (all but ARRIVAL and SIZE do). */
export function needsFields(criteria: readonly SortCriterion[]): boolean {
  return criteria.some(({ key }) => key !== "ARRIVAL" && key !== "SIZE");
}
