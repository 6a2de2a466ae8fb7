/**
 * Warming the JIT at startup: a fresh process runs every code path in V8's interpreter first,
 * and the first `FETCH 1:*` over thousands of new messages pays for it (issue 13: a cold
 * `FETCH 1:* (UID FLAGS)` cost several times a warm one). So before its listeners take
 * connections (its ports are bound already: a client that connects meanwhile waits for its
 * greeting) the server plays a short IMAP conversation with itself, through the same sans-IO
 * session the transport drives, against a private memory store and synthetic mail shaped like
 * real mail: APPEND, SELECT, the FETCH items clients ask first, SEARCH, STORE, COPY, EXPUNGE.
 * Nothing of it is visible (its own store, no events on the server's store, none of the
 * server's listeners) except that the code it ran is compiled when real clients come.
 *
 * Before the IMAP conversation, on the same store, it plays an SMTP one (lib/smtp/warm_up.ts)
 * and a POP3 one (lib/pop3/warm_up.ts) through the sessions their listeners drive: a test
 * run's first client sends mail, and that first message ran ~6 ms of cold code (session,
 * framer, commands, delivery, Received header, the store's append). With them a fresh
 * server's first message (Python's smtplib, a connection a message, 3 s after start) costs
 * the server 3.9-6.7 ms of CPU (median 4.3) instead of 6.0-9.4 (median 6.9), a first POP3
 * session 2.3-2.5 instead of 3.4-3.7 (issue 13, round 9; docs/performance-history.md, SMTP),
 * for +0-0.7 MB idle. What they cannot reach is the transport (lib/net, Deno's socket code),
 * which the first connection of any protocol compiled (~1.5-2 ms: a first message after an
 * IMAP connection); so the SMTP conversation is played once more over a loopback socket to a
 * private listener (lib/smtp/warm_up_socket.ts): the first message 5.1-7.1 ms (median 5.2)
 * instead of 5.9-9.1 (8.4), the first IMAP greeting 4.3-4.7 instead of 5.4-6.6, for 1.1 MB more
 * idle (three alternating pairs each; README.md, Performance, SMTP). Repeating the sans-IO
 * SMTP conversation (3 or 6 times) saved 0.2 ms of CPU at most.
 *
 * It is a short prime round on a handful of messages, one command (or one APPEND) a step, the steps
 * back to back: it compiles the bytecode of every command path of the first-touch table (V8
 * compiles a function on its first call; a cold SELECT spent most of its time there), each step a
 * millisecond or two, and repeats the few commands whose first run needs more than that. The server
 * plays it before its listeners take connections ({@linkcode warmUpBeforeListeners}), ~30 ms of its
 * start (spawn to the banner 57-65 ms, median of 8; 26 without the warm-up: `bench/startup.ts`,
 * issue 13, round 15). Until round 14 it was played beside the first clients, a turn of the event
 * loop between its steps (a loopback byte, lib/loop_turns.ts, gone since), resting while clients
 * were connected, with optional longer rounds in idle time; a client that logged in and bulk-loaded
 * mail within milliseconds of the banner left it so few turns that it ended with the burst, and its
 * last steps ran beside the first reading commands (SELECT 1.41-1.65 ms, FETCH 1:* (UID FLAGS)
 * 2.84-3.02, against 0.25-0.26 and 1.00-1.01 with it played first; docs/performance-history.md,
 * rounds 11 and 14). What it leaves is garbage and compiled code: the server collects the garbage
 * once its listeners are open and nobody is connected (lib/full_gc.ts `collectWhenIdle`).
 *
 * What it does was weighed against idle memory (issue 13; `/proc/<pid>/smaps` 6 s after start from
 * the bundle, no connection, three alternating runs each; without the warm-up 45.1-45.3 MB, with
 * the prime round of the table's commands only, SELECT and the record FETCHes repeated, 50.9 MB;
 * without the warm-up, SELECT, `FETCH 1:* (UID FLAGS)` and STORE of bench/cold_compare.ts's
 * first-touch table fall behind Dovecot's). Measured and dropped: two idle rounds of 20 messages
 * (+0.5-1 MB; a client connected at once, as the table's is, makes them wait until after its
 * commands); repeating the header-list FETCH and `ENVELOPE BODYSTRUCTURE` 50 times each (+3.6 MB,
 * the code V8 optimized for them; their rows stayed within the noise, 15-24 and 18-21 ms vs
 * Dovecot's 50 and 113). Kept although no row of the table is theirs: the conversation's other
 * commands (BODY, partial and BINARY fetches, more SEARCH keys, MOVE, STATUS, LIST, EXPUNGE; ~1
 * MB), which real clients send first too: the warm-up is for them, not for the table.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { Config } from "../config.ts";
import { quietLogger } from "../log.ts";
import { startTimer, type Timer } from "../net/timer.ts";
import { warmUpSmtp } from "../smtp/warm_up.ts";
import { warmUpSmtpSocket } from "../smtp/warm_up_socket.ts";
import { openMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { warmUpConfig, type WarmUpTurns } from "../warm_up_turns.ts";
import type { ImapServerState } from "./context.ts";
import { HeaderFieldItems } from "./header_fields.ts";
import { createImapSession } from "./session.ts";
import { startIndexWarmer } from "./warm.ts";

/**
 * How a warm-up went: commands completed, how many of them did not end `OK`, and the flag
 * changes its store made after the conversation ({@linkcode flagChangeRounds}).
 */
