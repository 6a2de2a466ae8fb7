/**
 * FETCH of one `BODY.PEEK[HEADER.FIELDS (..)]` (or `HEADER.FIELDS.NOT`) of whole messages,
 * with record items beside it (UID, RFC822.SIZE, INTERNALDATE, MODSEQ): what a mail client
 * asks of every message to fill its message list (`UID FETCH 1:* (UID RFC822.SIZE
 * BODY.PEEK[HEADER.FIELDS (From Subject Date)])`). Answered like the record FETCH of
 * fetch_meta.ts: response lines written straight into 64 KiB chunks, the fields copied from
 * the copy of the root header each message's MIME index keeps (mime_table.ts `rootHeader`),
 * no view of the message, no section cache, no closures or strings a message. The answer is
 * the one the general path (commands/fetch.ts) gives; that path handles every other FETCH.
 *
 * Nothing is kept per message: finding a header's fields is a scan of a few hundred bytes
 * (about a microsecond a message over bench/imap_corpus.ts), and a repeated FETCH ran no
 * slower than when the general path kept each message's item, which cost memory (a map and a
 * copy a message) and garbage collection.
 *
 * @module
 */

import { parseHeaderFields } from "../mail/headers.ts";
import type { MessageState, Store } from "../store/types.ts";
import type { TargetRuns } from "./commands/targets.ts";
import type { AuthedSession } from "./context.ts";
import { formatInternalDate } from "./encoder.ts";
import { type FieldMatcher, fieldMatcher, FieldSlices } from "./header_fields.ts";
import { writeChunked } from "./line_chunks.ts";
import { type FetchAttribute, responseKey } from "./parse_fetch.ts";
import { announceKeywords } from "./updates.ts";

/** A line's fields after its sequence number. */
const UID_FIELD = 0;
const SIZE_FIELD = 1;
const MODSEQ_FIELD = 2;
const DATE_FIELD = 3;
const SECTION_FIELD = 4;

/** Record items: their field, and the text before and after the value. */
const RECORD_FIELDS: ReadonlyMap<string, readonly [number, string, string]> = new Map([
  ["UID", [UID_FIELD, "UID ", ""]],
  ["RFC822.SIZE", [SIZE_FIELD, "RFC822.SIZE ", ""]],
  ["MODSEQ", [MODSEQ_FIELD, "MODSEQ (", ")"]],
  ["INTERNALDATE", [DATE_FIELD, "INTERNALDATE ", ""]],
]);

/** Room a line needs for `* `, its sequence number and a field, and for the literal's `{n}` CRLF. */
const NUMBER_ROOM = 24;
/** `"25-Nov-2026 07:22:01 +0000"`. */
const DATE_ROOM = 28;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What every line of one such FETCH has in common, worked out once. */
export interface HeaderFieldsPlan {
  /** The line's fields after its sequence number, in order (`UID_FIELD` ...). */
  readonly fields: readonly number[];
  /** The constant bytes before each field and after the last (` FETCH (UID `, ..., `)` CRLF). */
  readonly gaps: readonly Uint8Array[];
  /** Room a line needs besides its section's bytes. */
  readonly room: number;
  readonly matcher: FieldMatcher;
}

/**
 * The {@linkcode HeaderFieldsPlan} of `items` when they are record items and exactly one
 * whole `BODY.PEEK[HEADER.FIELDS (..)]` or `BODY.PEEK[HEADER.FIELDS.NOT (..)]` of the
 * message (no part, no partial); null for any other FETCH.
 */
export function headerFieldsPlan(items: readonly FetchAttribute[]): HeaderFieldsPlan | null {
  const fields: number[] = [];
  const gaps: string[] = [];
  let gap = " FETCH (";
  let matcher: FieldMatcher | null = null;
  for (const item of items) {
    if (fields.length > 0) gap += " ";
    let after = "";
    const record = RECORD_FIELDS.get(item.kind);
    if (record) {
      fields.push(record[0]);
      gap += record[1];
      after = record[2];
    } else if (item.kind === "BODY" && "section" in item && matcher === null) {
      const { section, peek, partial } = item;
      const text = section.text;
      if (!peek || partial || section.part.length > 0) return null;
      if (text !== "HEADER.FIELDS" && text !== "HEADER.FIELDS.NOT") return null;
      matcher = fieldMatcher(section);
      fields.push(SECTION_FIELD);
      gap += `${responseKey(item)} `;
    } else return null;
    gaps.push(gap);
    gap = after;
  }
  if (matcher === null) return null;
  gaps.push(`${gap})\r\n`);
  const encoded = gaps.map((text) => encoder.encode(text));
  const room = encoded.reduce((sum, piece) => sum + piece.length, NUMBER_ROOM) +
    fields.reduce((sum, field) => sum + (field === DATE_FIELD ? DATE_ROOM : NUMBER_ROOM), 0);
  return { fields, gaps: encoded, room, matcher };
}

/**
 * Where the writing of one FETCH's lines stands: {@linkcode writeLines} goes on from it and
 * leaves it where it stopped.
 */
interface LineJob {
  readonly store: Store;
  readonly user: string;
  readonly mailbox: string;
  readonly plan: HeaderFieldsPlan;
  readonly slices: FieldSlices;
  readonly uids: readonly number[];
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** The records of `uids` from `base` on, read at once (MessageState is live). */
  states: ReadonlyArray<MessageState | undefined>;
  base: number;
  /** The next message: its index in `uids`, its run, and the sequence number before it. */
  t: number;
  r: number;
  seq: number;
  /** Messages no longer in the store. */
  missing: number;
  buf: Uint8Array;
  at: number;
  /** Room the line that did not fit needs. */
  need: number;
}

