/**
 * Named writers for the untagged responses that more than one command sends (as go-imap's
 * `select.go` and `UpdateWriter`): SELECT, STORE, LIST and the unilateral updates all write
 * these shapes through here, so each is written once.
 *
 * ```abnf
 * message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))      ; RFC 9051 7.5
 * mailbox-data = "FLAGS" SP flag-list / "LIST" SP mailbox-list /
 *                number SP "EXISTS"                                    ; RFC 9051 7.3
 * mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
 *                [SP mbox-list-extended]
 * resp-text-code =/ "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")"
 * ```
 *
 * @module
 */

import { SYSTEM_FLAGS } from "../store/flags.ts";
import { HIERARCHY_DELIMITER } from "../store/types.ts";
import { flagList, mailboxName, quoted, type ResponseBuilder, untagged } from "./encoder.ts";

/** `* n EXISTS` (RFC 9051 7.4.1). */
export function writeExists(out: ResponseBuilder, count: number): void {
  out.push(untagged(`${count} EXISTS`));
}

/** `* n RECENT` (RFC 3501 7.3.2; IMAP4rev1 sessions only). */
export function writeRecent(out: ResponseBuilder, count: number): void {
  out.push(untagged(`${count} RECENT`));
}

/** `* seq EXPUNGE` (RFC 9051 7.5.1). */
export function writeExpunge(out: ResponseBuilder, seq: number): void {
  out.push(untagged(`${seq} EXPUNGE`));
}

/**
 * `* FLAGS (...)` and its `PERMANENTFLAGS` (RFC 9051 7.3.5, 7.1): the system flags and the
 * mailbox's keywords; new keywords may be created (`\*`) unless the mailbox is read-only.
 */
export function writeFlags(
  out: ResponseBuilder,
  keywords: ReadonlySet<string>,
  readOnly: boolean,
): void {
  // A mailbox without keywords (most, and every one fresh from an APPEND burst) has the
  // lines built once: a first SELECT after a burst spent ~15 us of its ~0.1 ms building them.
  const [flags, permanent] = keywords.size === 0 ? SYSTEM_FLAG_LINES : flagLines(keywords);
  out.push(flags);
  out.push(readOnly ? READ_ONLY_PERMANENT_FLAGS : permanent);
}

/** The `FLAGS` line and the read-write `PERMANENTFLAGS` line of the system flags and these keywords. */
function flagLines(keywords: Iterable<string>): readonly [string, string] {
  const all = [...SYSTEM_FLAGS, ...keywords];
  return [
    untagged(`FLAGS ${flagList(all)}`),
    untagged(`OK [PERMANENTFLAGS ${flagList([...all, "\\*"])}] Flags permitted`),
  ];
}

const SYSTEM_FLAG_LINES = flagLines([]);
const READ_ONLY_PERMANENT_FLAGS = untagged("OK [PERMANENTFLAGS ()] Read-only mailbox");

/**
 * `* seq FETCH ([UID uid ]FLAGS flags[ MODSEQ (modseq)])` (RFC 9051 7.5.2, RFC 7162 3.1.4.1):
 * `flags` is the encoded list as the session sees it (see `sessionFlagList` in updates.ts);
 * `uid` null leaves the UID out, `modseq` null the MODSEQ (a session without CONDSTORE).
 */
export function writeFetchFlags(
  out: ResponseBuilder,
  seq: number,
  uid: number | null,
  flags: string,
  modseq: number | null = null,
): void {
  const tail = modseq === null ? "" : ` MODSEQ (${modseq})`;
  out.push(untagged(`${seq} FETCH (${uid === null ? "" : `UID ${uid} `}FLAGS ${flags}${tail})`));
}

/**
 * `* VANISHED [(EARLIER) ]uids` (RFC 7162 3.2.10): UIDs expunged, as a sequence set; the
 * QRESYNC form of EXPUNGE. Nothing for an empty list.
 */
export function writeVanished(
  out: ResponseBuilder,
  ranges: ReadonlyArray<readonly [number, number]>,
  earlier: boolean,
): void {
  if (ranges.length === 0) return;
  const set = ranges.map(([low, high]) => low === high ? `${low}` : `${low}:${high}`).join(",");
  out.push(untagged(`VANISHED ${earlier ? "(EARLIER) " : ""}${set}`));
}

/** `* OK [HIGHESTMODSEQ n]` (RFC 7162 3.1.2.1). */
export function writeHighestModseq(out: ResponseBuilder, modseq: number): void {
  out.push(untagged(`OK [HIGHESTMODSEQ ${modseq}] Highest`));
}

/**
 * `* LIST (attributes) "/" name [extended]` (RFC 9051 7.3.1), or `* LSUB` (RFC 3501 7.2.3);
 * `childInfo` is RFC 5258's CHILDINFO extended data.
 */
export function writeListLine(
  out: ResponseBuilder,
  verb: "LIST" | "LSUB",
  attributes: readonly string[],
  name: string,
  utf8: boolean,
  childInfo: readonly string[] = [],
): void {
  const extended = childInfo.length > 0
    ? ` ("CHILDINFO" (${childInfo.map(quoted).join(" ")}))`
    : "";
  out.push(
    `* ${verb} (${attributes.join(" ")}) ${quoted(HIERARCHY_DELIMITER)} `,
    mailboxName(name, utf8),
    `${extended}\r\n`,
  );
}
