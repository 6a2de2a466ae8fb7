/**
 * Model-based randomized test of multi-session consistency (RFC 9051 5.2, 5.5, 7.5.1), in
 * the spirit of imaptest's stress mode. Four sessions of one user (three on INBOX, rev1 and
 * rev2, one on a second mailbox) and deliveries over SMTP, HTTP and the store run seeded
 * random steps. Each session keeps its own model of the mailbox, changed only by the
 * untagged responses it receives, and every response is checked against the model and the
 * store: EXPUNGE only where 7.5.1 allows it and in range, EXISTS never going down, FETCH
 * numbers naming the UID the model has there, reported flags equal to the stored ones,
 * SEARCH results, and after a NOOP the model equal to the session's `UID FETCH 1:*` and to
 * the store.
 *
 * RFC 9051 7.5.1 forbids EXPUNGE during FETCH, STORE and SEARCH only; it says UID FETCH,
 * UID STORE and UID SEARCH are different commands during which an EXPUNGE MAY be sent, and
 * the server sends them there. The model takes them in turn.
 *
 * Two more INBOX sessions use RFC 7162: one with CONDSTORE (its FETCH responses carry
 * MODSEQ, never ahead of the store's and never going down; conditional STOREs are checked
 * against the store's mod-sequences), one with QRESYNC (VANISHED instead of EXPUNGE, under
 * the same rule; it also disconnects, misses changes, and must rebuild exactly the store's
 * state from a `SELECT (QRESYNC ...)` alone; see `consistency_condstore.ts`).
 *
 * A seventh session only listens, with NOTIFY (RFC 5465): the STATUS notifications it gets
 * for both mailboxes must add up to the store's counts at every checkpoint (see
 * `consistency_notify.ts`).
 * Sessions also keep SEARCH RETURN (UPDATE) results (RFC 5267, `consistency_live.ts`):
 * every ADDTO/REMOVEFROM is checked as it comes, and after a NOOP each kept result must
 * equal a fresh search of the store.
 *
 * A failure names the seed and step; `FUZZ_SEED=n` (with `FUZZ_STEPS=n`, `FUZZ_SQLITE=1`) runs
 * that seed alone.
 *
 * @module
 */

import { startElektromail, testConfig } from "../../lib/mod.ts";
import { conditionalStoreStep, qresyncReconnect } from "./consistency_condstore.ts";
import { checkNotified, type NotifyWatcher, openWatcher } from "./consistency_notify.ts";
import { compareLive, keepsResults, liveSearchStep } from "./consistency_live.ts";
import {
  applyFlagOperation,
  check,
  expandSeqSet,
  expandUidSet,
  LineConnection,
  newSummary,
  prng,
  readResponse,
} from "./consistency_model.ts";
import {
  afterResponse,
  ALLOW,
  command,
  deliver,
  externalChange,
  type FuzzSession,
  learnNewUids,
  noopAndCompare,
  openSession,
  OTHER,
  report,
  rulesFor,
  select,
  someFlags,
  truthOf,
  USER,
  type World,
} from "./consistency_world.ts";

const SEEDS = [1, 2, 3, 4, 5, 6];
/** One more run on the SQLite store. */
const SQLITE_SEED = 7;
const STEPS = 1000;
/**
 * One step in this many (on average) is followed by a check of the NOTIFY watcher
 * (consistency_notify.ts), drawn from its own PRNG so the steps stay those of the seed.
 */
const NOTIFY_CHECK_ODDS = 8;

// ---- random choices ----

function seqSet(rand: (n: number) => number, count: number): string {
  return randomSet(rand, () => 1 + rand(count), `1:${count}`);
}

function uidSet(rand: (n: number) => number, uids: readonly number[]): string {
  const max = uids.length === 0 ? 1 : uids[uids.length - 1];
  const pick = () => uids.length > 0 && rand(4) > 0 ? uids[rand(uids.length)] : 1 + rand(max + 3);
  return randomSet(rand, pick, null);
}

/** A random set of the numbers `pick` gives: one, a range, `*`, `n:*`, a list, or `whole`. */
function randomSet(rand: (n: number) => number, pick: () => number, whole: string | null): string {
  switch (rand(whole === null ? 5 : 6)) {
    case 0:
      return `${pick()}`;
    case 1:
      return `${pick()}:${pick()}`;
    case 2:
      return "*";
    case 3:
      return `${pick()}:*`;
    case 4:
      return `${pick()},${pick()}:${pick()}`;
    default:
      return whole!;
  }
}

/** The UIDs a command names, as the session numbers them when it sends the command. */
function targetsOf(session: FuzzSession, set: string, byUid: boolean): number[] {
  const { uids } = session.model;
  return byUid ? expandUidSet(set, uids) : expandSeqSet(set, uids.length).map((s) => uids[s - 1]);
}

