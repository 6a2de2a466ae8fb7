/**
 * The store contract (STYLE.md practice 12): one suite that every backend passes. Each test
 * opens a fresh store from the factory and closes it at the end. The tests are in
 * `contract_mailboxes.ts`, `contract_messages.ts`, `contract_append_many.ts`,
 * `contract_envelope.ts` and `contract_modseq.ts`.
 *
 * @module
 */

import type { Store } from "../../lib/store/mod.ts";
import { appendManyContract } from "./contract_append_many.ts";
import { listenerFailures } from "./contract_helpers.ts";
import { envelopeContract, messageStatesContract } from "./contract_envelope.ts";
import { mailboxContract } from "./contract_mailboxes.ts";
import { messageContract } from "./contract_messages.ts";
import { modseqContract } from "./contract_modseq.ts";

export { sampleMessage } from "./contract_helpers.ts";

/** A fresh, empty store, and what to clean up after the suite has closed it. */
export interface OpenedStore {
  store: Store;
  dispose?: () => void | Promise<void>;
}

/** Opens a fresh, empty store; the suite closes it, then calls `dispose`. */
export type StoreFactory = () => OpenedStore | Promise<OpenedStore>;

/** Registers the store contract suite for `label` (e.g. "memory"). */
export function storeContract(label: string, factory: StoreFactory): void {
  const test = (name: string, fn: (store: Store) => void | Promise<void>) =>
    Deno.test(`store contract (${label}): ${name}`, async () => {
      const { store, dispose } = await factory();
      const failures: unknown[] = [];
      listenerFailures.set(store, failures);
      try {
        await fn(store);
        if (failures.length > 0) throw failures[0];
      } finally {
        store.close();
        await dispose?.();
      }
    });

  mailboxContract(test);
  messageContract(test);
  appendManyContract(test);
  envelopeContract(test);
  messageStatesContract(test);
  modseqContract(test);
}
