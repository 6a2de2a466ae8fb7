/**
 * A budget of octets held at once by all the connections of a listener: message data received
 * and not yet handed to the store (SMTP DATA). Each connection is bound by the message size limit
 * and the per-address connection share, but nothing bound them together: 150 connections from one
 * address each holding 25 MiB of unfinished DATA took a fresh server to 3 GB (hostile-client audit,
 * round 34). Past the budget a transaction's data is read and dropped, and it is refused at its
 * end with a transient error, so the client retries later.
 *
 * @module
 */

/** Octets reserved against a shared bound. */
export class InFlightBudget {
  readonly #limit: number;
  #used = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Octets held now (for tests). */
  get used(): number {
    return this.#used;
  }

  /** Reserves `octets` if they fit; false (nothing reserved) if they do not. */
  reserve(octets: number): boolean {
    if (this.#used + octets > this.#limit) return false;
    this.#used += octets;
    return true;
  }

  /** Gives back octets {@linkcode reserve} took. */
  release(octets: number): void {
    this.#used = Math.max(0, this.#used - octets);
  }
}
