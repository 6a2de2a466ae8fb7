/**
 * The POP3 command table (RFC 1939 5-7, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) and
 * the CAPA list. The session driver (session.ts) checks the state, runs the entry and
 * writes what it returns; every failure is a thrown `Pop3Error`.
 *
 * ```abnf
 * stat = "STAT"                 list = "LIST" [SP msg]        retr = "RETR" SP msg
 * dele = "DELE" SP msg          noop = "NOOP"                 rset = "RSET"
 * quit = "QUIT"                 top  = "TOP" SP msg SP n      uidl = "UIDL" [SP msg]
 * capa = "CAPA"                 stls = "STLS"                 ; RFC 1939 5-7, 2449 5, 2595 4
 * ```
 *
 * Where the RFCs leave room the answers are Dovecot 2.3's: its texts, extra arguments
 * ignored by NOOP/RSET/CAPA, UIDL as `%08Xu%08Xv`.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { AUTH_COMMANDS, plaintextRefused, SASL_MECHANISMS } from "./auth.ts";
import {
  ANY,
  AUTHORIZATION,
  type Pop3CommandSpec,
  type Pop3Session,
  TRANSACTION,
} from "./context.ts";
import type { Maildrop } from "./maildrop.ts";
import { Pop3Error, topEnd } from "./wire.ts";

/** The session's maildrop (the dispatcher runs these only in the transaction state). */
function maildropOf(session: Pop3Session): Maildrop {
  return session.maildrop!;
}

/** The arguments, split at spaces. */
function words(args: string): string[] {
  return args.split(" ").filter((word) => word !== "");
}

/** A message number argument (RFC 1939 3: a decimal, 1 for the first message). */
function messageNumber(text: string | undefined): number {
  if (text === undefined) throw new Pop3Error(null, "Missing message number.", { bad: true });
  if (!/^[0-9]{1,10}$/.test(text)) {
    throw new Pop3Error(null, `Invalid message number: ${text}`, { bad: true });
  }
  return Number(text);
}

/** Exactly one message number: `LIST 1 2` is refused as Dovecot does. */
function oneMessage(args: string): number {
  const [first, ...rest] = words(args);
  const number = messageNumber(first);
  if (rest.length > 0) {
    throw new Pop3Error(null, `Noise after message number: ${rest.join(" ")}`, { bad: true });
  }
  return number;
}

/** CAPA tags in the order they are listed, each with when it is (RFC 2449 6). */
const CAPABILITIES: ReadonlyArray<[string, (session: Pop3Session) => boolean]> = [
  ["CAPA", () => true],
  ["TOP", () => true],
  ["UIDL", () => true],
  ["RESP-CODES", () => true],
  ["PIPELINING", () => true],
  ["AUTH-RESP-CODE", () => true],
  ["STLS", (s) => s.state === "authorization" && s.tls === "offered"],
  ["USER", (s) => s.state === "authorization" && !plaintextRefused(s)],
  [`SASL ${SASL_MECHANISMS.join(" ")}`, (s) => s.state === "authorization" && !plaintextRefused(s)],
  ["EXPIRE NEVER", () => true],
  ["LOGIN-DELAY 0", () => true],
  [`IMPLEMENTATION Elektromail-${VERSION}`, () => true],
];

/** The CAPA lines for the session as it stands. */
export function capabilities(session: Pop3Session): string[] {
  return CAPABILITIES.filter(([, when]) => when(session)).map(([tag]) => tag);
}

const MAILDROP_COMMANDS: ReadonlyArray<[string, Pop3CommandSpec]> = [
  ["STAT", {
    states: TRANSACTION,
    run(session, args) {
      if (args.trim() !== "") throw new Pop3Error(null, "STAT takes no arguments", { bad: true });
      const { count, size } = maildropOf(session).stat();
      return { text: `${count} ${size}` };
    },
  }],
  ["LIST", {
    states: TRANSACTION,
    run(session, args) {
      const maildrop = maildropOf(session);
      if (args.trim() !== "") {
        const number = oneMessage(args);
        return { text: `${number} ${maildrop.size(number)}` };
      }
      const live = maildrop.live();
      return {
        text: `${live.length} messages:`,
        lines: live.map((number) => `${number} ${maildrop.size(number)}`),
      };
    },
  }],
  ["RETR", {
    states: TRANSACTION,
    run(session, args) {
      const maildrop = maildropOf(session);
      const number = oneMessage(args);
      const size = maildrop.size(number);
      return { text: `${size} octets`, message: maildrop.raw(number, true) };
    },
  }],
  ["TOP", {
    states: TRANSACTION,
    run(session, args) {
      const [first, lines, ...rest] = words(args);
      const number = messageNumber(first);
      if (lines === undefined) {
        throw new Pop3Error(null, "Missing number of lines.", { bad: true });
      }
      if (!/^[0-9]{1,10}$/.test(lines)) {
        throw new Pop3Error(null, `Invalid number of lines: ${lines}`, { bad: true });
      }
      if (rest.length > 0) {
        throw new Pop3Error(null, `Noise after number of lines: ${rest.join(" ")}`, { bad: true });
      }
      const raw = maildropOf(session).raw(number, false);
      return { text: "", message: raw.subarray(0, topEnd(raw, Number(lines))) };
    },
  }],
  ["DELE", {
    states: TRANSACTION,
    run(session, args) {
      maildropOf(session).delete(oneMessage(args));
      return { text: "Marked to be deleted." };
    },
  }],
  ["RSET", {
    states: TRANSACTION,
    run(session) {
      maildropOf(session).reset();
      return { text: "" };
    },
  }],
  ["UIDL", {
    states: TRANSACTION,
    run(session, args) {
      const maildrop = maildropOf(session);
      if (args.trim() !== "") {
        const number = oneMessage(args);
        return { text: `${number} ${maildrop.uidl(number)}` };
      }
      return {
        text: "",
        lines: maildrop.live().map((number) => `${number} ${maildrop.uidl(number)}`),
      };
    },
  }],
  ["NOOP", { states: TRANSACTION, run: () => ({ text: "" }) }],
];

/** Every command, by verb. */
export const COMMANDS: ReadonlyMap<string, Pop3CommandSpec> = new Map([
  ["CAPA", {
    states: ANY,
    run: (session) => ({ text: "", lines: capabilities(session) }),
  }],
  ["STLS", {
    states: AUTHORIZATION,
    run(session, args) {
      if (args.trim() !== "") throw new Pop3Error(null, "STLS takes no arguments", { bad: true });
      if (session.tls === "active") throw new Pop3Error(null, "TLS is already active.");
      if (session.tls === "off") {
        throw new Pop3Error(null, "STLS is not offered: TLS is off (ELEKTROMAIL_TLS).");
      }
      return { text: "Begin TLS negotiation now.", startTls: true };
    },
  }],
  ...AUTH_COMMANDS,
  ...MAILDROP_COMMANDS,
  ["QUIT", {
    states: ANY,
    run(session) {
      const maildrop = session.maildrop;
      if (!maildrop) return { text: "Logging out.", close: true };
      // RFC 1939 6: the UPDATE state; the marked messages go in one store transaction.
      session.state = "update";
      const deleted = maildrop.hasDeleted;
      maildrop.update();
      return { text: deleted ? "Logging out, messages deleted." : "Logging out.", close: true };
    },
  }],
]);
