/**
 * Idle-time indexing. What clients ask for first about new mail — ENVELOPE and BODYSTRUCTURE
 * (every desktop client's message list), the header fields and decoded text SEARCH reads —
 * is computed for each delivered or appended message once the server has had nothing to do
 * for a moment, the way Dovecot adds the fields clients use to its cache at delivery. FETCH
 * and SEARCH then find it in the message's index memo: what they answer does not change,
 * only when the work is done, so the first `FETCH 1:* (ENVELOPE BODYSTRUCTURE)` after a
 * burst of mail costs what a repeated one does.
 *
 * The work runs in short slices between I/O, and only after deliveries pause, so it never
 * slows a burst of SMTP or APPEND traffic; past a queue limit the oldest messages are left
 * to be indexed on first use.
 *
 * @module
 */

import { searchHeaders, searchText } from "../mail/search_text.ts";
import type { Store } from "../store/types.ts";
import { cachedBodyStructure } from "./bodystructure.ts";
import { cachedEnvelope } from "./envelope.ts";
import { MessageView } from "./message_view.ts";

/** Tuning of {@linkcode startIndexWarmer}; the defaults suit a server. */
export interface WarmerOptions {
  /** Time without a new message before indexing starts, in ms. */
  readonly quietMs?: number;
  /** Longest slice of work before yielding to I/O, in ms. */
  readonly sliceMs?: number;
  /** Most messages waiting; older ones are dropped (indexed on first use instead). */
  readonly maxPending?: number;
}

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
  let queue: MessageRef[] = [];
  let head = 0;
  let lastAdded = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const schedule = (delay: number) => {
    timer ??= setTimeout(run, delay);
  };
  const run = () => {
    timer = null;
    const quietFor = performance.now() - lastAdded;
    if (quietFor < quietMs) return schedule(quietMs - quietFor);
    const deadline = performance.now() + sliceMs;
    try {
      while (head < queue.length && performance.now() < deadline) warm(store, queue[head++]);
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
      const { user, mailbox, uid } = event.message;
      queue.push({ user, mailbox, uid });
      if (queue.length - head > maxPending) head++;
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      lastAdded = performance.now();
      schedule(quietMs);
    } else if (event.type === "reset") {
      queue = [];
      head = 0;
    }
  });
  return {
    pending: () => queue.length - head,
    close: () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      queue = [];
      head = 0;
    },
  };
}

/** Computes and keeps what FETCH and SEARCH read first; a message gone meanwhile is skipped. */
function warm(store: Store, { user, mailbox, uid }: MessageRef): void {
  const index = store.getIndex(user, mailbox, uid);
  if (!index) return;
  const view = new MessageView(() => store.getRaw(user, mailbox, uid) ?? EMPTY, () => index);
  cachedEnvelope(view);
  cachedBodyStructure(view, true, false);
  searchHeaders(index);
  searchText(index, () => view.raw);
}
