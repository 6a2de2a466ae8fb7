/**
 * FETCH of items that come from a message's record alone (UID, FLAGS, MODSEQ, RFC822.SIZE,
 * INTERNALDATE): what a client syncing a mailbox asks of every message (`FETCH 1:* (UID
 * FLAGS)`), answered with one response line per message and no per-message item machinery
 * (no view of the message, no section cache, no closures). The answer is the one the general
 * path (commands/fetch.ts) gives; that path handles every other item.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { type AuthedSession, FLUSH_THRESHOLD } from "./context.ts";
import { formatInternalDate } from "./encoder.ts";
import type { FetchAttribute } from "./parse_fetch.ts";
import type { TargetRuns } from "./commands/targets.ts";
import { announceKeywords, sessionFlagList } from "./updates.ts";

/** Item kinds answered from the message's record. */
const META_KINDS: ReadonlySet<string> = new Set([
  "UID",
  "FLAGS",
  "MODSEQ",
  "RFC822.SIZE",
  "INTERNALDATE",
]);

/** `\Recent` of no message: IMAP4rev2 has none. */
const NO_RECENT = { has: (_uid: number) => false, interval: () => [0, 0] as const };

/** Whether every item of a FETCH comes from the message's record (none reads its bytes). */
export function recordItemsOnly(items: readonly FetchAttribute[]): boolean {
  for (const item of items) if (!META_KINDS.has(item.kind)) return false;
  return true;
}

/** Bytes of response lines gathered before they go to the builder as one part. */
const CHUNK_SIZE = 64 * 1024;
/** Room a line needs for `* n FETCH (` and `)` CRLF, and for each number item with its label. */
const LINE_ROOM = 32;
const ITEM_ROOM = 40;

const encoder = new TextEncoder();
const FETCH_OPEN = encoder.encode(" FETCH (");
const LINE_END = encoder.encode(")\r\n");
const SPACE = encoder.encode(" ");
const NOTHING = new Uint8Array(0);
const UID_ITEM = 0;
const FLAGS_ITEM = 1;
const MODSEQ_ITEM = 2;
const SIZE_ITEM = 3;
const DATE_ITEM = 4;
const ITEM_CODES: Readonly<Record<string, number>> = {
  UID: UID_ITEM,
  FLAGS: FLAGS_ITEM,
  MODSEQ: MODSEQ_ITEM,
  "RFC822.SIZE": SIZE_ITEM,
  INTERNALDATE: DATE_ITEM,
};
const LABELS: Readonly<Record<string, Uint8Array>> = {
  UID: encoder.encode("UID "),
  MODSEQ: encoder.encode("MODSEQ ("),
  "RFC822.SIZE": encoder.encode("RFC822.SIZE "),
  INTERNALDATE: encoder.encode("INTERNALDATE "),
};

/**
 * Writes `n`, a non-negative integer, in decimal at `at`; returns the end. Response numbers
 * are written straight as digits: a cold server runs this in V8's interpreter for the first
 * few thousand messages, where every character through a string costs a loop turn.
 */
function writeNumber(buf: Uint8Array, at: number, n: number): number {
  if (n > 0xffffffff) return at + encoder.encodeInto(String(n), buf.subarray(at)).written;
  let end = at + 1;
  for (let bound = 10; bound <= n; bound *= 10) end++;
  for (let i = end - 1; i >= at; i--) {
    const digit = n % 10;
    buf[i] = 0x30 + digit;
    n = (n - digit) / 10;
  }
  return end;
}

/** What every line of one FETCH of record items has in common, worked out once. */
interface LinePlan {
  /** Each item as a small number (`UID_ITEM` …). */
  readonly codes: readonly number[];
  /** What goes before each item: the line's opening or a space, and its label, as one piece. */
  readonly prefixes: readonly Uint8Array[];
  readonly hasFlags: boolean;
  readonly hasDate: boolean;
  /** Room a line needs besides its FLAGS and INTERNALDATE bytes. */
  readonly baseRoom: number;
}

/**
 * The {@linkcode LinePlan} of `items`; once CONDSTORE is on, a response with FLAGS carries
 * MODSEQ too (RFC 7162 3.1.4). FLAGS has no label of its own: its bytes begin `FLAGS`.
 */
function linePlan(session: AuthedSession, items: readonly FetchAttribute[]): LinePlan {
  const kinds = items.map((item) => item.kind);
  if (
    session.condstore && kinds.includes("FLAGS") && !kinds.includes("MODSEQ")
  ) kinds.push("MODSEQ");
  const codes = kinds.map((kind) => ITEM_CODES[kind]);
  return {
    codes,
    prefixes: kinds.map((kind, i) =>
      concatBytes([i === 0 ? FETCH_OPEN : SPACE, LABELS[kind] ?? NOTHING])
    ),
    hasFlags: codes.includes(FLAGS_ITEM),
    hasDate: codes.includes(DATE_ITEM),
    baseRoom: LINE_ROOM + kinds.length * ITEM_ROOM,
  };
}

