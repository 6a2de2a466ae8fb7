/**
 * The receive deadline of one connection, against slowloris clients (one byte every few
 * seconds holds a connection slot for good, since each byte re-arms the idle timer).
 *
 * Input the peer has started must keep coming: once a chunk leaves a line unfinished (its
 * last byte is not LF), the line must end, or {@linkcode RECEIVE_PROGRESS_BYTES} more arrive,
 * within the deadline; each line end or each such stretch of progress starts it again. A
 * connection whose input ends on a line end owes nothing (the peer waits for a reply; the
 * idle timeout governs that). While message data is expected (SMTP after `354`, see
 * {@linkcode InputGuard.expectBody}), line ends do not count, only progress, so a message
 * must arrive at a minimum rate or end. Both SMTP and IMAP are line protocols whose
 * literals and message data are lines too, so the transport needs no protocol knowledge.
 *
 * The deadline is suspended while the transport itself is not reading (backpressure, a
 * paused session): a peer cannot make progress then.
 *
 * @module
 */

import { Deadline } from "./deadline.ts";

const LF = 0x0a;

/**
 * Bytes that count as progress within one deadline: 64 KiB a minute (~1 KB/s with the default
 * deadline) is far below any real client, including a large APPEND or DATA over a slow link.
 */
export const RECEIVE_PROGRESS_BYTES = 64 * 1024;

/** The receive deadline of one connection; `expired` runs once when it passes. */
export class InputGuard {
  readonly #deadlineMs: number;
  readonly #deadline: Deadline;
  /** The deadline runs. */
  #running = false;
  /** The last byte received did not end a line. */
  #partial = false;
  /** Message data is expected: line ends do not count. */
  #body = false;
  #suspended = false;
  /** Bytes received since the deadline started. */
  #progress = 0;
  #stopped = false;

  /** `deadlineMs` 0: no deadline. */
  constructor(deadlineMs: number, expired: () => void) {
    this.#deadlineMs = deadlineMs;
    this.#deadline = new Deadline(() => {
      this.#running = false;
      if (!this.#stopped) expired();
    });
    // The fields stop() writes, written twice: see `SocketConnection` in transport.ts.
    this.#stopped = true;
    this.#stopped = false;
    this.#running = true;
    this.#running = false;
  }

  /** Notes a chunk of input; the caller delivers it. */
  input(chunk: Uint8Array): void {
    if (this.#deadlineMs <= 0 || this.#stopped || chunk.length === 0) return;
    this.#partial = chunk[chunk.length - 1] !== LF;
    this.#progress += chunk.length;
    const lineEnded = !this.#body && chunk.lastIndexOf(LF) >= 0;
    if (!this.#owed) this.#clear();
    else if (!this.#running || lineEnded || this.#progress >= RECEIVE_PROGRESS_BYTES) {
      this.#start();
    }
  }

  /** Message data starts (`true`) or has all arrived (`false`). */
  expectBody(on: boolean): void {
    if (this.#body === on) return;
    this.#body = on;
    this.#restart();
  }

  /** The transport stops reading: the peer cannot make progress. */
  suspend(): void {
    this.#suspended = true;
    this.#clear();
  }

  /** The transport reads again: the deadline starts afresh if input is owed. */
  resume(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    this.#restart();
  }

  /** The connection closed. */
  stop(): void {
    this.#stopped = true;
    this.#running = false;
    this.#deadline.stop();
  }

  /** The peer owes input: an unfinished line, or message data. */
  get #owed(): boolean {
    return this.#partial || this.#body;
  }

  #restart(): void {
    if (this.#owed) this.#start();
    else this.#clear();
  }

  #start(): void {
    this.#clear();
    this.#progress = 0;
    if (this.#deadlineMs <= 0 || this.#stopped || this.#suspended) return;
    this.#running = true;
    this.#deadline.set(this.#deadlineMs);
  }

  #clear(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#deadline.clear();
  }
}