/** A set for a command that takes one, or null when the session sees no message. */
function chooseSet(world: World, session: FuzzSession, byUid: boolean): string | null {
  const { uids } = session.model;
  if (uids.length === 0) return byUid ? uidSet(world.rand, uids) : null;
  return byUid ? uidSet(world.rand, uids) : seqSet(world.rand, uids.length);
}

// ---- steps ----

async function storeStep(world: World, session: FuzzSession, byUid: boolean): Promise<void> {
  const set = chooseSet(world, session, byUid);
  if (set === null) return;
  const { rand } = world;
  const operation = (["+", "+", "-", "-", ""] as const)[rand(5)];
  const silent = rand(2) === 0;
  const flags = someFlags(rand);
  const targets = targetsOf(session, set, byUid);
  const truth = truthOf(world, session.mailbox);
  const item = `${operation}FLAGS${silent ? ".SILENT" : ""}`;
  const summary = await command(
    world,
    session,
    `${byUid ? "UID " : ""}STORE ${set} ${item} (${flags.join(" ")})`,
    rulesFor(byUid, !targets.every((uid) => truth.has(uid))),
  );
  for (const uid of targets) {
    if (!truth.has(uid)) continue;
    if (silent) {
      const known = session.model.flags.get(uid);
      if (known) session.model.flags.set(uid, applyFlagOperation(known, operation, flags));
    } else {
      check(summary.fetches.some((f) => f.uid === uid), `STORE sent no FETCH for UID ${uid}`);
    }
  }
}

async function conditionalStep(world: World, session: FuzzSession): Promise<void> {
  const byUid = world.rand(2) === 0;
  const set = chooseSet(world, session, byUid);
  if (set === null) return;
  await conditionalStoreStep(world, session, byUid, targetsOf(session, set, byUid), set);
}

async function fetchStep(world: World, session: FuzzSession, byUid: boolean): Promise<void> {
  const set = chooseSet(world, session, byUid);
  if (set === null) return;
  const targets = targetsOf(session, set, byUid);
  const truth = truthOf(world, session.mailbox);
  // BODY[TEXT] sets \Seen: the response carries FLAGS for the messages it changed.
  const items =
    ["(UID FLAGS)", "(FLAGS)", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "BODY[TEXT]"][
      world.rand(4)
    ];
  const summary = await command(
    world,
    session,
    `${byUid ? "UID " : ""}FETCH ${set} ${items}`,
    rulesFor(byUid, !targets.every((uid) => truth.has(uid))),
  );
  for (const uid of targets.filter((uid) => truth.has(uid))) {
    const fetched = summary.fetches.find((f) => f.uid === uid);
    check(fetched, `No FETCH for UID ${uid}`);
    const unseen = !truth.get(uid)!.includes("\\Seen");
    check(items !== "BODY[TEXT]" || !unseen || fetched.flags, `No FLAGS for UID ${uid} seen now`);
    check(items === "BODY[TEXT]" || fetched.flags, `No FLAGS for UID ${uid}`);
  }
}

async function searchStep(world: World, session: FuzzSession): Promise<void> {
  const byUid = world.rand(2) === 0;
  const key = (["ALL", "DELETED", "UNSEEN", "FLAGGED"] as const)[world.rand(4)];
  const truth = truthOf(world, session.mailbox);
  const matches = (flags: string[]) =>
    key === "ALL" ||
    (key === "DELETED" && flags.includes("\\Deleted")) ||
    (key === "UNSEEN" && !flags.includes("\\Seen")) ||
    (key === "FLAGGED" && flags.includes("\\Flagged"));
  const expected = session.model.uids.flatMap((uid, i) =>
    truth.has(uid) && matches(truth.get(uid)!) ? [byUid ? uid : i + 1] : []
  );
  const summary = await command(world, session, `${byUid ? "UID " : ""}SEARCH ${key}`, {
    expungeAllowed: byUid,
    acceptableNo: ["BADURL"],
  });
  check(summary.search, "No SEARCH or ESEARCH response");
  check(
    summary.search.join(" ") === expected.join(" "),
    `SEARCH ${key} gave [${summary.search.join(" ")}]; expected [${expected.join(" ")}]`,
  );
}

async function expungeStep(world: World, session: FuzzSession, byUid: boolean): Promise<void> {
  const set = byUid ? uidSet(world.rand, session.model.uids) : null;
  const targets = set === null ? null : targetsOf(session, set, true);
  await command(world, session, set === null ? "EXPUNGE" : `UID EXPUNGE ${set}`, ALLOW);
  for (const [uid, flags] of truthOf(world, session.mailbox)) {
    if (targets && !targets.includes(uid)) continue;
    check(!flags.includes("\\Deleted"), `UID ${uid} is \\Deleted and survived the EXPUNGE`);
  }
}

