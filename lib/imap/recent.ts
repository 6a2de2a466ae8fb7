/**
 * The UIDs a session reports as `\Recent` (RFC 3501 2.3.2, IMAP4rev1 only). A session claims
 * the messages above a UID all at once -- every message of a freshly loaded mailbox at its
 * SELECT, the new arrivals at each EXISTS -- so the set is kept as those claims (UID
 * intervals over the messages the session knew then) less the UIDs expunged since, not as
 * one entry per message: SELECT of a mailbox of thousands of new messages costs a binary
 * search, not a walk over them.
 *
 * @module
 */

/** A set of UIDs built from claims of "every known UID in (above, upTo]". */
export class RecentUids {
  /** Claimed intervals `[above, upTo]` (exclusive, inclusive), ascending and disjoint. */
  readonly #claims: Array<readonly [number, number]> = [];
  /** Claimed UIDs expunged since. */
  readonly #removed = new Set<number>();
  #size = 0;

  /** How many UIDs are recent. */
  get size(): number {
    return this.#size;
  }

  /**
   * Claims the `count` known UIDs in `(above, upTo]`; every UID in that interval the session
   * will ever see must be among them (UIDs only grow, so a later one is above `upTo`).
   */
  claim(above: number, upTo: number, count: number): void {
    if (count <= 0 || upTo <= above) return;
    const last = this.#claims[this.#claims.length - 1];
    if (last && above < last[1]) throw new Error("Cannot claim recent UIDs below a claim");
    this.#claims.push([above, upTo]);
    this.#size += count;
  }

  /**
   * Whether a UID the session knows is recent. Asked once per message by `FETCH 1:* (FLAGS)`
   * of a rev1 session: no destructuring (V8's interpreter runs it through the iterator
   * protocol) and no set lookup while nothing was removed.
   */
  has(uid: number): boolean {
    const claims = this.#claims;
    // Most sessions have one claim; a few, one per EXISTS that brought new mail.
    for (let i = claims.length - 1; i >= 0; i--) {
      const claim = claims[i];
      if (uid > claim[1]) return false;
      if (uid > claim[0]) return this.#removed.size === 0 || !this.#removed.has(uid);
    }
    return false;
  }

  /**
   * The interval `[above, upTo]` (exclusive, inclusive) that holds exactly the recent UIDs
   * the session knows, when one does (one claim, none expunged since), else null: a loop
   * over thousands of messages then tests two bounds instead of calling `has` each time.
   */
  interval(): readonly [number, number] | null {
    if (this.#removed.size > 0) return null;
    if (this.#claims.length === 0) return [0, 0];
    return this.#claims.length === 1 ? this.#claims[0] : null;
  }

  /** Forgets an expunged UID; true when it was recent. */
  delete(uid: number): boolean {
    if (!this.has(uid)) return false;
    this.#removed.add(uid);
    this.#size--;
    return true;
  }
}
