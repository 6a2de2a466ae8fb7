/**
 * Timers for the paths a server runs from its start to its first client and after: sessions'
 * deadlines (lib/net/deadline.ts), a connection's end grace, the index warmer, the startup
 * warm-up's socket timeout, the idle collection's polling (lib/full_gc.ts) and SQLite's idle
 * checkpoint (the warm-up's in-memory SQLite store writes). In Deno 2.9 the global
 * `setTimeout` is Node's (it returns a `Timeout` object): the first time it, `clearTimeout` or
 * `setInterval` is even read from the global object, Deno loads its Node timers with their
 * async hooks, errors and util/inspect, ~0.9 MB of heap and the read-only data of their
 * embedded source, which an idle server that never needed them kept (docs/performance-history.md,
 * "no Node timers", round 10, where STORE's first touch looked slower; the warm-up then ran
 * beside the first clients).
 *
 * Measured (issue 13, round 16, against main 0e9fce3 on a loaded host, alternating): idle RSS
 * 47.2-47.8 MB against 48.3-49.0 (`bench/idle_rss.ts`, four pairs; `deno r--p` 10.9-11.4
 * against 11.7-11.9, `[heap]` 3.0-3.1 against 3.6-3.7), with SQLite 60.3-61.1 against
 * 61.1-65.3 (three), without the warm-up 40.6-41.0 against 40.6-41.2 (four: neither loads them
 * before a client). A fresh server's first SMTP greeting 3.4-3.6 ms against 4.2-4.7, its
 * first message's data 1.2-1.3 against 1.5-1.9, the first IMAP greeting 1.3-1.4 against
 * 1.7-2.3 (`bench/first_contact.ts --runs 5`, two pairs); without the warm-up the first SMTP
 * greeting 5.8-7.4 against 18.7-23.8 (it loaded them), the first IMAP greeting after it
 * 2.2-3.4 against 2.0-2.7 (`ELEKTROMAIL_SKIP_WARM_UP=1`, five pairs of 3-5 runs; slower in all
 * five, by 0.03-1.25 ms, cause not found). First touch (`bench/cold_compare.ts --runs 5
 * --no-dovecot`, medians of 15 and 10 runs): SELECT 0.70 against 0.70 ms, `FETCH 1:* (UID
 * FLAGS)` 2.45 against 2.80, STORE 2.16 against 2.50 (Deno client, three pairs); 0.49 against
 * 0.57, 1.96 against 2.64, 2.01 against 2.80 (Python client, two). A fresh server's first SMTP
 * round (`bench/smtp_source.ts --client latency --warm-up 0 --rounds 1`, five pairs each):
 * memory 5,651-6,607 msgs/s against 5,898-6,625, p99 2.67-2.80 ms against 2.80-4.09; SQLite
 * 3,203-3,523 against 3,013-3,409, p99 3.40-3.96 against 3.50-3.93.
 *
 * {@linkcode startTimer} waits with `Atomics.waitAsync`, which V8 times out on its own task
 * runner (about 1 ms late, as `setTimeout` is). One such wait per timer would be dear: 20-70 us
 * for a start and a cancel (against 3-12 for `setTimeout` and `clearTimeout`), and V8 keeps a
 * cancelled wait's delayed task until its time, ~1.4 KB each (60,000 cancelled waits of 60 s:
 * RSS 133 MB against 50). So the timers are kept in one queue ({@linkcode TimerQueue}, a binary
 * heap by due time, a cancelled timer removed at once) and a new wait is started only when a
 * timer is due before every wait already pending; a wait that wakes too early finds nothing due
 * and waits for the next. A server's deadlines are of a few fixed lengths, each due after the
 * ones already queued, so a busy server starts nearly no waits (a connection a message: none).
 * Two starts and two cancels among 100 queued timers cost 0.3-0.8 us, against 2.7-3.2 for
 * `setTimeout` and `clearTimeout`.
 *
 * Unlike `setTimeout`, a pending timer does not keep the event loop alive: whoever waits for
 * one also waits for a socket, a listener's accept or the warm-up's own work (the warm-up's
 * time limit: lib/imap/warm_up.ts). {@linkcode sleep} waits with `AbortSignal.timeout`, a web
 * timer that does keep it alive but cannot be cancelled, so it is only for short waits (the
 * shutdown's 10 ms polls for sessions, the accept retry's 50 ms).
 * The rare paths keep the global timers: IMAP IDLE's keep-alive, fault injection, the
 * failed-login guard, TLS handshakes, the warnings' summary, the HTTP routes.
 *
 * tests/start_timers_test.ts checks that a server started as `deno task start` starts, warms
 * up, collects its garbage and serves a first SMTP message and IMAP session without loading
 * Node's timers (configured by the environment: command-line flags load node:util, main.ts).
 *
 * @module
 */

