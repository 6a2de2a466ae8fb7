/**
 * The memory backend: nothing is kept beyond the process. Message bytes are copied once on
 * append and then held by reference, so a copied message costs no extra bytes.
 *
 * @module
 */

import { MailStore, type MailStoreOptions } from "./mail_store.ts";
import type { BlobRef, PersistedState, Persistence } from "./persistence.ts";
import type { Store } from "./types.ts";

/** Opens an empty in-memory store. */
export function openMemoryStore(options: MailStoreOptions = {}): Store {
  return new MailStore(memoryPersistence(), options);
}

function memoryPersistence(): Persistence {
  let nextId = 1;
  return {
    kind: "memory",
    path: null,
    load: (): PersistedState => ({
      users: [],
      mailboxes: [],
      messages: [],
      subscriptions: [],
      uidHighWater: [],
    }),
    transaction: <T>(fn: () => T): T => fn(),
    insertUser: () => {},
    insertMailbox: () => nextId++,
    updateMailbox: () => {},
    deleteMailbox: () => {},
    // A copy: the caller may reuse its buffer (or hold a view into a larger one), and the
    // stored bytes must never change. Copies inside the store share this one.
    storeBlob: (raw: Uint8Array): BlobRef => raw.slice(),
    readBlob: (blob: BlobRef): Uint8Array => {
      if (typeof blob === "number") {
        throw new Error("Cannot read blob: the memory store holds bytes, not row ids");
      }
      return blob;
    },
    insertMessage: () => nextId++,
    updateFlags: () => {},
    deleteMessages: () => {},
    setSubscription: () => {},
    setUidHighWater: () => {},
    clear: () => {},
    close: () => {},
  };
}
