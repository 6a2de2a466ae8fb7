/**
 * Helpers for the multi-session consistency fuzz test (consistency_fuzz_test.ts): a raw
 * line client over `Deno.connect` (IMAP responses with literals, SMTP replies), a seeded
 * PRNG, sequence sets, and the client-side model of a selected mailbox that is updated only
 * from the untagged responses a session receives, checking each one as it arrives.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Raised when the server breaks an invariant; the driver adds seed, step and transcript. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

/** Fails the run with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** mulberry32: the same sequence for the same seed. `rand(n)` is an integer in [0, n). */
export function prng(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** A TCP connection read as CRLF lines, with hang guards on every read. */
export class LineConnection {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  /** The last lines both ways, for failure reports. */
  readonly log: string[] = [];

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<LineConnection> {
    return new LineConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  #note(entry: string): void {
    this.log.push(entry.length > 300 ? `${entry.slice(0, 300)}…` : entry);
    if (this.log.length > 60) this.log.splice(0, this.log.length - 60);
  }

  async writeLine(line: string): Promise<void> {
    this.#note(`C: ${line}`);
    const bytes = encoder.encode(`${line}\r\n`);
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new InvariantError("Timed out waiting for the server")),
        5000,
      );
    });
    try {
      const n = await Promise.race([this.#conn.read(chunk), guard]);
      if (n === null) throw new InvariantError("The server closed the connection");
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.findIndex((b, i) => b === 10 && this.#buffer[i - 1] === 13);
      if (end >= 0) {
        const line = decoder.decode(this.#buffer.subarray(0, end - 1));
        this.#buffer = this.#buffer.slice(end + 1);
        return line;
      }
      await this.#fill();
    }
  }

  async #bytes(count: number): Promise<string> {
    while (this.#buffer.length < count) await this.#fill();
    const text = decoder.decode(this.#buffer.subarray(0, count));
    this.#buffer = this.#buffer.slice(count);
    return text;
  }

  /** One response line; IMAP literals (`{n}` at the end of a line) are read inline. */
  async readLine(): Promise<string> {
    let line = await this.#line();
    for (let literal = /\{(\d+)\}$/.exec(line); literal; literal = /\{(\d+)\}$/.exec(line)) {
      line += `\r\n${await this.#bytes(Number(literal[1]))}${await this.#line()}`;
    }
    this.#note(`S: ${line}`);
    return line;
  }

  /** An SMTP reply: continuation lines up to the one with a space after the code. */
  async readReply(): Promise<string> {
    for (;;) {
      const line = await this.readLine();
      if (!/^\d{3}-/.test(line)) return line;
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A sequence set (RFC 9051 9) as ranges; `*` is `Infinity` until resolved. */
type Range = [number, number];

function parseSet(set: string, star: number): Range[] {
  return set.split(",").map((part) => {
    const [a, b = a] = part.split(":").map((n) => n === "*" ? star : Number(n));
    return [Math.min(a, b), Math.max(a, b)];
  });
}

/** The sequence numbers (1..count) a set names, ascending. */
export function expandSeqSet(set: string, count: number): number[] {
  const ranges = parseSet(set, count);
  const out: number[] = [];
  for (let seq = 1; seq <= count; seq++) {
    if (ranges.some(([a, b]) => seq >= a && seq <= b)) out.push(seq);
  }
  return out;
}

/** The UIDs of `uids` (ascending) a UID set names; `*` is the largest UID. */
export function expandUidSet(set: string, uids: readonly number[]): number[] {
  const ranges = parseSet(set, uids.length === 0 ? 0 : uids[uids.length - 1]);
  return uids.filter((uid) => ranges.some(([a, b]) => uid >= a && uid <= b));
}

/** Expands a sequence set as written in a response (no `*`). */
export function numbersOf(set: string): number[] {
  if (set === "") return [];
  return parseSet(set, 0).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
}

/** A flag list in one spelling and order, without `\Recent` (per session, never stored). */
export function normalFlags(flags: readonly string[]): string[] {
  return flags.filter((flag) => flag.toLowerCase() !== "\\recent").sort();
}

/** What a STORE does to a flag list. */
export function applyFlagOperation(
  current: readonly string[],
  operation: "+" | "-" | "",
  flags: readonly string[],
): string[] {
  if (operation === "") return normalFlags(flags);
  if (operation === "+") return normalFlags([...new Set([...current, ...flags])]);
  return normalFlags(current.filter((flag) => !flags.includes(flag)));
}

/** Rules for the response to one command. */
export interface CommandRules {
  /** Whether untagged EXPUNGE may arrive (RFC 9051 7.5.1). */
  readonly expungeAllowed: boolean;
  /** Response codes that make a tagged NO acceptable. */
  readonly acceptableNo: readonly string[];
}

/** A FETCH response as received, with the UID the model had at its number. */
export interface FetchSeen {
  readonly seq: number;
  readonly uid: number;
  readonly flags: string[] | null;
  /** Whether the response carried the UID item. */
  readonly uidItem: boolean;
  /** The MODSEQ item, or null without one. */
  readonly modseq: number | null;
}

/** What one command's response held, besides the model changes. */
export interface ResponseSummary {
  readonly status: "OK" | "NO";
  readonly code: string | null;
  readonly fetches: FetchSeen[];
  readonly expunged: number[];
  /** Numbers from SEARCH or ESEARCH ALL, or null when neither arrived. */
  search: number[] | null;
  copyUid: string | null;
}

/**
 * A session's picture of its selected mailbox: UIDs by sequence number (0 while the session
 * knows only that a message exists) and the flags it was told.
 */
export class MailboxModel {
  uids: number[] = [];
  readonly flags = new Map<number, string[]>();
  /** The latest MODSEQ each message was reported with (CONDSTORE sessions, RFC 7162). */
  readonly modseqs = new Map<number, number>();
  /** The last `OK [HIGHESTMODSEQ n]` received, 0 before any. */
  highestModseq = 0;
  /** Keywords FLAGS responses named since the SELECT (RFC 9051 7.3.5). */
  readonly keywords = new Set<string>();
  /**
   * Results kept up to date (CONTEXT=SEARCH, RFC 5267) by tag: their members as UIDs (UID
   * SEARCH) or sequence numbers, changed only by ADDTO, REMOVEFROM and EXPUNGE; a kept SORT
   * (CONTEXT=SORT) also has them in sort order, moved by the updates' positions.
   */
  readonly live = new Map<
    string,
    { byUid: boolean; members: Set<number>; order?: number[] }
  >();
  /** The tag of a `[UID] SEARCH|SORT RETURN (UPDATE ALL)` in flight: its ESEARCH starts it. */
  expectLive: { tag: string; byUid: boolean; sorted?: boolean } | null = null;
  readonly rev2: boolean;

  constructor(rev2: boolean) {
    this.rev2 = rev2;
  }

  /** Forgets everything (a new SELECT). */
  clear(): void {
    this.uids = [];
    this.flags.clear();
    this.modseqs.clear();
    this.keywords.clear();
    this.live.clear();
  }

  /**
   * An expunge of sequence number `seq`: a live result by sequence number must have been told
   * (REMOVEFROM comes first, RFC 5267 4.3) and renumbers its members above it.
   */
  #renumberLive(seq: number): void {
    for (const [tag, live] of this.live) {
      const { byUid, members } = live;
      if (byUid) continue;
      check(!members.has(seq), `EXPUNGE ${seq} of a member of ${tag} without REMOVEFROM first`);
      const moved = [...members].map((n) => n > seq ? n - 1 : n);
      members.clear();
      for (const n of moved) members.add(n);
      live.order = live.order?.map((n) => n > seq ? n - 1 : n);
    }
  }

  /**
   * `* ESEARCH (TAG "t") [UID] ADDTO|REMOVEFROM (position set …)` for a live result: position
   * 0 for SEARCH; for SORT each pair applies in turn (RFC 5267 4.3): ADDTO inserts at the
   * position, REMOVEFROM names the member at it.
   */
  #liveUpdate(tag: string, byUid: boolean, kind: string, pairs: string): void {
    const live = this.live.get(tag);
    check(live, `${kind} for ${tag}, which keeps no result`);
    check(live.byUid === byUid, `${kind} for ${tag} with${byUid ? "" : "out"} UID`);
    const words = pairs.split(" ");
    for (let i = 0; i + 1 < words.length; i += 2) {
      const position = Number(words[i]);
      check((position > 0) === (live.order !== undefined), `${kind} position ${position}`);
      if (live.order) {
        const [n, more] = numbersOf(words[i + 1]);
        check(more === undefined, `${kind} of a set at position ${position}: ${pairs}`);
        check(position <= live.order.length + (kind === "ADDTO" ? 1 : 0), `${kind} ${pairs}`);
        if (kind === "REMOVEFROM") {
          check(live.order[position - 1] === n, `REMOVEFROM ${n} at ${position} of ${tag}`);
          live.order.splice(position - 1, 1);
        } else live.order.splice(position - 1, 0, n);
      }
      this.#liveMembers(live, byUid, kind, words[i + 1], tag);
    }
  }

  #liveMembers(
    live: { members: Set<number> },
    byUid: boolean,
    kind: string,
    set: string,
    tag: string,
  ): void {
    for (const n of numbersOf(set)) {
      if (kind === "ADDTO") {
        check(!live.members.has(n), `ADDTO ${n} to ${tag}, which holds it`);
        live.members.add(n);
      } else {
        check(live.members.delete(n), `REMOVEFROM ${n} of ${tag}, which does not hold it`);
      }
      if (!byUid) check(n >= 1 && n <= this.uids.length, `${kind} ${n} out of range`);
      // By UID, a number may name a new message whose UID the session learns only later.
    }
  }

  /** The first sequence number whose UID is not known yet, or 0. */
  firstUnknown(): number {
    return this.uids.indexOf(0) + 1;
  }

  /** Known UIDs must ascend strictly. */
  checkOrder(): void {
    let last = 0;
    for (const [i, uid] of this.uids.entries()) {
      if (uid === 0) continue;
      check(uid > last, `UIDs not ascending at ${i + 1}: ${this.uids.join(" ")}`);
      last = uid;
    }
  }

  /** Applies one untagged response, checking it against the model as it stands. */
  apply(line: string, rules: CommandRules, summary: ResponseSummary): void {
    const numbered = /^\* (\d+) (EXISTS|RECENT|EXPUNGE|FETCH)\b ?(.*)$/is.exec(line);
    if (numbered) {
      const n = Number(numbered[1]);
      const kind = numbered[2].toUpperCase();
      if (kind === "EXISTS") {
        check(n >= this.uids.length, `EXISTS went down from ${this.uids.length} to ${n}`);
        while (this.uids.length < n) this.uids.push(0);
      } else if (kind === "RECENT") {
        check(!this.rev2, "RECENT sent to an IMAP4rev2 session");
        check(n <= this.uids.length, `RECENT ${n} above EXISTS ${this.uids.length}`);
      } else if (kind === "EXPUNGE") {
        check(rules.expungeAllowed, "EXPUNGE during a command that forbids it (RFC 9051 7.5.1)");
        check(n >= 1 && n <= this.uids.length, `EXPUNGE ${n} out of range 1..${this.uids.length}`);
        this.#renumberLive(n);
        const [uid] = this.uids.splice(n - 1, 1);
        this.flags.delete(uid);
        for (const [tag, { byUid, members }] of this.live) {
          check(!byUid || !members.has(uid), `EXPUNGE of UID ${uid} in ${tag} before REMOVEFROM`);
        }
        summary.expunged.push(uid);
      } else this.#fetch(n, numbered[3], summary);
      return;
    }
    // QRESYNC (RFC 7162 3.2.10): VANISHED is EXPUNGE by UID, under the same rule.
    const vanished = /^\* VANISHED ([\d,:]+)$/i.exec(line);
    if (vanished) {
      check(rules.expungeAllowed, "VANISHED during a command that forbids it (RFC 9051 7.5.1)");
      for (const uid of numbersOf(vanished[1])) {
        let index = this.uids.indexOf(uid);
        // A message counted by EXISTS whose UID was never sent: new messages take the last
        // places, so a UID above every known one is one of the unknown places (any of them,
        // as they are alike).
        const known = this.uids.filter((n) => n !== 0);
        if (index < 0 && uid > (known.at(-1) ?? 0)) index = this.uids.lastIndexOf(0);
        check(index >= 0, `VANISHED ${uid}, which the session does not hold`);
        this.#renumberLive(index + 1);
        this.uids.splice(index, 1);
        this.flags.delete(uid);
        this.modseqs.delete(uid);
        summary.expunged.push(uid);
      }
      return;
    }
    const highest = /^\* OK \[HIGHESTMODSEQ (\d+)\]/i.exec(line);
    if (highest) {
      this.highestModseq = Number(highest[1]);
      return;
    }
    const search = /^\* SEARCH((?: \d+)*)$/i.exec(line);
    if (search) {
      check(!this.rev2, "SEARCH response to an IMAP4rev2 session (ESEARCH expected)");
      summary.search = search[1].trim() === "" ? [] : search[1].trim().split(" ").map(Number);
      return;
    }
    const update = /^\* ESEARCH \(TAG "([^"]*)"\)( UID)? (ADDTO|REMOVEFROM) \(([\d,: ]+)\)$/i
      .exec(line);
    if (update) {
      this.#liveUpdate(update[1], update[2] !== undefined, update[3].toUpperCase(), update[4]);
      return;
    }
    const esearch = /^\* ESEARCH \(TAG "([^"]*)"\)( UID)?(?: ALL ([\d,:]+))?$/i.exec(line);
    if (esearch) {
      summary.search = numbersOf(esearch[3] ?? "");
      if (this.expectLive?.tag === esearch[1]) {
        this.live.set(esearch[1], {
          byUid: this.expectLive.byUid,
          members: new Set(summary.search),
          order: this.expectLive.sorted ? [...summary.search] : undefined,
        });
        this.expectLive = null;
      }
      return;
    }
    const flagList = /^\* FLAGS \(([^)]*)\)$/i.exec(line);
    if (flagList) {
      // The list only grows while selected (as Dovecot's): a keyword a message may still
      // carry is never dropped from it.
      const listed = new Set(flagList[1].split(" ").filter((flag) => !flag.startsWith("\\")));
      for (const keyword of this.keywords) {
        check(listed.has(keyword), `FLAGS dropped ${keyword}: ${line}`);
      }
      for (const keyword of listed) this.keywords.add(keyword);
      return;
    }
    const copyUid = /^\* OK \[COPYUID ([^\]]+)\]/i.exec(line);
    if (copyUid) {
      summary.copyUid = copyUid[1];
      return;
    }
    check(
      /^\* (OK \[(PERMANENTFLAGS|UIDVALIDITY|UIDNEXT|UNSEEN|CLOSED|MAILBOXID)|OK Still here|LIST |ENABLED )/i
        .test(line),
      `Unexpected untagged response: ${line}`,
    );
  }

  #fetch(seq: number, items: string, summary: ResponseSummary): void {
    check(seq >= 1 && seq <= this.uids.length, `FETCH ${seq} out of range 1..${this.uids.length}`);
    const body = /^\((.*)\)$/s.exec(items);
    check(body, `Malformed FETCH: ${items}`);
    const uidItem = /(?:^| )UID (\d+)/.exec(body[1]);
    const flagItem = /(?:^| )FLAGS \(([^)]*)\)/.exec(body[1]);
    let uid = this.uids[seq - 1];
    if (uidItem) {
      const told = Number(uidItem[1]);
      check(uid === 0 || uid === told, `FETCH ${seq} says UID ${told}; the model has ${uid}`);
      if (uid === 0) {
        this.uids[seq - 1] = told;
        uid = told;
        this.checkOrder();
      }
    }
    let flags: string[] | null = null;
    if (flagItem) {
      const raw = flagItem[1] === "" ? [] : flagItem[1].split(" ");
      check(
        !this.rev2 || !raw.some((flag) => flag.toLowerCase() === "\\recent"),
        "\\Recent sent to an IMAP4rev2 session",
      );
      check(uid !== 0, `FLAGS for sequence number ${seq} before its UID is known`);
      for (const flag of raw) {
        check(
          flag.startsWith("\\") || this.keywords.has(flag),
          `FETCH ${seq} shows ${flag} before a FLAGS response named it (RFC 9051 7.3.5)`,
        );
      }
      flags = normalFlags(raw);
      this.flags.set(uid, flags);
    }
    const modseqItem = /(?:^| )MODSEQ \((\d+)\)/.exec(body[1]);
    let modseq: number | null = null;
    if (modseqItem) {
      modseq = Number(modseqItem[1]);
      const before = this.modseqs.get(uid) ?? 0;
      check(modseq >= before, `MODSEQ of UID ${uid} went down from ${before} to ${modseq}`);
      this.modseqs.set(uid, modseq);
    }
    summary.fetches.push({ seq, uid, flags, uidItem: uidItem !== null, modseq });
  }
}