/** A timer that {@linkcode startTimer} started. */
export interface Timer {
  /** Stops it: `fire` will not run. Does nothing once it has fired or been cancelled. */
  cancel(): void;
}

/** A queued timer; `index` is its place in the heap, -1 once it has left. */
interface Entry extends Timer {
  readonly due: number;
  /** Start order: timers due at the same time fire in it. */
  readonly seq: number;
  readonly fire: () => void;
  index: number;
}

/** Whether `a` fires before `b`. */
function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * Timers in one binary heap by due time, woken by `Atomics.waitAsync`; see the module
 * documentation. The program uses one ({@linkcode startTimer}); tests make their own.
 */
export class TimerQueue {
  readonly #heap: Entry[] = [];
  #seq = 0;
  /** When the waits pending in V8 wake up (`performance.now()` time), ascending. */
  readonly #waits: number[] = [];
  /** What the waits wait on: it always holds 0, so only their timeouts end them. */
  readonly #cell = new Int32Array(new SharedArrayBuffer(4));

  /** Timers queued (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  /** Waits pending in V8 (for tests). */
  get waits(): number {
    return this.#waits.length;
  }

  /** Runs `fire` once, `ms` from now or a little later (at least ~1 ms: a later task). */
  start(ms: number, fire: () => void): Timer {
    const now = performance.now();
    const entry: Entry = {
      due: now + Math.max(0, ms),
      seq: this.#seq++,
      fire,
      index: -1,
      cancel: () => this.#remove(entry),
    };
    this.#push(entry);
    this.#wakeBy(entry.due, now);
    return entry;
  }

  /** Makes sure a wait ends by `due`. */
  #wakeBy(due: number, now: number): void {
    if (this.#waits.length > 0 && this.#waits[0] <= due) return;
    this.#waits.unshift(due);
    // Above 0, with the cell holding the value waited for: always asynchronous.
    const wait = Atomics.waitAsync(this.#cell, 0, 0, Math.max(1, due - now));
    (wait.value as Promise<string>).then(() => this.#woke(due));
  }

  readonly #woke = (wake: number): void => {
    this.#waits.splice(this.#waits.indexOf(wake), 1);
    const now = performance.now();
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].due <= now) {
      const entry = heap[0];
      this.#remove(entry);
      try {
        entry.fire();
      } catch (error) {
        // As a throwing `setTimeout` callback: uncaught; the other timers still run.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    if (heap.length > 0) this.#wakeBy(heap[0].due, performance.now());
  };

  #push(entry: Entry): void {
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
  }

  #remove(entry: Entry): void {
    const at = entry.index;
    if (at < 0) return;
    entry.index = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (last === entry) return;
    heap[at] = last;
    last.index = at;
    this.#up(at);
    this.#down(last.index);
  }

  #up(at: number): void {
    const heap = this.#heap;
    const entry = heap[at];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[at] = heap[parent];
      heap[at].index = at;
      at = parent;
    }
    heap[at] = entry;
    entry.index = at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const entry = heap[at];
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right], heap[left]) ? right : left;
      if (!before(heap[child], entry)) break;
      heap[at] = heap[child];
      heap[at].index = at;
      at = child;
    }
    heap[at] = entry;
    entry.index = at;
  }
}

/**
 * The program's timers: process-wide, as the global `setTimeout`'s are (one queue, so that one
 * wait serves every session's deadlines).
 */
const timers = new TimerQueue();

/**
 * Runs `fire` once, `ms` from now or a little later, without keeping the event loop alive.
 *
 * @example
 * ```ts
 * const timer = startTimer(30_000, () => connection.close());
 * timer.cancel();
 * ```
 */
export function startTimer(ms: number, fire: () => void): Timer {
  return timers.start(ms, fire);
}

/** Timers {@linkcode startTimer} started that have neither fired nor been cancelled (tests). */
export function queuedTimers(): number {
  return timers.size;
}

/**
 * Resolves `ms` from now or a little later, after the event loop has had a turn for I/O.
 * Unlike {@linkcode startTimer}'s, this wait keeps the event loop alive (a web timer, which
 * cannot be cancelled: what sleeps wakes up).
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    AbortSignal.timeout(ms).addEventListener("abort", () => resolve(), { once: true });
  });
}