/** A FETCH's `FLAGS (...)` bytes by stored list. */
class FlagBytes {
  /** Without and with `\Recent`. */
  readonly #bytes = [
    new Map<readonly string[], Uint8Array>(),
    new Map<readonly string[], Uint8Array>(),
  ];

  get(
    session: AuthedSession,
    uid: number,
    flags: readonly string[],
    isRecent: boolean,
  ): Uint8Array {
    const cache = this.#bytes[isRecent ? 1 : 0];
    let bytes = cache.get(flags);
    if (bytes === undefined) {
      bytes = encoder.encode(`FLAGS ${sessionFlagList(session, uid, flags)}`);
      cache.set(flags, bytes);
    }
    return bytes;
  }
}

/**
 * Writes the FETCH responses of the messages of `runs` for record-only `items` (see
 * {@linkcode recordItemsOnly}); returns how many targets no longer exist in the store.
 * Once CONDSTORE is on, a response with FLAGS carries MODSEQ too (RFC 7162 3.1.4).
 * The lines are written as bytes: `FLAGS (...)` once per distinct (interned) flag list and
 * `\Recent` state, the numbers as digits, so a message costs a few small copies.
 */
export async function fetchRecordItems(
  session: AuthedSession,
  mailbox: string,
  { runs, uids }: TargetRuns,
  items: readonly FetchAttribute[],
): Promise<number> {
  const { store } = session.ctx;
  const user = session.user;
  const out = session.out;
  // The session's work is synchronous from here to the end of a batch: no other session's
  // change can come between the messages, so new keywords are announced once.
  announceKeywords(session);
  let missing = 0;
  const recent = session.rev2 ? NO_RECENT : session.selection?.recent ?? NO_RECENT;
  // The recent UIDs as bounds when they are one interval (a SELECT's claim): no call each.
  let interval = recent.interval();
  let recentAbove = interval?.[0] ?? 0;
  let recentUpTo = interval?.[1] ?? 0;
  const flagBytes = new FlagBytes();
  const { codes, prefixes, hasFlags, hasDate, baseRoom } = linePlan(session, items);
  let lastList: readonly string[] | null = null;
  let lastRecent = false;
  let lastBytes: Uint8Array | null = null;
  // Record fields are read at once, before the next change (MessageState is live).
  const statesFrom = (first: number) =>
    store.messageStates(user, mailbox, first === 0 ? uids : uids.slice(first));
  let states = statesFrom(0);
  let base = 0;
  let buf = new Uint8Array(CHUNK_SIZE);
  let at = 0;
  let written = 0;
  // The t-th message of the runs; the loop is over each run's sequence numbers.
  let t = -1;
  let r = 0;
  let seq = runs.length > 0 ? runs[0][0] - 1 : 0;
  while (++t < uids.length) {
    if (++seq > runs[r][1]) seq = runs[++r][0];
    const uid = uids[t];
    const meta = states[t - base];
    if (!meta) {
      missing++;
      continue;
    }
    let flags: Uint8Array | null = null;
    let date: Uint8Array | null = null;
    let room = baseRoom;
    if (hasFlags) {
      // Messages in a row mostly share their list: the last one's bytes before the maps.
      const isRecent = interval !== null ? uid > recentAbove && uid <= recentUpTo : recent.has(uid);
      if (meta.flags === lastList && isRecent === lastRecent && lastBytes !== null) {
        flags = lastBytes;
      } else {
        flags = flagBytes.get(session, uid, meta.flags, isRecent);
        lastList = meta.flags;
        lastRecent = isRecent;
        lastBytes = flags;
      }
      room += flags.length;
    }
    if (hasDate) {
      date = encoder.encode(formatInternalDate(meta.internalDate));
      room += date.length;
    }
    if (at + room > buf.length) {
      out.push(buf.subarray(0, at));
      // Each full chunk goes to the socket at once, unawaited (a write does not yield): the
      // client reads and parses it while the rest is made, as Dovecot's output streams.
      // `written` keeps the awaited flush below (where a slow reader holds us back) every
      // FLUSH_THRESHOLD bytes, as if the chunks had stayed in `out`.
      written += at;
      void session.flush();
      buf = new Uint8Array(Math.max(CHUNK_SIZE, room));
      at = 0;
    }
    buf[at++] = 0x2a; // "*"
    buf[at++] = 0x20;
    at = writeNumber(buf, at, seq);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      const prefix = prefixes[i];
      buf.set(prefix, at);
      at += prefix.length;
      if (code === FLAGS_ITEM) {
        buf.set(flags!, at);
        at += flags!.length;
      } else if (code === UID_ITEM) at = writeNumber(buf, at, uid);
      else if (code === SIZE_ITEM) at = writeNumber(buf, at, meta.size);
      else if (code === MODSEQ_ITEM) {
        at = writeNumber(buf, at, meta.modseq);
        buf[at++] = 0x29; // ")"
      } else {
        buf.set(date!, at);
        at += date!.length;
      }
    }
    buf.set(LINE_END, at);
    at += LINE_END.length;
    if (written + out.length + at > FLUSH_THRESHOLD) {
      written = 0;
      out.push(buf.subarray(0, at));
      buf = new Uint8Array(CHUNK_SIZE);
      at = 0;
      await session.flush();
      if (session.ended) return missing;
      announceKeywords(session);
      // The records are live: read them again after giving other sessions a turn.
      base = t + 1;
      states = statesFrom(base);
      interval = recent.interval();
      recentAbove = interval?.[0] ?? 0;
      recentUpTo = interval?.[1] ?? 0;
    }
  }
  if (at > 0) out.push(buf.subarray(0, at));
  return missing;
}
