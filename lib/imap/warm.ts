/**
 * Indexing new mail ahead of the first command that needs it. What clients ask for first
 * about new mail -- the MIME index, ENVELOPE and BODYSTRUCTURE (every desktop client's message
 * list), the header fields and address forms SEARCH reads -- is computed for each delivered or
 * appended message as it arrives, in the same turn, the way Dovecot adds the fields clients use to
 * its cache at delivery. FETCH and SEARCH then find it in the message's index memo: what they
 * answer does not change, only when the work is done, so the first `FETCH 1:* (ENVELOPE
 * BODYSTRUCTURE)` right after a burst of APPENDs costs what a repeated one does.
 *
 * Done at delivery only while someone may read the mail at once (the server: an IMAP or POP3
 * client is connected, {@linkcode WarmerOptions.indexAtDelivery}) and only while it is cheap:
 * messages up to {@linkcode WarmerOptions.deliveryBytes}, a few of each store call
 * ({@linkcode WarmerOptions.deliveryBatch}: a COPY of a mailbox is one call) and within a CPU
 * budget ({@linkcode WarmerOptions.deliveryShare} of the time), so a burst of APPEND, SMTP or
 * COPY traffic never waits on it for long. The rest waits for a pause in
 * deliveries and is indexed in short slices between I/O; past a queue limit the oldest
 * messages are left to be indexed on first use. Those waits are lib/net/timer.ts's, which do not
 * load Deno's Node timers as the global `setTimeout` does (mail delivered with no reader
 * connected waits there).
 *
 * @module
 */

import { addressListMemo } from "../mail/address.ts";
import { searchAddresses, searchAddressText, searchHeaders } from "../mail/search_text.ts";
import { startTimer, type Timer } from "../net/timer.ts";
import type { Store } from "../store/types.ts";
import type { AddressColumns } from "./address_columns.ts";
import { cachedBodyStructure } from "./bodystructure.ts";
import { ByteSlabs } from "./byte_slabs.ts";
import { cachedEnvelope } from "./envelope.ts";
import { MessageView } from "./message_view.ts";

/**
 * Messages of one store call indexed at delivery by default ({@linkcode
 * WarmerOptions.deliveryBatch}); an IMAP session's pipelined APPENDs share a commit up to as many
 * (`APPEND_BATCH` in lib/imap/session.ts), so their events, told together, are all indexed.
 */
export const DELIVERY_BATCH = 8;

/** Tuning of {@linkcode startIndexWarmer}; the defaults suit a server. */
export interface WarmerOptions {
  /** Time without a new message before indexing starts, in ms. */
  readonly quietMs?: number;
  /** Longest slice of work before yielding to I/O, in ms. */
  readonly sliceMs?: number;
  /** Most messages waiting; older ones are dropped (indexed on first use instead). */
  readonly maxPending?: number;
  /** Largest message indexed as it is delivered, in octets; 0: none (all in idle time). */
  readonly deliveryBytes?: number;
  /** Most of the time (a share of each 100 ms) spent indexing at delivery. */
  readonly deliveryShare?: number;
  /**
   * Most messages of one store call (a COPY of a mailbox, a delivery to many users) indexed
   * at delivery; the rest wait for idle time, so the call itself stays fast.
   */
  readonly deliveryBatch?: number;
  /**
   * Where the address text of each indexed message goes, for address searches to rule
   * messages out (see address_columns.ts); none: not kept. The warmer keeps it in step with
   * the store (expunges, renames, deletions, resets).
   */
  readonly addressColumns?: AddressColumns;
  /**
   * Whether a message is indexed at delivery now (within the budget); absent: always. The
   * server says yes only while an IMAP or POP3 client is connected: a burst of mail that no
   * one reads yet is indexed in the pause after it instead. On a fresh server the indexing
   * was a quarter of each message's CPU in the SMTP burst, its code still cold, and ~20 of the
   * ~60 functions that reached V8's Maglev budget at the same message (issue 13, round 13).
   */
  readonly indexAtDelivery?: () => boolean;
  /**
   * A count that moves whenever a client sends something (the server passes
   * lib/net/input_count.ts's); absent: none. Idle slices run only once neither it nor the
   * deliveries have moved for {@linkcode WarmerOptions.quietMs}: after a pause, a client that
   * comes back (an IMAP client logging in after an SMTP burst, the next burst) met a slice
   * before each of its first commands, up to 5 ms each, until its first delivery.
   */
  readonly inputCount?: () => number;
}

/** The window over which {@linkcode WarmerOptions.deliveryShare} is counted, in ms. */
const BUDGET_WINDOW_MS = 100;

/** A running warmer. */
export interface IndexWarmer {
  /** Messages waiting to be indexed. */
  pending(): number;
  /** Stops listening and drops what waits. */
  close(): void;
}

