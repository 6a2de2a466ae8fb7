/**
 * FETCH of items that come from a message's record alone (UID, FLAGS, MODSEQ, RFC822.SIZE,
 * INTERNALDATE): what a client syncing a mailbox asks of every message (`FETCH 1:* (UID
 * FLAGS)`), answered with one response line per message and no per-message item machinery
 * (no view of the message, no section cache, no closures). The answer is the one the general
 * path (commands/fetch.ts) gives; that path handles every other item.
 *
 * A line is its sequence number, then the numbers (and dates) of its items between constant
 * pieces: `* 12 FETCH (UID 40 FLAGS (\Seen))` is `12`, ` FETCH (UID `, `40`, then
 * ` FLAGS (\Seen))` CRLF. The pieces depend on the message's flag list only, so they are
 * encoded once per distinct (interned) list and `\Recent` state, and a line costs a copy per
 * piece and its numbers written as digits. Most lines after a burst of new mail are the one
 * before with the sequence number and UID one higher: such a line is a copy of that one with
 * a digit or two counted up, which costs a few steps even in V8's interpreter (a first
 * `FETCH 1:* (UID FLAGS)` of 5,000 messages runs there until the loop is compiled).
 *
 * @module
 */

import type { AuthedSession } from "./context.ts";
import { formatInternalDate } from "./encoder.ts";
import type { FetchAttribute } from "./parse_fetch.ts";
import type { TargetRuns } from "./commands/targets.ts";
import { type ChunkWriter, writeChunked, writeChunkedNow } from "./line_chunks.ts";
import { announceKeywords, sessionFlagList } from "./updates.ts";
import type { MessageState } from "../store/types.ts";

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

/** Room a line needs for `* ` and its sequence number, and for each of its fields. */
const SEQ_ROOM = 12;
const FIELD_ROOM = 40;
/** What a line's constant pieces take, as a guess: a line's opening and a few flags. */
const PIECES_ESTIMATE = 64;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** The fields of a line after its sequence number: numbers, or INTERNALDATE's date. */
const UID_FIELD = 0;
const SIZE_FIELD = 1;
const MODSEQ_FIELD = 2;
const DATE_FIELD = 3;
/** Where a constant piece holds the message's `FLAGS (...)`. */
const FLAGS = Symbol("FLAGS");
type Piece = string | typeof FLAGS;

/**
 * Writes `n`, a non-negative safe integer, in decimal at `at`; returns the end. Response
 * numbers are written straight as digits, no string each. Each step runs for every number,
 * one digit long or ten: what the startup warm-up's small numbers teach the optimizing
 * compiler holds for larger ones. Kept small (under Maglev's 100 bytes of bytecode) so that
 * it is inlined into {@linkcode writeLines}: no call per number, and no tier-up of its own
 * whose Turbofan compile ran beside the first large FETCH.
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

/**
 * Adds one to the decimal number whose last digit is at `end - 1` in `buf`, in place; false
 * (the digits then unusable) when it needs one digit more (`99` -> `100`), which the caller
 * writes anew. The byte before a number is never a digit (`* 12`, `UID 40`).
 */
function countUp(buf: Uint8Array, end: number): boolean {
  let i = end;
  let code: number;
  // Every step runs on every call (a 9 is written back as 0), so that the optimized code
  // made from the startup warm-up's small numbers holds for any.
  do {
    code = buf[--i];
    buf[i] = 0x30;
  } while (code === 0x39);
  if (code < 0x30 || code > 0x39) return false;
  buf[i] = code + 1;
  return true;
}

/** What every line of one FETCH of record items has in common, worked out once. */
interface LinePlan {
  /** The line's fields after its sequence number, in order (`UID_FIELD` ...). */
  readonly fields: readonly number[];
  /** The constant text before each field and after the last, `FLAGS` where they go. */
  readonly gaps: ReadonlyArray<readonly Piece[]>;
  /** Room a line needs besides its constant pieces. */
  readonly room: number;
  /**
   * Whether a line's only numbers are its sequence number, its UID and its MODSEQ (each at
   * most once), so that the line of the next message (sequence number and UID one higher,
   * MODSEQ the same or one higher, same flags) is the previous line with those numbers
   * counted up in place ({@linkcode writeLines}). After a burst of new mail each message has
   * a MODSEQ of its own, one above the one before; after a STORE on them all, one for all.
   */
  readonly countable: boolean;
}

