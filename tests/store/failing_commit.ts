/**
 * A store whose backend fails every shared commit (`Store.shareCommit`), for the tests of
 * what a failed commit does to the store and to an SMTP session. It is the memory backend
 * (its `load` is always empty) that says it is SQLite, so that the store shares commits.
 *
 * @module
 */

import { MailStore } from "../../lib/store/mail_store.ts";
import { memoryPersistence } from "../../lib/store/memory.ts";
import type { Store } from "../../lib/store/types.ts";

/** The store, and how many shared commits it has tried. */
export function failingCommitStore(): { store: Store; commits: () => number } {
  let commits = 0;
  const persistence = {
    ...memoryPersistence(),
    kind: "sqlite" as const,
    commitShared: () => {
      commits++;
      throw new Error("disk full");
    },
  };
  return { store: new MailStore(persistence), commits: () => commits };
}