/** The session's side of one command: the untagged lines applied, the tagged line parsed. */
export async function readResponse(
  conn: LineConnection,
  tag: string,
  model: MailboxModel,
  rules: CommandRules,
  summary: ResponseSummary = newSummary(),
): Promise<ResponseSummary> {
  for (;;) {
    const line = await conn.readLine();
    if (line.startsWith("* ")) {
      check(!/^\* BYE/i.test(line), `The server said ${line}`);
      model.apply(line, rules, summary);
      continue;
    }
    const tagged = /^(\S+) (OK|NO|BAD)(?: \[([^\]]+)\])?/i.exec(line);
    check(tagged && tagged[1] === tag, `Unexpected line: ${line}`);
    const status = tagged[2].toUpperCase();
    const code = tagged[3] ?? null;
    check(status !== "BAD", `Tagged BAD: ${line}`);
    if (status === "NO") {
      const name = (code ?? "").split(" ")[0].toUpperCase();
      check(rules.acceptableNo.includes(name), `Unexpected tagged NO: ${line}`);
    }
    if (status === "OK" && code?.toUpperCase().startsWith("COPYUID ")) {
      summary.copyUid = code.slice(8);
    }
    model.checkOrder();
    return Object.assign(summary, { status: status as "OK" | "NO", code });
  }
}

/** An empty summary (OK until the tagged line says otherwise). */
export function newSummary(): ResponseSummary {
  return { status: "OK", code: null, fetches: [], expunged: [], search: null, copyUid: null };
}