/**
 * The {@linkcode LinePlan} of `items`; once CONDSTORE is on, a response with FLAGS carries
 * MODSEQ too (RFC 7162 3.1.4).
 */
function linePlan(session: AuthedSession, items: readonly FetchAttribute[]): LinePlan {
  const kinds = items.map((item) => item.kind);
  if (
    session.condstore && kinds.includes("FLAGS") && !kinds.includes("MODSEQ")
  ) kinds.push("MODSEQ");
  const fields: number[] = [];
  const gaps: Piece[][] = [];
  let gap: Piece[] = [" FETCH ("];
  const field = (code: number, label: string, after = "") => {
    gap.push(label);
    gaps.push(gap);
    fields.push(code);
    gap = [after];
  };
  kinds.forEach((kind, i) => {
    if (i > 0) gap.push(" ");
    if (kind === "FLAGS") gap.push(FLAGS);
    else if (kind === "UID") field(UID_FIELD, "UID ");
    else if (kind === "RFC822.SIZE") field(SIZE_FIELD, "RFC822.SIZE ");
    else if (kind === "MODSEQ") field(MODSEQ_FIELD, "MODSEQ (", ")");
    else field(DATE_FIELD, "INTERNALDATE ");
  });
  gap.push(")\r\n");
  gaps.push(gap);
  // A field asked twice is written twice: only its last place would be counted up.
  const countable = fields.every((code) => code === UID_FIELD || code === MODSEQ_FIELD) &&
    new Set(fields).size === fields.length;
  return { fields, gaps, room: SEQ_ROOM + fields.length * FIELD_ROOM, countable };
}

/** The constant pieces of the lines of messages with one flag list, and the room a line needs. */
interface LineTemplate {
  readonly pieces: readonly Uint8Array[];
  readonly room: number;
}

/** A FETCH's {@linkcode LineTemplate}s by stored flag list, without and with `\Recent`. */
interface Templates {
  readonly plan: LinePlan;
  readonly byList: readonly [
    Map<readonly string[], LineTemplate>,
    Map<readonly string[], LineTemplate>,
  ];
}

/**
 * Adds the template of the job's next message (which {@linkcode writeLines} stopped at for
 * want of it). Made out here, not in that loop: V8 would compile it into the loop's optimized
 * code (it runs once per message of the warm-up's small FETCHes), and that code took 50 to
 * 75 ms of compiling.
 */
function addTemplate(job: LineJob): void {
  const { session, templates } = job;
  const uid = job.uids[job.t];
  const flags = job.states[job.t - job.base]!.flags;
  const isRecent = job.interval
    ? uid > job.recentAbove && uid <= job.recentUpTo
    : job.recent.has(uid);
  const text = `FLAGS ${sessionFlagList(session, uid, flags)}`;
  const pieces = templates.plan.gaps.map((gap) =>
    encoder.encode(gap.map((piece) => piece === FLAGS ? text : piece).join(""))
  );
  const room = pieces.reduce((sum, piece) => sum + piece.length, templates.plan.room);
  templates.byList[isRecent ? 1 : 0].set(flags, { pieces, room });
}

/**
 * Where the writing of one FETCH's lines stands: {@linkcode writeLines} goes on from it and
 * leaves it where it stopped.
 */
interface LineJob {
  readonly session: AuthedSession;
  readonly uids: readonly number[];
  readonly runs: ReadonlyArray<readonly [number, number]>;
  readonly templates: Templates;
  readonly recent: { has(uid: number): boolean; interval(): readonly [number, number] | null };
  /** The recent UIDs as bounds `(above, upTo]`, when they are one interval: no call each. */
  interval: boolean;
  recentAbove: number;
  recentUpTo: number;
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
  /** Whether it stopped at a message whose flag list has no template yet. */
  unknownList: boolean;
  /** The last message's flag list and `\Recent` state, and their template. */
  lastList: readonly string[] | null;
  lastRecent: boolean;
  lastTemplate: LineTemplate | null;
}

