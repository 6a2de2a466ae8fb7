/**
 * Failed authentications, counted per connection and per client address, for every protocol
 * that checks a password (IMAP LOGIN and AUTHENTICATE, SMTP AUTH, POP3 USER/PASS and AUTH
 * when it exists): each connection asks {@linkcode AuthGuard.connection} for its
 * {@linkcode AuthAttempts} and reports what happened. Only failures count: with no users
 * configured every login succeeds and nothing changes.
 *
 * - After `authFailuresBeforeDelay` failures on a connection, each further failure is
 *   answered late: `authFailureDelayMs`, doubling up to `maxAuthFailureDelayMs` (a timer, so
 *   other clients are served meanwhile).
 * - At `maxAuthFailures` failures the connection is closed (IMAP `BYE`, SMTP `421`).
 * - At `maxAuthFailuresPerAddress` failures from one address within `authFailureWindowMs`
 *   (a sliding window) its attempts are refused without looking at the credentials
 *   (`NO [UNAVAILABLE]`, `454 4.7.0`) until older failures leave the window. A refused
 *   attempt counts on its connection, not for the address.
 *
 * One guard per server (`startElektromail`), so parallel test servers never share counts.
 * Lockouts and disconnects are logged once per interval per address, not per attempt.
 *
 * @module
 */

import type { Limits } from "./config.ts";
import type { Logger } from "./log.ts";

/** The limits the guard reads (see `Limits` in config.ts for each). */
export type AuthGuardLimits = Pick<
  Limits,
  | "authFailuresBeforeDelay"
  | "authFailureDelayMs"
  | "maxAuthFailureDelayMs"
  | "maxAuthFailures"
  | "maxAuthFailuresPerAddress"
  | "authFailureWindowMs"
>;

/** Addresses remembered at most; past this the least recently failing one is forgotten. */
export const MAX_TRACKED_ADDRESSES = 10_000;
/** Disconnects from one address are logged at most once in this interval. */
export const LOG_INTERVAL_MS = 60_000;

/** What to do about a failure just recorded. */
export interface AuthPenalty {
  /** Wait this long before answering (0: answer at once). */
  readonly delayMs: number;
  /** Close the connection after the answer. */
  readonly disconnect: boolean;
}

/** One connection's view of the guard. */
export interface AuthAttempts {
  /** Whether the client's address is refused for now: answer without checking credentials. */
  addressLocked(): boolean;
  /**
   * Records a failed attempt (or one refused because the address is locked); returns how to
   * answer it.
   */
  failed(): AuthPenalty;
  /** A successful login: the connection's count starts again. */
  succeeded(): void;
  /** Runs `fn` after `ms` unless the server stops first (for delayed answers). */
  later(ms: number, fn: () => void): void;
  /** Resolves after `ms` (never, if the server stops first). */
  sleep(ms: number): Promise<void>;
}

interface AddressRecord {
  /** Times of the latest failures, oldest first; at most `maxAuthFailuresPerAddress`. */
  failures: number[];
  /** When the lockout was last logged. */
  lockLoggedAt: number;
  /** When a disconnect was last logged, and how many were not logged since. */
  disconnectLoggedAt: number;
  unloggedDisconnects: number;
}

/**
 * The failed-authentication bookkeeping of one server.
 *
 * @example
 * ```ts
 * const guard = new AuthGuard(config.limits, logger);
 * const attempts = guard.connection("imap", "192.0.2.7:50123");
 * if (!attempts.addressLocked()) {
 *   const penalty = attempts.failed(); // wrong password
 *   await attempts.sleep(penalty.delayMs);
 * }
 * guard.close(); // at server stop
 * ```
 */
