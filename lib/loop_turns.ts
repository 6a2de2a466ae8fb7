/**
 * Turns of the event loop for work that runs in steps beside clients: the startup warm-up
 * (lib/imap/warm_up.ts) gives waiting clients the loop between its steps. The usual way,
 * `await new Promise((r) => setTimeout(r, 0))`, lets the loop poll its sockets, but in Deno
 * 2.9 such a timer fires 2.1 ms later (Node's timers: a 1 ms least delay on a millisecond
 * clock), so the warm-up's ~85 steps spent ~170 of its ~250 ms waiting for timers, and under
 * a client's burst of APPENDs (one step per turn of the loop) it ran on past the burst's end
 * into the client's first commands (issue 13, round 11). `setImmediate` and a MessageChannel
 * come back at once, but before the loop polls its sockets: a client's request waited 56 ms
 * behind a chain of 1 ms steps yielding with `setImmediate`, and to the chain's end with a
 * MessageChannel. A byte sent through a private loopback connection comes back after one poll
 * of the loop, with everything else that was ready: ~16 us a turn, and a waiting client is
 * served between two steps.
 *
 * The connection lives as long as its user keeps it open. Where the process may not use every
 * loopback port (a narrower `--allow-net` would otherwise prompt), or the connection fails,
 * the turns are timer turns.
 *
 * @module
 */

/** Turns of the event loop: each `next()` resolves after the loop has polled its I/O. */
export interface LoopTurns {
  /** Resolves after a turn of the event loop (its I/O polled); after `close`, a timer's. */
  next(): Promise<void>;
  /** Closes the loopback connection; pending and later turns resolve on a timer. */
  close(): void;
}

const HOST = "127.0.0.1";

/** A turn through a timer: what every turn is where no loopback connection could be made. */
export function timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The turns where no loopback connection could be made: timer turns, nothing to close. */
const TIMER_TURNS: LoopTurns = { next: timerTurn, close: () => {} };

/**
 * Opens turns over a private loopback connection, or timer turns where that cannot be had.
 *
 * @example
 * ```ts
 * const turns = await openLoopTurns();
 * try {
 *   for (const step of steps) {
 *     step();
 *     await turns.next(); // clients that were waiting go first
 *   }
 * } finally {
 *   turns.close();
 * }
 * ```
 */
export async function openLoopTurns(): Promise<LoopTurns> {
  if (Deno.permissions.querySync({ name: "net", host: HOST }).state !== "granted") {
    return TIMER_TURNS;
  }
  let listener: Deno.TcpListener | null = null;
  let writer: Deno.TcpConn | null = null;
  try {
    listener = Deno.listen({ hostname: HOST, port: 0 });
    writer = await Deno.connect({ hostname: HOST, port: listener.addr.port });
    const reader = await ownPeer(listener, writer.localAddr.port);
    writer.setNoDelay(true);
    return new SocketTurns(writer, reader);
  } catch {
    try {
      writer?.close();
    } catch { /* closed already */ }
    return TIMER_TURNS;
  } finally {
    listener?.close();
  }
}

/**
 * The accepted end of our own connection (from `port`): another local process could connect
 * to the listener first, and a turn that waited on its connection would wait as long as it
 * pleased. Others are closed unread; after a few, the listener is given up.
 *
 * @example
 * ```ts
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const writer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const reader = await ownPeer(listener, writer.localAddr.port); // writer's other end
 * ```
 */
export async function ownPeer(listener: Deno.TcpListener, port: number): Promise<Deno.TcpConn> {
  for (let tries = 0; tries < 4; tries++) {
    const conn = await listener.accept();
    if (conn.remoteAddr.port === port) return conn;
    conn.close();
  }
  throw new Error("the loopback listener's connections were not ours");
}

const BYTE = new Uint8Array([0x2e]);

/**
 * One byte out and back in per round; the callers waiting when a round starts resolve when
 * its byte is read. One round at a time, so each read takes exactly its own byte.
 */
class SocketTurns implements LoopTurns {
  readonly #writer: Deno.TcpConn;
  readonly #reader: Deno.TcpConn;
  readonly #buffer = new Uint8Array(1);
  #waiting: (() => void)[] = [];
  #running = false;
  #closed = false;

  constructor(writer: Deno.TcpConn, reader: Deno.TcpConn) {
    this.#writer = writer;
    this.#reader = reader;
  }

  next(): Promise<void> {
    if (this.#closed) return timerTurn();
    const turn = new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (!this.#running) this.#run();
    return turn;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of [this.#writer, this.#reader]) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
    this.#release();
  }

  async #run(): Promise<void> {
    this.#running = true;
    let round: (() => void)[] = [];
    try {
      while (this.#waiting.length > 0 && !this.#closed) {
        round = this.#waiting;
        this.#waiting = [];
        await this.#writer.write(BYTE);
        if (await this.#reader.read(this.#buffer) === null) throw new Error("closed");
        for (const resolve of round) resolve();
        round = [];
      }
    } catch {
      // Closed under a round (by close(), or the loopback went away): timer turns from now on.
      this.#waiting.unshift(...round);
      this.close();
      this.#release();
    } finally {
      this.#running = false;
    }
  }

  /** Resolves every caller still waiting, each after a timer turn. */
  #release(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) timerTurn().then(resolve);
  }
}
