/**
 * A store whose SQLite-like backend fails every shared commit (`Store.shareCommit`), for the
 * tests of what a failed commit does to the store and to an SMTP session.
 *
 * @module
 */

import { MailStore } from "../../lib/store/mail_store.ts";
import type { BlobRef, Persistence } from "../../lib/store/persistence.ts";
import type { Store } from "../../lib/store/types.ts";

/**
 * A backend that keeps nothing (its `load` is always empty) and whose shared commit fails:
 * the store must then be what the backend has, and every caller told.
 */
export function failingCommitStore(): { store: Store; commits: () => number } {
  let nextId = 1;
  let commits = 0;
  const persistence: Persistence = {
    kind: "sqlite",
    path: null,
    load: () => ({
      users: [],
      mailboxes: [],
      messages: [],
      subscriptions: [],
      lastMailboxIds: [],
      metadata: [],
      uidHighWater: [],
      vanished: [],
      accessKeys: [],
    }),
    transaction: <T>(fn: () => T): T => fn(),
    beginShared: () => {},
    commitShared: () => {
      commits++;
      throw new Error("disk full");
    },
    insertUser: () => {},
    setMetadata: () => {},
    setLastMailboxId: () => {},
    setLastEmailId: () => {},
    insertMailbox: () => nextId++,
    updateMailbox: () => {},
    deleteMailbox: () => {},
    storeBlob: (raw: Uint8Array): BlobRef => raw,
    readBlob: (blob: BlobRef) => blob as Uint8Array,
    insertMessage: () => nextId++,
    updateFlags: () => {},
    updateMessageUid: () => {},
    deleteMessages: () => {},
    setSubscription: () => {},
    setUidHighWater: () => {},
    setModseqHighWater: () => {},
    replaceVanished: () => {},
    setAccessKey: () => {},
    deleteAccessKeys: () => {},
    clear: () => {},
    close: () => {},
  };
  return { store: new MailStore(persistence), commits: () => commits };
}