/**
 * Writes the job's lines into its buffer until they are done, or the next one does not fit
 * or has a flag list without a template yet ({@linkcode addTemplate}).
 * The per-message loop, in a function of its own: the startup warm-up's FETCHes on a few
 * messages take it through every step a large FETCH takes, so the code V8 optimizes for it
 * there serves the first large FETCH whole, without falling back at a chunk's end.
 */
function writeLines(job: LineJob): void {
  const { uids, runs, templates, recent, states, base, buf } = job;
  const fields = templates.plan.fields;
  const countable = templates.plan.countable;
  const byList = templates.byList;
  const last = fields.length;
  const { interval, recentAbove, recentUpTo } = job;
  let { t, r, seq, missing, at, lastList, lastRecent, lastTemplate } = job;
  let need = 0;
  let unknownList = false;
  // The line just written, when the next one may be it with its numbers counted up: where
  // it starts (-1: none), its length, its numbers, and where they end in it (0: no such
  // field).
  let copyFrom = -1;
  let copyLength = 0;
  let copySeq = 0;
  let copyUid = 0;
  let copyModseq = 0;
  let seqEnd = 0;
  let uidEnd = 0;
  let modseqEnd = 0;
  const count = uids.length;
  for (; t < count; t++) {
    const uid = uids[t];
    const meta = states[t - base];
    // The message's sequence number: the next one, or the next run's first.
    const runEnds = seq === runs[r][1];
    if (meta === undefined) {
      seq = runEnds ? runs[++r][0] : seq + 1;
      missing++;
      continue;
    }
    const isRecent = interval ? uid > recentAbove && uid <= recentUpTo : recent.has(uid);
    // Messages in a row mostly share their list: the last one's template before the maps.
    if (meta.flags !== lastList || isRecent !== lastRecent || lastTemplate === null) {
      const found = byList[isRecent ? 1 : 0].get(meta.flags);
      if (found === undefined) {
        unknownList = true;
        break;
      }
      lastTemplate = found;
      lastList = meta.flags;
      lastRecent = isRecent;
      copyFrom = -1;
    }
    const room = lastTemplate.room;
    if (at + room > buf.length) {
      need = room;
      break;
    }
    seq = runEnds ? runs[++r][0] : seq + 1;
    // After a burst of new mail most lines are the one before with its numbers one higher:
    // a copy (one native call) and a digit or two, instead of every piece and digit.
    const modseq = meta.modseq;
    const modseqStep = modseq - copyModseq;
    if (
      copyFrom >= 0 && seq === copySeq + 1 && (uidEnd === 0 || uid === copyUid + 1) &&
      (modseqEnd === 0 || modseqStep === 0 || modseqStep === 1)
    ) {
      buf.copyWithin(at, copyFrom, copyFrom + copyLength);
      if (
        countUp(buf, at + seqEnd) && (uidEnd === 0 || countUp(buf, at + uidEnd)) &&
        (modseqEnd === 0 || modseqStep === 0 || countUp(buf, at + modseqEnd))
      ) {
        copyFrom = at;
        copySeq = seq;
        copyUid = uid;
        copyModseq = modseq;
        at += copyLength;
        continue;
      }
    }
    const start = at;
    const pieces = lastTemplate.pieces;
    buf[at] = 0x2a; // "*"
    buf[at + 1] = 0x20;
    at = writeNumber(buf, at + 2, seq);
    seqEnd = at - start;
    uidEnd = 0;
    modseqEnd = 0;
    for (let f = 0; f < last; f++) {
      const piece = pieces[f];
      buf.set(piece, at);
      at += piece.length;
      const field = fields[f];
      if (field === UID_FIELD) {
        at = writeNumber(buf, at, uid);
        uidEnd = at - start;
      } else if (field === SIZE_FIELD) at = writeNumber(buf, at, meta.size);
      else if (field === MODSEQ_FIELD) {
        at = writeNumber(buf, at, modseq);
        modseqEnd = at - start;
      } else {
        const date = formatInternalDate(meta.internalDate);
        at += encoder.encodeInto(date, buf.subarray(at)).written;
      }
    }
    const end = pieces[last];
    buf.set(end, at);
    at += end.length;
    if (countable) {
      copyFrom = start;
      copyLength = at - start;
      copySeq = seq;
      copyUid = uid;
      copyModseq = modseq;
    }
  }
  job.t = t;
  job.r = r;
  job.seq = seq;
  job.missing = missing;
  job.at = at;
  job.need = need;
  job.unknownList = unknownList;
  job.lastList = lastList;
  job.lastRecent = lastRecent;
  job.lastTemplate = lastTemplate;
}