/**
 * Writes the job's lines into its buffer until they are done or the next one does not fit.
 * The per-message loop, in a function of its own (as fetch_meta.ts `writeLines`): the startup
 * warm-up's FETCHes of a few messages take it through every step a large FETCH takes.
 */
function writeLines(job: LineJob): void {
  const { store, user, mailbox, plan, slices, uids, runs, states, base, buf } = job;
  const { fields, gaps, matcher } = plan;
  const last = fields.length;
  let { t, r, seq, missing, at } = job;
  let need = 0;
  const count = uids.length;
  for (; t < count; t++) {
    const uid = uids[t];
    const meta = states[t - base];
    // The message's sequence number: the next one, or the next run's first.
    const runEnds = seq === runs[r][1];
    const index = meta === undefined ? undefined : store.getIndex(user, mailbox, uid);
    if (meta === undefined || index === undefined) {
      seq = runEnds ? runs[++r][0] : seq + 1;
      missing++;
      continue;
    }
    // The root header's copy, at the end of the table's header bytes (no view a message).
    const header = index.parts.headerBytes;
    const start = index.parts.rootHeaderAt;
    if (!slices.find(header, start, header.length, matcher)) {
      slices.findParsed(header, parseHeaderFields(header, start, header.length), matcher);
    }
    const room = plan.room + slices.length;
    if (at + room > buf.length) {
      need = room;
      break;
    }
    seq = runEnds ? runs[++r][0] : seq + 1;
    buf[at] = 0x2a; // "*"
    buf[at + 1] = 0x20;
    at = writeNumber(buf, at + 2, seq);
    for (let f = 0; f < last; f++) {
      const gap = gaps[f];
      buf.set(gap, at);
      at += gap.length;
      const field = fields[f];
      if (field === SECTION_FIELD) {
        buf[at] = 0x7b; // {
        at = writeNumber(buf, at + 1, slices.length);
        buf[at] = 0x7d; // }
        buf[at + 1] = 0x0d;
        buf[at + 2] = 0x0a;
        at = slices.writeLiteral(header, buf, at + 3);
      } else if (field === UID_FIELD) at = writeNumber(buf, at, uid);
      else if (field === SIZE_FIELD) at = writeNumber(buf, at, meta.size);
      else if (field === MODSEQ_FIELD) at = writeNumber(buf, at, meta.modseq);
      else at = writeDate(buf, at, meta.internalDate);
    }
    const end = gaps[last];
    buf.set(end, at);
    at += end.length;
  }
  job.t = t;
  job.r = r;
  job.seq = seq;
  job.missing = missing;
  job.at = at;
  job.need = need;
}

/**
 * Writes `n`, a non-negative safe integer, in decimal at `at`; returns the end. The same steps
 * as fetch_meta.ts `writeNumber`, deliberately a function of this module's own: shared, the
 * warm-up's header-list FETCHes called it often enough that V8 compiled it on its own and the
 * record FETCH's loop no longer had it to itself (cold `FETCH 1:* (UID FLAGS)`, JavaScript
 * thread, 6 alternating pairs: 1.58 ms shared, 1.33 ms apart; header-list FETCH 13.8 / 11.7 ms).
 * Measured again with round 8's shorter warm-up (no repeated header-list FETCH), 8 pairs of
 * `BENCH_MAIN_THREAD=1 bench/imap_load.ts --cold`, medians: record FETCH 1.20 ms shared, 1.04
 * apart; header-list FETCH 12.5 / 12.3 ms.
 */
function writeNumber(buf: Uint8Array, at: number, n: number): number {
  let end = at;
  let bound = 1;
  do {
    end++;
    bound *= 10;
  } while (bound <= n);
  let i = end;
  do {
    const digit = n % 10;
    buf[--i] = 0x30 + digit;
    n = (n - digit) / 10;
  } while (i > at);
  return end;
}

/** INTERNALDATE's quoted date at `at`; returns the end. Out of the loop: rarely asked. */
function writeDate(buf: Uint8Array, at: number, ms: number): number {
  return at + encoder.encodeInto(formatInternalDate(ms), buf.subarray(at)).written;
}

/**
 * Writes the FETCH responses of the messages of `runs` for the items of `plan` (see
 * {@linkcode headerFieldsPlan}); returns how many targets no longer exist in the store.
 */
export async function fetchHeaderFields(
  session: AuthedSession,
  mailbox: string,
  { runs, uids }: TargetRuns,
  plan: HeaderFieldsPlan,
): Promise<number> {
  const { store } = session.ctx;
  const user = session.user;
  // No FLAGS here, but a keyword set by another session is still announced first (RFC 9051
  // 7.3.5), as the general path does.
  announceKeywords(session);
  const statesFrom = (first: number) =>
    store.messageStates(user, mailbox, first === 0 ? uids : uids.slice(first), true);
  const job: LineJob = {
    store,
    user,
    mailbox,
    plan,
    slices: new FieldSlices(),
    uids,
    runs,
    states: [],
    base: 0,
    t: 0,
    r: 0,
    seq: runs.length > 0 ? runs[0][0] - 1 : 0,
    missing: 0,
    buf: EMPTY,
    at: 0,
    need: 0,
  };
  const reread = (job: LineJob) => {
    // Written after the job is made, as each is again after a flush: V8 takes a field never
    // written after its object was made for a constant (see fetch_meta.ts `readStates`).
    job.base = job.t;
    job.states = statesFrom(job.t);
  };
  reread(job);
  await writeChunked(session, job, uids.length, uids.length * (plan.room + 256), {
    write(job) {
      writeLines(job);
      return true;
    },
    reread,
  });
  return job.missing;
}
