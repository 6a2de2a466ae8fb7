/**
 * Types shared by the SMTP session driver and its command handlers: what a session needs from
 * its server, the state the commands work on, and what a command returns.
 *
 * @module
 */

import type { InFlightBudget } from "../net/in_flight.ts";
import type { AuthAttempts } from "../auth_guard.ts";
import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { ByteSlab } from "../net/byte_slab.ts";
import type { TlsState } from "../net/transport.ts";
import type { Store } from "../store/types.ts";

/** What a session needs from its server. */
export interface SmtpContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Peer address, `ip:port`. */
  readonly remote: string;
  /** Connection label for logs, e.g. `smtp#3`. */
  readonly label: string;
  /** A new queue id for a Received header; unique within the server. */
  nextQueueId(): string;
  now(): number;
  /** TLS on the connection at the start; `off` when absent. */
  readonly tls?: TlsState;
  /** Fault injection (`POST /chaos`); none when absent. */
  readonly chaos?: Chaos;
  /** This connection's failed AUTHs (auth_guard.ts); none: not counted. */
  readonly authAttempts?: AuthAttempts;
  /**
   * Where delivered copies of small messages are cut from, shared by the listener's sessions
   * (see `DeliveryOptions.slab`); absent: an array each.
   */
  readonly messageSlab?: ByteSlab;
  /**
   * Octets of message data the listener's connections may hold at once (lib/net/in_flight.ts);
   * absent: no shared bound (the warm-up, tests).
   */
  readonly dataBudget?: InFlightBudget;
}

/** A mail transaction, from MAIL to the end of DATA (RFC 5321 3.3). */
export interface Transaction {
  from: string;
  smtpUtf8: boolean;
  recipients: Array<{ address: string; user: string }>;
}

/** A SASL exchange under way: the next line is a response, not a command (RFC 4954 4). */
export type AuthStep =
  | { mechanism: "PLAIN" }
  | { mechanism: "LOGIN"; user: string | null };

/** The state the command handlers work on. */
export interface SmtpState {
  readonly ctx: SmtpContext;
  greeted: "HELO" | "EHLO" | null;
  clientName: string;
  authUser: string | null;
  transaction: Transaction | null;
  auth: AuthStep | null;
  /** TLS on the connection now. */
  tls: TlsState;
  /** The addresses this session has named, see {@linkcode sessionAddress}. */
  readonly addresses: Map<string, string>;
  /** The date of the last Received header, kept for the rest of its second. */
  receivedDate?: { readonly second: number; readonly text: string };
  /**
   * The start of the last Received header, up to its queue id, and what it was made from
   * (the client's name and the protocol): the same for every transaction of a session
   * nearly always.
   */
  receivedStart?: { readonly clientName: string; readonly protocol: string; readonly text: string };
}

/**
 * What a command returns: its reply, or the reply and what the driver does once it is
 * written: read message data, close the connection, or switch to TLS. `delayMs`: the reply
 * waits that long (a failed AUTH), input is held meanwhile.
 */
export type CommandOutcome =
  | string
  | { reply: string; data?: true; close?: true; startTls?: true; delayMs?: number };

/** How many addresses a session keeps for {@linkcode sessionAddress}. */
const SESSION_ADDRESSES = 64;

/**
 * `address` as the session first named it. A transaction's addresses (MAIL's, RCPT's and the
 * users they route to) are kept with each delivered copy (its envelope), and an address cut
 * from a command line is a slice of it that keeps the whole line alive: a client sending
 * message after message to the same few addresses left two lines (~100 bytes) a message on
 * the heap. The session's earlier string for the same address keeps one line per address a
 * session instead.
 */
export function sessionAddress(state: SmtpState, address: string): string {
  const known = state.addresses.get(address);
  if (known !== undefined) return known;
  if (state.addresses.size >= SESSION_ADDRESSES) state.addresses.clear();
  state.addresses.set(address, address);
  return address;
}

/** TLS is required and not active yet. */
export function mustStartTls(state: SmtpState): boolean {
  return state.tls === "offered" && state.ctx.config.tls?.required === true;
}

/** The address part of an `ip:port` peer. */
export function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon < 0 ? remote : remote.slice(0, colon);
}
