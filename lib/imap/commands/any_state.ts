/**
 * Commands valid in any state, and the small ones of the authenticated states.
 *
 * ```abnf
 * capability = "CAPABILITY"                       ; RFC 9051 6.1.1
 * noop       = "NOOP"                             ; RFC 9051 6.1.2
 * logout     = "LOGOUT"                           ; RFC 9051 6.1.3
 * enable     = "ENABLE" 1*(SP capability)         ; RFC 9051 6.3.1, RFC 5161, RFC 7162 3.1, 3.2.3
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
      const condstoreBefore = session.condstore;
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
        } else if (upper === "QRESYNC" && !session.qresync) {
          // RFC 7162 3.2.3: QRESYNC implies CONDSTORE.
          session.qresync = true;
          session.condstore = true;
          enabled.push("QRESYNC");
        } else if (upper === "CONDSTORE" && !condstoreBefore && !enabled.includes("CONDSTORE")) {
          session.condstore = true;
          enabled.push("CONDSTORE");
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
          reader.readString();
          reader.sp();
          reader.readNstring();
          if (++pairs > 30) throw new ParseError("ID takes at most 30 field-value pairs");
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