async function copyStep(world: World, session: FuzzSession, copy: boolean): Promise<void> {
  const byUid = world.rand(2) === 0;
  const set = chooseSet(world, session, byUid);
  if (set === null) return;
  const destination = session.mailbox === "INBOX" ? OTHER : "INBOX";
  // COPY makes messages; past a size only MOVE, so the mailboxes stay small.
  const move = !copy || truthOf(world, destination).size > 25;
  const targets = targetsOf(session, set, byUid);
  const truth = truthOf(world, session.mailbox);
  const present = targets.filter((uid) => truth.has(uid));
  const before = truthOf(world, destination).size;
  const verb = `${byUid ? "UID " : ""}${move ? "MOVE" : "COPY"}`;
  const summary = await command(
    world,
    session,
    `${verb} ${set} ${destination}`,
    rulesFor(true, present.length < targets.length),
  );
  if (summary.status === "NO") return;
  const after = truthOf(world, destination).size;
  check(after === before + present.length, `${verb}: ${destination} went ${before} -> ${after}`);
  check(present.length === 0 || summary.copyUid, `${verb} without COPYUID`);
  if (move) {
    for (const uid of present) {
      check(!session.model.uids.includes(uid), `UID ${uid} moved away but still numbered`);
    }
  }
}

/**
 * MULTIAPPEND (RFC 3502): one to four messages in one APPEND, some made by CATENATE from a
 * stored message; sometimes the last one names a UID that is not there, and then none of
 * them may appear (`NO [BADURL]`). The other sessions hear of the new messages as of any.
 */
async function appendStep(world: World, session: FuzzSession): Promise<void> {
  const { rand } = world;
  const destination = rand(2) === 0 ? "INBOX" : OTHER;
  if (truthOf(world, destination).size > 25) return;
  const count = 1 + rand(4);
  const failing = rand(4) === 0;
  const inbox = [...truthOf(world, "INBOX").keys()];
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    const flags = ["", "(\\Seen) ", "($Fuzz \\Flagged) "][rand(3)];
    const text = `Subject: append ${world.seed}.${++world.delivered}\r\n\r\nbody\r\n`;
    const octets = new TextEncoder().encode(text).length;
    if (failing && i === count - 1) {
      messages.push(`${flags}CATENATE (URL "/INBOX/;UID=999999")`);
    } else if (inbox.length > 0 && rand(3) === 0) {
      const uid = inbox[rand(inbox.length)];
      const url = `"/INBOX/;UID=${uid}/;SECTION=TEXT"`;
      messages.push(`${flags}CATENATE (TEXT {${octets}+}\r\n${text} URL ${url})`);
    } else {
      messages.push(`${flags}{${octets}+}\r\n${text}`);
    }
  }
  const before = truthOf(world, destination).size;
  const summary = await command(world, session, `APPEND ${destination} ${messages.join(" ")}`, {
    ...ALLOW,
    acceptableNo: ["BADURL"],
  });
  const after = truthOf(world, destination).size;
  if (summary.status === "NO") {
    check(failing, `APPEND refused: ${summary.code}`);
    check(after === before, `A refused APPEND changed ${destination}: ${before} -> ${after}`);
    return;
  }
  check(!failing, "APPEND with a bad URL succeeded");
  check(after === before + count, `APPEND of ${count}: ${destination} went ${before} -> ${after}`);
  check(summary.code?.startsWith("APPENDUID 1 ") === true, `APPEND without APPENDUID`);
}

async function idleStep(world: World, session: FuzzSession): Promise<void> {
  world.current = session;
  const tag = `${session.name}.${++session.tags}`;
  const summary = newSummary();
  world.trail.push(`  ${tag} IDLE`);
  await session.conn.writeLine(`${tag} IDLE`);
  for (let line = await session.conn.readLine(); !line.startsWith("+ ");) {
    check(line.startsWith("* "), `Unexpected line before IDLE's continuation: ${line}`);
    session.model.apply(line, ALLOW, summary);
    line = await session.conn.readLine();
  }
  world.trail.push(`  (while ${session.name} idles)`);
  await randomStep(world, world.sessions.filter((s) => s !== session), false);
  world.current = session;
  world.trail.push(`  ${session.name}: DONE`);
  await session.conn.writeLine("DONE");
  await readResponse(session.conn, tag, session.model, ALLOW, summary);
  afterResponse(world, session, summary, ALLOW, false);
  await learnNewUids(world, session);
}