export class AuthGuard {
  readonly #limits: AuthGuardLimits;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #addresses = new Map<string, AddressRecord>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(limits: AuthGuardLimits, logger: Logger, now: () => number = Date.now) {
    this.#limits = limits;
    this.#logger = logger;
    this.#now = now;
  }

  /** The attempts of one connection from `remote` (`address:port`), for logs `protocol`. */
  connection(protocol: string, remote: string): AuthAttempts {
    const address = addressOf(remote);
    let count = 0;
    return {
      addressLocked: () => this.#locked(address),
      failed: () => {
        count++;
        if (!this.#locked(address)) this.#recordFailure(protocol, address);
        const disconnect = count >= this.#limits.maxAuthFailures;
        if (disconnect) this.#logDisconnect(protocol, address);
        return { delayMs: this.delayFor(count), disconnect };
      },
      succeeded: () => {
        count = 0;
      },
      later: (ms, fn) => this.later(ms, fn),
      sleep: (ms) => new Promise((resolve) => this.later(ms, resolve)),
    };
  }

  /** How long the answer to a connection's `failures`th failure waits. */
  delayFor(failures: number): number {
    const { authFailuresBeforeDelay, authFailureDelayMs, maxAuthFailureDelayMs } = this.#limits;
    const over = failures - authFailuresBeforeDelay;
    if (over <= 0 || authFailureDelayMs <= 0) return 0;
    // 2 ** 30 already exceeds any sensible cap; a bigger exponent would only overflow.
    return Math.min(authFailureDelayMs * 2 ** Math.min(over - 1, 30), maxAuthFailureDelayMs);
  }

  /** Runs `fn` after `ms`; {@linkcode close} cancels what is still waiting. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** Cancels pending delays: the server is stopping and their sessions are gone. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #locked(address: string): boolean {
    const limit = this.#limits.maxAuthFailuresPerAddress;
    const record = this.#addresses.get(address);
    if (limit <= 0 || !record) return false;
    return record.failures.length >= limit &&
      this.#now() - record.failures[0] < this.#limits.authFailureWindowMs;
  }

  /** The address's record, created if need be and moved to the most recent end. */
  #record(address: string): AddressRecord {
    const record = this.#addresses.get(address) ?? {
      failures: [],
      lockLoggedAt: -Infinity,
      disconnectLoggedAt: -Infinity,
      unloggedDisconnects: 0,
    };
    // Most recently failing last, so the first entry is the one to forget when full.
    this.#addresses.delete(address);
    this.#addresses.set(address, record);
    if (this.#addresses.size > MAX_TRACKED_ADDRESSES) {
      this.#addresses.delete(this.#addresses.keys().next().value!);
    }
    return record;
  }

  #recordFailure(protocol: string, address: string): void {
    const limit = this.#limits.maxAuthFailuresPerAddress;
    if (limit <= 0) return;
    const now = this.#now();
    const record = this.#record(address);
    record.failures.push(now);
    if (record.failures.length > limit) record.failures.shift();
    const window = this.#limits.authFailureWindowMs;
    if (this.#locked(address) && now - record.lockLoggedAt >= window) {
      record.lockLoggedAt = now;
      this.#logger.warn(
        `${protocol}: ${limit} failed authentications from ${address} within ` +
          `${formatDuration(window)}: refusing its attempts for now`,
      );
    }
  }

  #logDisconnect(protocol: string, address: string): void {
    const record = this.#record(address);
    const now = this.#now();
    if (now - record.disconnectLoggedAt < LOG_INTERVAL_MS) {
      record.unloggedDisconnects++;
      return;
    }
    const more = record.unloggedDisconnects;
    record.disconnectLoggedAt = now;
    record.unloggedDisconnects = 0;
    this.#logger.warn(
      `${protocol}: closed a connection from ${address} after ` +
        `${this.#limits.maxAuthFailures} failed authentications` +
        (more > 0 ? ` (and ${more} more since the last report)` : ""),
    );
  }
}

/** The address part of `address:port` (IPv6 addresses keep their colons). */
export function addressOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  const host = colon < 0 ? remote : remote.slice(0, colon);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  return `${ms / 1000} s`;
}