interface MessageRef {
  readonly user: string;
  readonly mailbox: string;
  readonly uid: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Listens to `store` and indexes each new message when the server is idle.
 *
 * @example
 * ```ts
 * const warmer = startIndexWarmer(store);
 * // ... deliveries; a moment later their ENVELOPE is ready ...
 * warmer.close();
 * ```
 */
export function startIndexWarmer(store: Store, options: WarmerOptions = {}): IndexWarmer {
  const quietMs = options.quietMs ?? 20;
  const sliceMs = options.sliceMs ?? 5;
  const maxPending = options.maxPending ?? 10_000;
  const deliveryBytes = options.deliveryBytes ?? 1024 * 1024;
  const deliveryBudget = (options.deliveryShare ?? 0.8) * BUDGET_WINDOW_MS;
  const deliveryBatch = options.deliveryBatch ?? DELIVERY_BATCH;
  const columns = options.addressColumns ?? null;
  const indexNow = options.indexAtDelivery ?? null;
  const inputCount = options.inputCount ?? null;
  let inputsSeen = inputCount?.() ?? 0;
  // What the encoded ENVELOPE and BODYSTRUCTURE of indexed messages are cut from.
  const slabs = new ByteSlabs();
  let windowStart = 0;
  let spent = 0;
  let batch = 0;
  // Made once: a delivered message is usually a batch of its own, so this runs for each.
  const endBatch = () => {
    batch = 0;
  };
  /** Indexes `ref` now if the budget allows; false when it must wait for idle time. */
  const atDelivery = (ref: MessageRef, size: number): boolean => {
    if (size > deliveryBytes || batch >= deliveryBatch) return false;
    if (indexNow !== null && !indexNow()) return false;
    const start = performance.now();
    if (start - windowStart > BUDGET_WINDOW_MS) {
      windowStart = start;
      spent = 0;
    }
    if (spent >= deliveryBudget) return false;
    // Messages added by one store call (a COPY, a delivery to many) are one batch.
    if (batch++ === 0) queueMicrotask(endBatch);
    try {
      warm(store, ref, slabs, columns);
    } catch {
      // The store was closed under us (an embedder's own store): nothing to index.
    }
    spent += performance.now() - start;
    return true;
  };
  let queue: MessageRef[] = [];
  let head = 0;
  let lastAdded = 0;
  let timer: Timer | null = null;

  const schedule = (delay: number) => {
    timer ??= startTimer(delay, run);
  };
  const run = () => {
    timer = null;
    // Input since the last look counts as a delivery now (it came at most a wait ago).
    const inputs = inputCount?.() ?? 0;
    if (inputs !== inputsSeen) {
      inputsSeen = inputs;
      lastAdded = performance.now();
    }
    const quietFor = performance.now() - lastAdded;
    if (quietFor < quietMs) return schedule(quietMs - quietFor);
    const deadline = performance.now() + sliceMs;
    try {
      while (head < queue.length && performance.now() < deadline) {
        warm(store, queue[head++], slabs, columns);
      }
    } catch {
      // The store was closed under us (an embedder's own store): nothing more to warm.
      queue = [];
      head = 0;
      return;
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else {
      schedule(0);
    }
  };
  const unsubscribe = store.subscribe((event) => {
    if (event.type === "message.added") {
      const { user, mailbox, uid, size } = event.message;
      if (atDelivery({ user, mailbox, uid }, size)) return;
      queue.push({ user, mailbox, uid });
      if (queue.length - head > maxPending) head++;
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      lastAdded = performance.now();
      if (inputCount !== null) inputsSeen = inputCount();
      schedule(quietMs);
    } else if (event.type === "reset") {
      queue = [];
      head = 0;
      columns?.clear();
    } else if (event.type === "message.expunged") {
      columns?.expunged(event.user, event.mailbox, event.uids);
    } else if (event.type === "mailbox.deleted" || event.type === "mailbox.renamed") {
      // A name of the user's may now hold other messages under the same UIDs.
      columns?.forgetUser(event.user);
    }
  });
  return {
    pending: () => queue.length - head,
    close: () => {
      unsubscribe();
      timer?.cancel();
      timer = null;
      queue = [];
      head = 0;
    },
  };
}

/** Computes and keeps what FETCH and SEARCH read first; a message gone meanwhile is skipped. */
function warm(
  store: Store,
  { user, mailbox, uid }: MessageRef,
  slabs: ByteSlabs,
  columns: AddressColumns | null,
): void {
  const index = store.getIndex(user, mailbox, uid);
  if (!index) return;
  let read: Uint8Array | null = null;
  const view = new MessageView(
    () => read ??= store.getRaw(user, mailbox, uid) ?? EMPTY,
    () => index,
  );
  // From, To and Cc are parsed once for ENVELOPE and SEARCH (the same text in an ASCII header).
  const parse = addressListMemo();
  cachedEnvelope(view, slabs, parse);
  cachedBodyStructure(view, true, false, slabs);
  // One view of the root for all of them: its header fields are parsed once.
  searchHeaders(index, view.root);
  // The address forms FROM/TO/CC/BCC search in (parsed address lists): a first SEARCH FROM
  // after a burst otherwise parses every message's (3x Dovecot's CPU on 5,000 messages).
  // With them, all those keys match goes to the mailbox's address column, when one is kept.
  if (columns === null) searchAddresses(index, view.root, parse);
  else columns.add(user, mailbox, uid, searchAddressText(index, view.root, parse));
  // What was kept is copies (encoded, or strings): bytes SQLite made for this read go back
  // now, not to a later collection (see `Store.releaseRaw`).
  if (read !== null) store.releaseRaw?.(read);
}
