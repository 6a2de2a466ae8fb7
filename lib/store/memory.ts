/**
 * The memory backend: nothing is kept beyond the process. Message bytes are held by
 * reference, so a copied message costs no extra bytes.
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
    storeBlob: (raw: Uint8Array): BlobRef => raw,
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
