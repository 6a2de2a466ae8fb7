/**
 * Counts the message bytes a store frees when a caller gives them back (`Store.releaseRaw`):
 * what tests of FETCH and SEARCH on the SQLite store check was freed, and only after use.
 *
 * @module
 */

import type { Store } from "../../lib/store/mod.ts";

/** Wraps `store.releaseRaw`; the result says how many given-back byte arrays were freed. */
export function countFreed(store: Store): () => number {
  let freed = 0;
  const releaseRaw = store.releaseRaw!.bind(store);
  store.releaseRaw = (bytes) => {
    releaseRaw(bytes);
    if (bytes.length === 0) freed++;
  };
  return () => freed;
}
