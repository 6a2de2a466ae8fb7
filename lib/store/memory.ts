/**
 * The memory backend: nothing is kept beyond the process. Message bytes are copied on append
 * (the caller may reuse its buffer) and then held by reference, so a copied message, or one
 * message delivered to many users, costs no extra bytes.
 *
 * @module
 */

import { SHARED_BYTES } from "../mail/shared_bytes.ts";
import { MailStore, type MailStoreOptions } from "./mail_store.ts";
import type { BlobRef, PersistedState, Persistence } from "./persistence.ts";
import type { Store } from "./types.ts";

/** Opens an empty in-memory store. */
export function openMemoryStore(options: MailStoreOptions = {}): Store {
  return new MailStore(memoryPersistence(), options);
}

/** The memory backend itself (tests build others on it). */
export function memoryPersistence(): Persistence {
  let nextId = 1;
  // The last appended array and the store's copy of it: a delivery to many recipients
  // appends the same array once per user, and all of them share one copy. Weak, so neither
  // the caller's buffer nor an expunged message is kept alive by this.
  let last: { input: WeakRef<Uint8Array>; copy: WeakRef<Uint8Array> } | null = null;
  return {
    kind: "memory",
    path: null,
    load: (): PersistedState => ({
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
    commitShared: () => {},
    insertUser: () => {},
    setLastMailboxId: () => {},
    setLastEmailId: () => {},
    setMetadata: () => {},
    insertMailbox: () => nextId++,
    updateMailbox: () => {},
    deleteMailbox: () => {},
    // A copy: the caller may reuse its buffer (or hold a view into a larger one), and the
    // stored bytes must never change. Copies inside the store share this one. Bytes handed
    // over (made for this message alone) are kept as they are. The copy is made in shared
    // memory, which V8 does not count as external (lib/mail/shared_bytes.ts); bytes handed over
    // are there when their maker put them there (the IMAP framer's literals, SMTP message
    // data). Either way the ledger hears they are kept.
    storeBlob: (raw: Uint8Array, owned?: boolean): BlobRef => {
      if (owned) {
        SHARED_BYTES.keep(raw);
        return raw;
      }
      const previous = last?.input.deref() === raw ? last?.copy.deref() : undefined;
      if (previous && sameBytes(previous, raw)) return previous;
      const copy = SHARED_BYTES.copy(raw);
      SHARED_BYTES.keep(copy);
      last = { input: new WeakRef(raw), copy: new WeakRef(copy) };
      return copy;
    },
    readBlob: (blob: BlobRef): Uint8Array => {
      if (typeof blob === "number") {
        throw new Error("Cannot read blob: the memory store holds bytes, not row ids");
      }
      return blob;
    },
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
    clear: () => {
      last = null;
    },
    close: () => {},
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