/**
 * Reads the records from the job's next message on, and the recent UIDs' bounds, into the
 * job: at the start, and again after other sessions had a turn (the records are live).
 * Called at the start too, over the placeholders the job is made with: V8 takes a field
 * never written after its object was made for a constant, and would throw away the
 * optimized {@linkcode writeLines} the first time a large FETCH changes it.
 */
function readStates(job: LineJob, read: (first: number) => Array<MessageState | undefined>) {
  job.base = job.t;
  job.states = read(job.t);
  const interval = job.recent.interval();
  job.interval = interval !== null;
  job.recentAbove = interval?.[0] ?? 0;
  job.recentUpTo = interval?.[1] ?? 0;
}

/**
 * Writes the FETCH responses of the messages of `runs` for record-only `items` (see
 * {@linkcode recordItemsOnly}); returns how many targets no longer exist in the store.
 * Once CONDSTORE is on, a response with FLAGS carries MODSEQ too (RFC 7162 3.1.4).
 */
export async function fetchRecordItems(
  session: AuthedSession,
  mailbox: string,
  targets: TargetRuns,
  items: readonly FetchAttribute[],
): Promise<number> {
  const { job, estimate, writer } = recordJob(session, mailbox, targets, items);
  await writeChunked(session, job, targets.uids.length, estimate, writer);
  return job.missing;
}

/**
 * As {@linkcode fetchRecordItems}, all written before it returns, no other session's turn
 * between the lines: a STORE's report of the change it made (its FETCH responses, RFC 9051
 * 6.4.6, with MODSEQ once CONDSTORE is on, RFC 7162 3.1.3), which the records say as they
 * are right after it. The messages that no longer exist are left out.
 */
export function writeRecordItemsNow(
  session: AuthedSession,
  mailbox: string,
  targets: TargetRuns,
  items: readonly FetchAttribute[],
): void {
  const { job, estimate, writer } = recordJob(session, mailbox, targets, items);
  writeChunkedNow(session, job, targets.uids.length, estimate, writer);
}

/** The job that writes the lines of `runs` for `items`, its first chunk's size and its steps. */
function recordJob(
  session: AuthedSession,
  mailbox: string,
  { runs, uids }: TargetRuns,
  items: readonly FetchAttribute[],
): { job: LineJob; estimate: number; writer: ChunkWriter<LineJob> } {
  const { store } = session.ctx;
  const user = session.user;
  // The session's work is synchronous from here to the end of a batch: no other session's
  // change can come between the messages, so new keywords are announced once.
  announceKeywords(session);
  const recent = session.rev2 ? NO_RECENT : session.selection?.recent ?? NO_RECENT;
  // Record fields are read at once, before the next change (MessageState is live).
  const statesFrom = (first: number) =>
    store.messageStates(user, mailbox, first === 0 ? uids : uids.slice(first), true);
  const job: LineJob = {
    session,
    uids,
    runs,
    templates: { plan: linePlan(session, items), byList: [new Map(), new Map()] },
    recent,
    interval: false,
    recentAbove: 0,
    recentUpTo: 0,
    states: [],
    base: 0,
    t: 0,
    r: 0,
    seq: runs.length > 0 ? runs[0][0] - 1 : 0,
    missing: 0,
    buf: EMPTY,
    at: 0,
    need: 0,
    unknownList: false,
    lastList: null,
    lastRecent: false,
    lastTemplate: null,
  };
  readStates(job, statesFrom);
  const estimate = uids.length * (job.templates.plan.room + PIECES_ESTIMATE);
  return {
    job,
    estimate,
    writer: {
      write(job) {
        writeLines(job);
        if (!job.unknownList) return true;
        addTemplate(job);
        return false;
      },
      reread: (job) => readStates(job, statesFrom),
    },
  };
}