export interface WarmUpResult {
  readonly commands: number;
  readonly failed: number;
  readonly flagChanges: number;
}

/** A running warm-up. */
export interface WarmUp {
  /** Settles when the conversation is over (or was stopped); never rejects. */
  readonly done: Promise<WarmUpResult>;
  /** Stops after the command in flight. */
  stop(): void;
}

/** What the warm-up plays. */
export interface WarmUpOptions {
  /**
   * Whether it starts with the SMTP and POP3 conversations (lib/smtp/warm_up.ts,
   * lib/pop3/warm_up.ts; POP3 only with a POP3 listener); default true.
   */
  readonly smtpPop3?: boolean;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
/** Octets of output kept to find a tagged completion in. */
const OUTPUT_TAIL = 4096;

/**
 * Plays the warm-up conversation, its steps back to back: nothing else should run meanwhile
 * (the server plays it before its listeners take connections: {@linkcode warmUpBeforeListeners}).
 *
 * @example
 * ```ts
 * const { commands, failed } = await warmUpCode(config).done;
 * ```
 */
export function warmUpCode(config: Config, options: WarmUpOptions = {}): WarmUp {
  const control: Control = { stopped: false, release: null };
  const result = { commands: 0, failed: 0, flagChanges: 0 };
  const done = play(config, options.smtpPop3 ?? true, control, result)
    // A warm-up that fails has only failed to warm.
    .then(() => result, () => ({ ...result, failed: result.failed + 1 }));
  return {
    done,
    stop: () => {
      control.stopped = true;
      control.release?.();
    },
  };
}

/**
 * How long the server waits for the warm-up before it opens its listeners all the same (it
 * takes ~30 ms; a slow or busy host, a few hundred).
 */
export const BEFORE_LISTENERS_LIMIT_MS = 5_000;

/**
 * Plays the warm-up as the server does before its listeners take connections, for at most
 * `limitMs`. Past that it is stopped and `result` is null: a warm-up that never ended (a bug: a
 * step waiting for a reply that never comes) must not keep the listeners shut. `warmUp.done`
 * settles once a stopped warm-up has ended its command in flight. The limit is lib/net/timer.ts's
 * `startTimer`, not the global `setTimeout`, whose first use loads Deno's Node timers (that module
 * says why). It is cancelled when the warm-up ends, so an embedder's short script is not kept
 * waiting for it; and it does not keep the event loop alive: a step stuck on a socket is stopped
 * here, while one stuck with nothing pending at all ends the process with Deno's error for a
 * promise that never resolved. Either way the server does not sit with its listeners closed.
 */
export async function warmUpBeforeListeners(
  config: Config,
  limitMs: number = BEFORE_LISTENERS_LIMIT_MS,
): Promise<{ result: WarmUpResult | null; warmUp: WarmUp }> {
  const warmUp = warmUpCode(config);
  let limit: Timer | undefined;
  const late = new Promise<null>((resolve) => limit = startTimer(limitMs, () => resolve(null)));
  const result = await Promise.race([warmUp.done, late]);
  limit!.cancel();
  if (result === null) warmUp.stop();
  return { result, warmUp };
}

/** Between a warm-up and its conversation: stop after this command; end a pending wait. */
interface Control {
  stopped: boolean;
  release: (() => void) | null;
}

async function play(
  config: Config,
  smtpPop3: boolean,
  control: Control,
  result: { commands: number; failed: number; flagChanges: number },
): Promise<void> {
  // As in the server, where mail that arrives with no IMAP or POP3 client connected is not
  // indexed as the store appends it: the SMTP conversations play that path, IMAP's the other.
  let reading = false;
  const store = await openWarmUpStore(config, () => reading);
  const indexer = startIndexWarmer(store);
  const shared = { recentClaims: new Map(), fieldItems: new HeaderFieldItems() };
  const client = warmUpClient(config, store, shared, control, result);
  try {
    if (smtpPop3) {
      // First: a fresh server's first client sends it mail, more often than not.
      const turns: WarmUpTurns = {
        goOn: () => !control.stopped,
        counted: (ok) => {
          result.commands++;
          if (!ok) result.failed++;
        },
      };
      await warmUpSmtp(config, store, turns);
      if (!control.stopped) await warmUpSmtpSocket(config, store, turns);
      // POP3 only with its listener, and loaded then (as lib/server.ts loads POP3's modules).
      if (!control.stopped && (config.pop3Port !== null || config.tls?.pop3sPort != null)) {
        const { warmUpPop3 } = await import("../pop3/warm_up.ts");
        if (!control.stopped) await warmUpPop3(config, store, turns);
      }
    }
    reading = true;
    await client.send("LOGIN warm up");
    for (const command of conversation(0)) {
      if (!client.going()) break;
      if (command === "APPEND") await client.appendBurst(PRIME_MESSAGES);
      else await client.send(command);
      const repeats = PRIME_REPEATED.get(command) ?? 0;
      if (repeats > 0 && client.going()) {
        await client.send(...Array<string>(repeats).fill(command));
      }
      if (command === LABEL_STORE) {
        await recordSteps(client, warmUpClient(config, store, shared, control, result));
      }
    }
    if (client.going()) await client.send("LOGOUT");
    if (!control.stopped) result.flagChanges = flagChangeRounds(store);
  } finally {
    control.release = null;
    client.close();
    indexer.close();
    store.close();
  }
}

/**
 * Flag changes made on the warm-up's store directly, after the conversation:
 * {@linkcode FLAG_ROUND_MESSAGES} small messages into INBOX (the conversation left it empty),
 * then {@linkcode FLAG_CHANGE_ROUNDS} changes of them all, `\Seen` added and removed in turn, in
 * one shared commit (one transaction with SQLite). Enough loop iterations for V8 to compile the store's flag change
 * (lib/store/message_records.ts `changeFlags`) with Maglev (`--trace-opt`), in ~1,200 iterations of
 * 20 calls (4,800 of 80 until round 32 of issue 13 lowered V8's tier-up thresholds,
 * lib/v8_flags.ts): the conversation's STOREs change six messages a few times. A client's first
 * `STORE 1:* +FLAGS.SILENT (\Seen)` of 5,000 messages then runs the loop optimized; without V8's
 * baseline compiler (lib/v8_flags.ts) it ran in the interpreter. As many calls on six messages (800
 * of them) had V8 compile ~30 more functions (the flag list helpers each call runs once); these
 * compile three besides `changeFlags`. Returns the changes made (each message's in each round).
 * Issue 13, round 28, alternating pairs against the commit before
 * (`bench/cold_compare.ts --runs 1 --no-dovecot`): that STORE 0.35-0.66 ms against 1.51-2.20 (two
 * pairs each with Python and Deno's client), 0.97-1.10 against 2.13-2.31 with CONDSTORE (its MODSEQ
 * lines), 0.77-0.88 against 2.03-2.38 with SQLite; the other rows level. The server's own time for
 * it (a probe build, three runs) 0.28-0.38 ms, 0.13-0.20 of it in the loop, against 1.05-1.46 and
 * 0.88-1.23. Idle RSS 44.8-45.1 MB against 44.0-44.5 (three pairs of
 * `bench/idle_rss.ts --runs 1 --env HTTP_PORT=`; V8's heap after the warm-up's final collection
 * 3,759 KB of old space used against 3,748, code 66 KB against 63), spawn to banner 81.0 ms against
 * 77.2-80.2 (medians of `bench/startup.ts --runs 8`, two pairs); with SQLite (its warm-up store an
 * in-memory SQLite one) 106.6-110.5 against 101.8-105.1 (`--runs 6`, two pairs).
 */
export function flagChangeRounds(store: Store): number {
  for (let i = 0; i < FLAG_ROUND_MESSAGES; i++) {
    store.append(WARM_UP_USER, "INBOX", FLAG_ROUND_MESSAGE);
  }
  const uids = store.listMessages(WARM_UP_USER, "INBOX").map((meta) => meta.uid);
  let changes = 0;
  store.shareCommit(() => {
    for (let round = 0; round < FLAG_CHANGE_ROUNDS; round++) {
      const operation = round % 2 === 0 ? "add" : "remove";
      changes += store.setFlags(WARM_UP_USER, "INBOX", uids, operation, SEEN).length;
    }
  });
  return changes;
}

/** The user the warm-up's sessions log in as (`LOGIN warm up`). */
const WARM_UP_USER = "warm";

/** The messages {@linkcode flagChangeRounds} changes. */
export const FLAG_ROUND_MESSAGES = 60;

/** The changes {@linkcode flagChangeRounds} makes of them. */
export const FLAG_CHANGE_ROUNDS = 20;

const SEEN: readonly string[] = ["\\Seen"];

/** A message of {@linkcode flagChangeRounds}: the smallest to index, its bytes shared. */
const FLAG_ROUND_MESSAGE = encoder.encode("Subject: flags\r\n\r\nx\r\n");

/**
 * The record FETCHes' steps: {@linkcode PRIME_RECORD_STEPS} of `client`'s, the first
 * {@linkcode CONDSTORE_RECORD_STEPS} of them each after one of a second session's, which has
 * CONDSTORE on (as imapflow enables it at every connect) and so MODSEQ in every line. The
 * per-message loop (fetch_meta.ts `writeLines`) has branches for MODSEQ that plain lines never
 * take; optimized from plain steps alone, it fell back to the interpreter at them in a
 * CONDSTORE client's first `FETCH 1:* (UID FLAGS)` of 5,000 messages (`--trace-deopt`:
 * insufficient feedback for a compare), which took 2.9-5.1 ms instead of 1.3-1.4 (issue 13,
 * round 27, bench/cold_compare.ts --condstore, three alternating pairs; the plain rows and
 * the idle RSS level). Both kinds of lines run before V8 optimizes the loop, the CONDSTORE
 * session's first: played last instead (round 26), its step made the optimized loop fall back
 * with too few runs left to optimize it again. {@linkcode MODSEQ_CLIMB} first, so that its
 * lines have MODSEQs one above the one before (counted up, as after a burst of new mail),
 * and equal ones (as after a STORE of them all): without it the row stayed at 3.1-3.3 ms.
 */
async function recordSteps(client: WarmUpClient, condstore: WarmUpClient): Promise<void> {
  try {
    await condstore.send("LOGIN warm up");
    await condstore.send("ENABLE CONDSTORE", "SELECT INBOX");
    await client.send(...MODSEQ_CLIMB);
    for (let step = 0; step < PRIME_RECORD_STEPS && client.going(); step++) {
      if (step < CONDSTORE_RECORD_STEPS) await condstore.send(...RECORD_FETCH_STEP);
      await client.send(...RECORD_FETCH_STEP);
    }
    await condstore.send("LOGOUT");
  } finally {
    condstore.close();
  }
}

/** One IMAP session of the warm-up, and the client's side of it. */
interface WarmUpClient {
  /**
   * Sends `commands`, pipelined in one step, and waits for the last one's completion, which
   * stands for them all; nothing once the warm-up was stopped.
   */
  send(...commands: string[]): Promise<void> | undefined;
  /**
   * Pipelined APPENDs with LITERAL+, as a bulk load sends them, one message a step: its first
   * compiles the whole delivery path (~10 ms).
   */
  appendBurst(count: number): Promise<void>;
  /** Whether to go on: neither stopped nor ended by the session. */
  going(): boolean;
  close(): void;
}

/** A started warm-up session on `store`, its completions counted in `result`. */
function warmUpClient(
  config: Config,
  store: Store,
  shared: ImapServerState,
  control: Control,
  result: { commands: number; failed: number },
): WarmUpClient {
  let output = "";
  let waiting: (() => void) | null = null;
  let ended = false;
  const session = createImapSession({
    config: warmUpConfig(config),
    store,
    logger: quietLogger(),
    label: "warm-up",
    shared,
  }, {
    write: (bytes) => {
      // Only the tagged completions matter: keep the tail, where they are (long enough for
      // LOGIN's, which carries the whole CAPABILITY list).
      const tail = bytes.subarray(Math.max(0, bytes.length - OUTPUT_TAIL));
      output = (output + latin1.decode(tail)).slice(-OUTPUT_TAIL);
      waiting?.();
      return true;
    },
    drained: () => Promise.resolve(),
    close: () => {
      ended = true;
      control.release?.();
    },
  });
  /** Waits for the tagged completion `label`, and counts it. */
  const completion = (label: string) =>
    new Promise<void>((resolve) => {
      output = "";
      // Stopped, or the session ended (it never should): no completion is coming.
      control.release = resolve;
      if (ended || control.stopped) resolve();
      waiting = () => {
        const after = output.indexOf(`\r\n${label}`);
        const at = output.startsWith(label) ? 0 : after < 0 ? -1 : after + 2;
        if (at < 0) return;
        result.commands++;
        if (!output.startsWith(`${label}OK`, at)) result.failed++;
        resolve();
      };
    });
  let tag = 0;
  const going = () => !control.stopped && !ended;
  session.start();
  return {
    send(...commands) {
      if (control.stopped) return;
      let lines = "";
      for (const command of commands) lines += `w${++tag} ${command}\r\n`;
      const done = completion(`w${tag} `);
      session.receive(encoder.encode(lines));
      return done;
    },
    async appendBurst(count) {
      // The last completion stands for the burst (a failed APPEND fails the ones after it).
      const done = completion(`a${count - 1} `);
      for (let n = 0; n < count && going(); n++) {
        const message = syntheticMessage(n);
        session.receive(concatBytes([
          encoder.encode(`a${n} APPEND INBOX {${message.length}+}\r\n`),
          message,
          CRLF,
        ]));
      }
      await done;
    },
    going,
    close: () => session.closed(),
  };
}

/**
 * The warm-up's private store, of the kind the server's is: with `ELEKTROMAIL_DB` an in-memory
 * SQLite database (no file, no WAL, no checkpoint worker), so that the SQLite store's code
 * (its statements, blobs and transactions) has run before the first client too, as the memory
 * store's has. Measured (issue 13, round 15): idle RSS unchanged (50.5-51.3 MB against
 * 51.7-52.3), and a fresh SQLite server's first SMTP round had 8 and 11 transactions over 2 ms
 * in its first 60 ms against 11 and 12 (bench/latency_stalls.ts, two runs each: not told apart).
 */
async function openWarmUpStore(config: Config, indexAtAppend: () => boolean): Promise<Store> {
  if (config.dbPath === null) return openMemoryStore({ indexAtAppend });
  const { openSqliteStore } = await import("../store/sqlite.ts");
  // Its idle checkpoint's timer: not the global setTimeout, whose first use loads Deno's Node
  // timers (lib/net/timer.ts).
  return openSqliteStore(":memory:", { startTimer });
}

/**
 * Messages of the prime round: every shape {@linkcode syntheticMessage} makes, and one more
 * than the conversation's `1:5` sets name, so that a message is left after its MOVE.
 */
const PRIME_MESSAGES = 6;

/**
 * The FETCH a client syncing a mailbox sends first. The prime round sends it 20 more times
 * (10 of them in a CONDSTORE session) so that its per-message loop (fetch_meta.ts) is
 * optimized (Maglev) before a client's first
 * `FETCH 1:* (UID FLAGS)` of thousands of messages, which a fresh process otherwise runs
 * mostly in V8's interpreter. It does so after {@linkcode LABEL_STORE}: the process's first
 * flag changes make the records' flags and MODSEQ fields variable, and V8 drops the code it
 * optimized while they were not. They go in {@linkcode PRIME_RECORD_STEPS} steps of 10
 * pipelined, a millisecond or two each (in a step each, when the warm-up took a turn of the
 * event loop between steps beside the first clients, a client that had just APPENDed 5,000
 * messages met its last steps).
 *
 * 140 of them (five steps of 20 and two CONDSTORE steps) until round 32 of issue 13, which
 * lowered V8's tier-up thresholds from 400 calls (and 500 after a feedback change) to 100
 * (lib/v8_flags.ts): with 140, every per-command function of the IMAP session then crossed
 * them during the warm-up, 227 Maglev compiles at startup instead of 59 and 2.3-3.3 MB more
 * idle memory (with 60: 195 and +2.3 MB); with 20, 138 compiles (the loop among them) and
 * 44.8 MB idle against 44.1-44.2 with the old thresholds and 140 (two alternating pairs of
 * `bench/idle_rss.ts --runs 1 --env HTTP_PORT=`).
 *
 * This FETCH only: until round 9 every fourth asked `FLAGS RFC822.SIZE UID` of a set of two
 * runs, so that the optimized loop covered those paths too; it compiled in 2.8 ms instead of
 * 1.1 (`--trace-opt`), and the compiler's memory stayed: the idle server was 51.7-52.6 MB
 * without them vs 52.8-53.1 (issue 13, three alternating runs from the bundle), the row's
 * first touch the same (bench/cold_compare.ts: 1.22-1.32 vs 1.26-1.37 ms, two alternating
 * pairs). With 20 repeats (too few for V8 to optimize the loop) or none, the idle server
 * was another ~1.2-2.3 MB smaller, but the row fell behind Dovecot's 2.62 ms (1.85-2.94 ms
 * with 20, two alternating pairs). Measured again in round 16 (without these and SELECT's
 * repeats): 48.6-49.2 MB idle vs 48.8-49.7, the row 3.16-4.85 ms vs 1.99-2.85 (Dovecot 2.2).
 * The warm-up's other ~27 Maglev compiles (per-octet helpers of header, address and command
 * parsing, marked during the SMTP conversations and the first APPENDs) stay with any message
 * sizes: a warm-up with none idled ~3 MB lower, but needs 8-16 times less per-octet work
 * (docs/performance-history.md, Startup and idle, round 16).
 */
const RECORD_FETCH = "FETCH 1:* (UID FLAGS)";
/** One step of the record FETCHes. */
const RECORD_FETCH_STEP = Array<string>(10).fill(RECORD_FETCH);
export const PRIME_RECORD_STEPS = 1;
/**
 * The CONDSTORE session's record FETCH steps ({@linkcode recordSteps}).
 */
export const CONDSTORE_RECORD_STEPS = 1;
/**
 * Flag changes, one a message, that leave the last messages with a MODSEQ each one above the
 * one before and the same flags, as after a burst of new mail.
 */
const MODSEQ_CLIMB = ["STORE 5 -FLAGS.SILENT ($Label1)", "STORE 6 -FLAGS.SILENT ($Label1)"];
/**
 * The completions {@linkcode recordSteps} adds to the record FETCH steps: the CONDSTORE
 * session's LOGIN, ENABLE and SELECT, steps and LOGOUT; the MODSEQ climb's.
 */
export const CONDSTORE_COMPLETIONS = 3 + CONDSTORE_RECORD_STEPS + 1;
/**
 * Commands the prime round sends again, and how many more times, pipelined in one step of a
 * few milliseconds: what a client sends first to a fresh process. Sent once, a command's next
 * run is still in V8's interpreter, without inline caches until its functions have been
 * called several times: a first SELECT of 5,000 messages spent 0.2 ms of its 0.3 there.
 * (The header-list FETCH and `ENVELOPE
 * BODYSTRUCTURE` were repeated 50 times too, for their per-message loops' Maglev code: +3.6
 * MB of idle memory, and their first-touch rows did not move beyond the noise without it.)
 */
export const PRIME_REPEATED: ReadonlyMap<string, number> = new Map([
  ["SELECT INBOX", 20],
]);
/** The conversation's last flag change before its messages are copied, moved and expunged. */
const LABEL_STORE = "STORE 1:* +FLAGS ($Label1)";

const CRLF = new Uint8Array([0x0d, 0x0a]);

/**
 * One round of what a client does with a freshly loaded mailbox: the commands of issue 13's
 * first-touch table (bench/cold_compare.ts); `APPEND` stands for the burst.
 */
export function conversation(round: number): string[] {
  return [
    "APPEND",
    "SELECT INBOX",
    RECORD_FETCH,
    `FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE X-${round})])`,
    "FETCH 1:* (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED)])",
    "FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
    "FETCH 1:* (BODY)",
    "FETCH 1:* BODY.PEEK[]",
    "FETCH 1:5 (BODY.PEEK[1] BODY.PEEK[TEXT]<0.100> BINARY.PEEK[1])",
    "UID SEARCH TEXT quokka",
    "UID SEARCH BODY Lorem",
    "SEARCH FROM sender4@example.com",
    "SEARCH SUBJECT message",
    "SEARCH SINCE 1-Jan-2020",
    "SEARCH SENTSINCE 1-Jan-2020 UNSEEN",
    "UID SEARCH RETURN (COUNT) ALL",
    `STORE 1:* ${round % 2 ? "-" : "+"}FLAGS.SILENT (\\Seen)`,
    LABEL_STORE,
    "CREATE Copy",
    "COPY 1:* Copy",
    "MOVE 1:5 Copy",
    "STATUS Copy (MESSAGES UNSEEN UIDNEXT)",
    'LIST "" *',
    "STORE 1:* +FLAGS.SILENT (\\Deleted)",
    "EXPUNGE",
    "DELETE Copy",
    "NOOP",
  ];
}

const WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua quokka").split(" ");

/**
 * The `n`-th synthetic message: plain, alternative with QP, mixed with an attachment, 8-bit
 * Latin-1, each with a one-line text (~40 octets) that both of the conversation's body
 * searches find. Short on purpose: the warm-up is to compile every path once, and a longer
 * text only ran its per-octet loops (quoted-printable, `BODY[]`, the body search) until V8
 * optimized them, whose compiler memory stayed behind. With 8 to 47 lines of 12 words the
 * idle server was 1.1 MB larger (issue 13, round 9: 53.7-54.1 vs 52.6-53.0 MB, four
 * alternating runs from the bundle), and the first-touch rows the same (bench/cold_compare.ts,
 * two alternating pairs of three runs).
 */
export function syntheticMessage(n: number): Uint8Array {
  const words = Array.from({ length: 5 }, (_, i) => WORDS[(n * 7 + i) % WORDS.length]);
  const text = `Lorem ${words.join(" ")} quokka\r\n`;
  const header = [
    `From: Sender ${n % 13} <sender${n % 13}@example.com>`,
    `To: "Receiver, One" <one@example.com>, two@example.org`,
    n % 5 === 0 ? "Cc: three@example.net" : `Reply-To: reply${n}@example.com`,
    n % 3 === 0 ? "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_message?=" : `Subject: Message ${n}`,
    `Date: Wed, 25 Nov 2026 ${String(n % 24).padStart(2, "0")}:00:00 +0000`,
    `Message-ID: <warm-${n}@example.com>`,
    "MIME-Version: 1.0",
  ].join("\r\n");
  let body: string;
  switch (n % 4) {
    case 0:
      body = `Content-Type: text/plain; charset="utf-8"\r\n\r\n${text}`;
      break;
    case 1:
      body = 'Content-Type: multipart/alternative; boundary="alt-boundary-1"\r\n\r\n' +
        `--alt-boundary-1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}` +
        "--alt-boundary-1\r\nContent-Type: text/html; charset=utf-8\r\n" +
        `Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>K=C3=A4se ${text}</p>\r\n` +
        "--alt-boundary-1--\r\n";
      break;
    case 2:
      body = 'Content-Type: multipart/mixed; boundary="----=_Part_1"\r\n\r\n' +
        `------=_Part_1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${text}` +
        '------=_Part_1\r\nContent-Type: application/pdf; name="report.pdf"\r\n' +
        'Content-Disposition: attachment; filename="report.pdf"\r\n' +
        "Content-Transfer-Encoding: base64\r\n\r\n" +
        `${btoa(text.repeat(3)).replace(/.{76}/g, "$&\r\n")}\r\n------=_Part_1--\r\n`;
      break;
    default:
      body = "Content-Type: text/plain; charset=iso-8859-1\r\n" +
        `Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 ${text}`;
  }
  return Uint8Array.from(`${header}\r\n${body}`, (ch) => ch.charCodeAt(0) & 0xff);
}
