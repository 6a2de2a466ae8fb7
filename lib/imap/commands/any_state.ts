/**
 * Commands valid in any state, and the small ones of the authenticated states.
 *
 * ```abnf
 * capability = "CAPABILITY"                       ; RFC 9051 6.1.1
 * noop       = "NOOP"                             ; RFC 9051 6.1.2
 * logout     = "LOGOUT"                           ; RFC 9051 6.1.3
 * enable     = "ENABLE" 1*(SP capability)         ; RFC 9051 6.3.1, RFC 5161
 * id         = "ID" SP ( "(" *( string SP nstring ) ")" / nil )   ; RFC 2971
 * check      = "CHECK"                            ; RFC 3501 6.4.1 (rev1 only)
 * ```
 *
 * @module
 */

import { VERSION } from "../../version.ts";
import { ANY, ImapError, type OpenCommandSpec, SELECTED } from "../context.ts";
import { quoted, untagged } from "../encoder.ts";
import { ParseError } from "../parser.ts";

/** RFC 2971 3.3: at most 30 pairs, field names of 30 octets, values of 1,024. */
const ID_MAX_PAIRS = 30;
const ID_MAX_FIELD = 30;
const ID_MAX_VALUE = 1024;

const utf8 = new TextEncoder();

function octets(text: Uint8Array | string): number {
  return typeof text === "string" ? utf8.encode(text).length : text.length;
}

/** ENABLE and ID are advertised from the greeting on (ENABLE works only after login). */
const always = () => true;

export const ANY_STATE_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["CAPABILITY", {
    states: ANY,
    allowExpunge: true,
    run(session, reader) {
      reader.end();
      session.out.push(untagged(`CAPABILITY ${session.capabilities().join(" ")}`));
    },
  }],
  ["NOOP", {
    states: ANY,
    allowExpunge: true,
    run(_session, reader) {
      reader.end();
    },
  }],
  ["LOGOUT", {
    states: ANY,
    allowExpunge: false,
    run(session, reader) {
      reader.end();
      session.out.push(untagged("BYE Elektromail logging out"));
      session.state = "logout";
      session.selection = null;
    },
  }],
  ["ENABLE", {
    states: ["authenticated"],
    allowExpunge: true,
    capabilities: ["ENABLE"],
    advertised: always,
    run(session, reader) {
      const enabled: string[] = [];
      do {
        reader.sp();
        const name = reader.readAtom();
        const upper = name.toUpperCase();
        if (upper === "IMAP4REV2" && !session.rev2) {
          session.rev2 = true;
          session.utf8 = true;
          enabled.push("IMAP4rev2");
        } else if (upper === "UTF8=ACCEPT" && !enabled.includes("UTF8=ACCEPT")) {
          session.utf8 = true;
          enabled.push("UTF8=ACCEPT");
        }
      } while (!reader.atEnd());
      reader.end();
      session.out.push(untagged(`ENABLED${enabled.map((name) => ` ${name}`).join("")}`));
    },
  }],
  ["ID", {
    states: ANY,
    allowExpunge: true,
    capabilities: ["ID"],
    advertised: always,
    run(session, reader) {
      reader.sp();
      if (!reader.tryKeyword("NIL")) {
        reader.expect("(");
        let pairs = 0;
        while (reader.peek() !== ")") {
          if (pairs > 0) reader.sp();
          const field = reader.readString();
          reader.sp();
          const value = reader.readNstring();
          // RFC 2971 3.3 limits what a client may send; past them the arguments are invalid,
          // which RFC 2971 3.1 answers with BAD. Exactly at them is fine.
          if (++pairs > ID_MAX_PAIRS) {
            throw new ParseError(`ID takes at most ${ID_MAX_PAIRS} field-value pairs`);
          }
          if (octets(field) > ID_MAX_FIELD) {
            throw new ParseError(`ID field names are at most ${ID_MAX_FIELD} octets`);
          }
          if (value !== null && octets(value) > ID_MAX_VALUE) {
            throw new ParseError(`ID values are at most ${ID_MAX_VALUE} octets`);
          }
        }
        reader.expect(")");
      }
      reader.end();
      session.out.push(
        untagged(
          `ID (${quoted("name")} ${quoted("Elektromail")} ${quoted("version")} ${quoted(VERSION)})`,
        ),
      );
    },
  }],
  ["CHECK", {
    states: SELECTED,
    allowExpunge: true,
    run(session, reader) {
      reader.end();
      if (session.rev2) {
        throw new ImapError("BAD", null, "CHECK is not part of IMAP4rev2; use NOOP");
      }
    },
  }],
];