/** One random step: a delivery, an outside change, or a command of one of `sessions`. */
async function randomStep(world: World, sessions: FuzzSession[], mayIdle: boolean) {
  const { rand } = world;
  const inbox = world.server.store.getMailbox(USER, "INBOX")!.messages;
  const roll = rand(100);
  if (roll < (inbox < 6 ? 30 : inbox < 20 ? 12 : 3)) return await deliver(world);
  if (roll >= 95) return await externalChange(world);
  const session = sessions[rand(sessions.length)];
  const steps: Array<[number, () => Promise<void>]> = [
    [10, () => noopAndCompare(world, session)],
    [16, () => storeStep(world, session, false)],
    [12, () => storeStep(world, session, true)],
    [10, () => fetchStep(world, session, false)],
    [8, () => fetchStep(world, session, true)],
    [8, () => searchStep(world, session)],
    [keepsResults(session) ? 4 : 0, () => liveSearchStep(world, session)],
    [6, () => expungeStep(world, session, false)],
    [6, () => expungeStep(world, session, true)],
    [4, () => copyStep(world, session, true)],
    [6, () => copyStep(world, session, false)],
    [3, () => appendStep(world, session)],
    [session.rev2 ? 0 : 2, () => command(world, session, "CHECK", ALLOW).then(() => {})],
    [mayIdle ? 6 : 0, () => idleStep(world, session)],
    [1, () => select(world, session)],
    [session.sync === "none" ? 0 : 6, () => conditionalStep(world, session)],
    [
      session.sync === "qresync" && mayIdle ? 3 : 0,
      () =>
        qresyncReconnect(world, session, async () => {
          const others = world.sessions.filter((s) => s !== session);
          for (let i = 1 + rand(3); i > 0; i--) await randomStep(world, others, false);
        }),
    ],
  ];
  let pick = rand(steps.reduce((sum, [weight]) => sum + weight, 0));
  for (const [weight, run] of steps) {
    if (pick < weight) return await run();
    pick -= weight;
  }
}

async function runSeed(seed: number, steps: number, dbPath: string | null): Promise<void> {
  const server = await startElektromail(testConfig({ dbPath }));
  const smtp = await LineConnection.open(server.ports.smtp!);
  const base = { seed, server, rand: prng(seed), smtp, trail: [], current: null, delivered: 0 };
  const sessions: FuzzSession[] = [];
  const world: World = { ...base, sessions };
  let watcher: NotifyWatcher | null = null;
  const checkpoint = prng(seed + 1_000_000);
  let step = 0;
  try {
    check((await smtp.readReply()).startsWith("220"), "No SMTP greeting");
    await smtp.writeLine("EHLO fuzz.example");
    check((await smtp.readReply()).startsWith("250"), "EHLO refused");
    server.store.ensureUser(USER);
    server.store.createMailbox(USER, OTHER);
    sessions.push(await openSession(world, "a", "INBOX", false));
    sessions.push(await openSession(world, "b", "INBOX", true));
    sessions.push(await openSession(world, "c", "INBOX", false));
    sessions.push(await openSession(world, "d", OTHER, true));
    sessions.push(await openSession(world, "e", "INBOX", false, "condstore"));
    sessions.push(await openSession(world, "f", "INBOX", true, "qresync"));
    watcher = await openWatcher(world);
    for (step = 1; step <= steps; step++) {
      world.trail.push(`step ${step}`);
      await randomStep(world, sessions, true);
      if (checkpoint(NOTIFY_CHECK_ODDS) === 0) await checkNotified(world, watcher);
    }
    for (const session of sessions) {
      await noopAndCompare(world, session);
      await compareLive(world, session);
    }
    await checkNotified(world, watcher);
  } catch (error) {
    throw report(world, step, error);
  } finally {
    for (const session of sessions) session.conn.close();
    watcher?.conn.close();
    smtp.close();
    await server.stop();
  }
}

const onlySeed = Deno.env.get("FUZZ_SEED");
const steps = Number(Deno.env.get("FUZZ_STEPS") ?? STEPS);
const runs = onlySeed
  ? [{ seed: Number(onlySeed), sqlite: Deno.env.get("FUZZ_SQLITE") === "1" }]
  : [...SEEDS.map((seed) => ({ seed, sqlite: false })), { seed: SQLITE_SEED, sqlite: true }];

for (const { seed, sqlite } of runs) {
  const store = sqlite ? "SQLite" : "memory";
  Deno.test(`IMAP multi-session consistency fuzz, seed ${seed}, ${store} store`, async () => {
    const dir = sqlite ? await Deno.makeTempDir({ prefix: "elektromail-fuzz-" }) : null;
    try {
      await runSeed(seed, steps, dir && `${dir}/mail.db`);
    } finally {
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  });
}
