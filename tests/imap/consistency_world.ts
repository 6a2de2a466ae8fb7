/**
 * The world of the multi-session consistency fuzz test (consistency_fuzz_test.ts): a server,
 * its sessions with their models, deliveries and outside changes, and the checks every
 * response and every NOOP must pass against the store.
 *
 * @module
 */

import type { Elektromail } from "../../lib/mod.ts";
import {
  check,
  type CommandRules,
  InvariantError,
  LineConnection,
  MailboxModel,
  normalFlags,
  readResponse,
  type ResponseSummary,
} from "./consistency_model.ts";

export const USER = "alice";
export const OTHER = "Fuzz";
export const FLAGS = ["\\Seen", "\\Flagged", "\\Deleted", "\\Answered", "$Fuzz", "$Label1"];

export interface FuzzSession {
  readonly name: string;
  readonly mailbox: string;
  readonly rev2: boolean;
  /** What the session enabled (RFC 7162): none, CONDSTORE, or QRESYNC (with CONDSTORE). */
  readonly sync: "none" | "condstore" | "qresync";
  /** Replaced when a QRESYNC session reconnects. */
  conn: LineConnection;
  readonly model: MailboxModel;
  tags: number;
}

export interface World {
  readonly seed: number;
  readonly server: Elektromail;
  readonly rand: (n: number) => number;
  readonly sessions: FuzzSession[];
  readonly smtp: LineConnection;
  /** What each step did, for failure reports. */
  readonly trail: string[];
  /** The session that was talking when a check failed. */
  current: FuzzSession | null;
  delivered: number;
}

export const ALLOW: CommandRules = { expungeAllowed: true, acceptableNo: [] };
export const rulesFor = (expungeAllowed: boolean, mayBeGone: boolean): CommandRules => ({
  expungeAllowed,
  acceptableNo: mayBeGone ? ["EXPUNGEISSUED"] : [],
});

/** The store's view of a mailbox: UID → flags, in UID order. */
export function truthOf(world: World, mailbox: string): Map<number, string[]> {
  const messages = world.server.store.listMessages(USER, mailbox);
  return new Map(messages.map((m) => [m.uid, normalFlags(m.flags)]));
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a !== undefined && b !== undefined && a.join(" ") === b.join(" ");

/** Sends one command, applies its response to the model and checks what every response must. */
export async function command(
  world: World,
  session: FuzzSession,
  text: string,
  rules: CommandRules,
): Promise<ResponseSummary> {
  world.current = session;
  const tag = `${session.name}.${++session.tags}`;
  world.trail.push(`  ${tag} ${text}`);
  await session.conn.writeLine(`${tag} ${text}`);
  const summary = await readResponse(session.conn, tag, session.model, rules);
  afterResponse(world, session, summary, rules, text.startsWith("UID "));
  await learnNewUids(world, session);
  return summary;
}

export function afterResponse(
  world: World,
  session: FuzzSession,
  summary: ResponseSummary,
  rules: CommandRules,
  byUid: boolean,
): void {
  const truth = truthOf(world, session.mailbox);
  const reported = new Map(summary.fetches.filter((f) => f.flags).map((f) => [f.uid, f.flags!]));
  for (const [uid, flags] of reported) {
    if (!truth.has(uid)) continue;
    check(
      same(flags, truth.get(uid)),
      `FLAGS (${flags.join(" ")}) for UID ${uid}; stored: (${truth.get(uid)!.join(" ")})`,
    );
  }
  if (byUid) {
    for (const fetch of summary.fetches) {
      check(fetch.uidItem, `FETCH ${fetch.seq} in a UID command's response without UID`);
    }
  }
  // RFC 7162: a MODSEQ is never ahead of the store's; with FLAGS it goes to every session
  // that enabled CONDSTORE, and to no other.
  for (const fetch of summary.fetches) {
    if (fetch.flags) {
      check(
        (fetch.modseq !== null) === (session.sync !== "none"),
        `FETCH ${fetch.seq} FLAGS ${fetch.modseq === null ? "without" : "with"} MODSEQ`,
      );
    }
    if (fetch.modseq === null) continue;
    const stored = world.server.store.getMessage(USER, session.mailbox, fetch.uid)?.modseq;
    check(
      stored === undefined || fetch.modseq <= stored,
      `MODSEQ ${fetch.modseq} of UID ${fetch.uid} is ahead of the store's ${stored}`,
    );
  }
  if (rules.expungeAllowed) {
    for (const uid of session.model.uids) {
      check(uid === 0 || truth.has(uid), `UID ${uid} was expunged but is still numbered`);
    }
  }
}

/** After EXISTS, the session asks for the new messages' UIDs and flags. */
export async function learnNewUids(world: World, session: FuzzSession): Promise<void> {
  const first = session.model.firstUnknown();
  if (first === 0) return;
  const last = session.model.uids.length;
  await command(world, session, `FETCH ${first}:${last} (UID FLAGS)`, rulesFor(false, false));
  check(session.model.firstUnknown() === 0, `No UID learned for ${first}:${last}`);
}

/** NOOP flushes everything: the model must equal the session's UID FETCH and the store. */
export async function noopAndCompare(world: World, session: FuzzSession): Promise<void> {
  await command(world, session, "NOOP", ALLOW);
  const { model } = session;
  const uids = [...model.uids];
  const flags = uids.map((uid) => model.flags.get(uid));
  const truth = truthOf(world, session.mailbox);
  check(
    uids.join(" ") === [...truth.keys()].join(" "),
    `After NOOP the model has UIDs [${uids.join(" ")}]; the store [${[...truth.keys()].join(" ")}]`,
  );
  uids.forEach((uid, i) =>
    check(
      same(flags[i], truth.get(uid)),
      `After NOOP the model has UID ${uid} (${flags[i]?.join(" ")}); stored: (${
        truth.get(uid)!.join(" ")
      })`,
    )
  );
  const summary = await command(world, session, "UID FETCH 1:* (UID FLAGS)", ALLOW);
  check(summary.expunged.length === 0, "EXPUNGE right after a NOOP");
  const fetched = summary.fetches.map((f) => f.uid);
  check(fetched.join(" ") === uids.join(" "), `UID FETCH 1:* gave [${fetched.join(" ")}]`);
  summary.fetches.forEach((f, i) => check(same(f.flags!, flags[i]), `UID FETCH flags of ${f.uid}`));
}

export function someFlags(rand: (n: number) => number): string[] {
  const first = FLAGS[rand(FLAGS.length)];
  const second = FLAGS[rand(FLAGS.length)];
  return rand(3) === 0 && second !== first ? [first, second] : [first];
}

export async function select(world: World, session: FuzzSession): Promise<void> {
  session.model.clear();
  await command(world, session, `SELECT ${session.mailbox}`, ALLOW);
}

export async function deliver(world: World): Promise<void> {
  const { rand, server } = world;
  const n = ++world.delivered;
  const subject = `fuzz ${world.seed}.${n}`;
  const flags = [[], [], ["\\Seen"], ["$Fuzz"]][rand(4)];
  const how = rand(3);
  world.trail.push(`  delivery ${n} by ${["SMTP", "HTTP", "store"][how]}`);
  if (how === 0) {
    const smtp = world.smtp;
    for (const line of ["MAIL FROM:<fuzz@example.com>", `RCPT TO:<${USER}@example.com>`]) {
      await smtp.writeLine(line);
      check((await smtp.readReply()).startsWith("250"), `SMTP ${line} refused`);
    }
    await smtp.writeLine("DATA");
    check((await smtp.readReply()).startsWith("354"), "SMTP DATA refused");
    await smtp.writeLine(`Subject: ${subject}\r\n\r\nbody ${n}\r\n.`);
    check((await smtp.readReply()).startsWith("250"), "SMTP message refused");
  } else if (how === 1) {
    const response = await fetch(`http://127.0.0.1:${server.ports.http}/inject`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: USER, subject, text: `body ${n}`, flags }),
    });
    await response.body?.cancel();
    check(response.ok, `POST /inject: ${response.status}`);
  } else {
    const raw = new TextEncoder().encode(`Subject: ${subject}\r\n\r\nbody ${n}\r\n`);
    server.store.append(USER, "INBOX", raw, { flags });
  }
}

/** Changes from outside IMAP: flags through the store, a deletion through HTTP. */
export async function externalChange(world: World): Promise<void> {
  const { rand, server } = world;
  const uids = [...truthOf(world, "INBOX").keys()];
  if (uids.length === 0) return;
  const uid = uids[rand(uids.length)];
  if (rand(3) === 0) {
    world.trail.push(`  HTTP DELETE of UID ${uid}`);
    const id = encodeURIComponent(`${USER}:INBOX:${uid}`);
    const response = await fetch(`http://127.0.0.1:${server.ports.http}/messages/${id}`, {
      method: "DELETE",
    });
    await response.body?.cancel();
    check(response.ok, `DELETE /messages/${id}: ${response.status}`);
  } else {
    const chosen = uids.filter(() => rand(3) === 0).concat(uid);
    const operation = (["add", "remove", "replace"] as const)[rand(3)];
    const flags = someFlags(rand);
    world.trail.push(`  store.setFlags ${chosen.join(",")} ${operation} ${flags.join(" ")}`);
    server.store.setFlags(USER, "INBOX", chosen, operation, flags);
  }
}

export async function openSession(
  world: World,
  name: string,
  mailbox: string,
  rev2: boolean,
  sync: FuzzSession["sync"] = "none",
): Promise<FuzzSession> {
  const conn = await LineConnection.open(world.server.ports.imap!);
  const session: FuzzSession = {
    name,
    mailbox,
    rev2,
    sync,
    conn,
    model: new MailboxModel(rev2),
    tags: 0,
  };
  await login(world, session);
  await select(world, session);
  return session;
}

/** Greeting, LOGIN and the ENABLEs the session uses. */
export async function login(world: World, session: FuzzSession): Promise<void> {
  check((await session.conn.readLine()).startsWith("* OK"), "No IMAP greeting");
  await command(world, session, `LOGIN ${USER} any`, ALLOW);
  const enable = [
    ...(session.rev2 ? ["IMAP4rev2"] : []),
    ...(session.sync === "none" ? [] : [session.sync.toUpperCase()]),
  ];
  if (enable.length > 0) await command(world, session, `ENABLE ${enable.join(" ")}`, ALLOW);
}

export function report(world: World, step: number, error: unknown): Error {
  const session = world.current;
  const lines = [
    `Consistency fuzz failed: seed ${world.seed}, step ${step} (rerun: FUZZ_SEED=${world.seed}${
      world.server.store.kind === "sqlite" ? " FUZZ_SQLITE=1" : ""
    })`,
    `${error instanceof Error ? error.message : String(error)}`,
    "Last steps:",
    ...world.trail.slice(-12),
  ];
  if (session) {
    const kind = `${session.rev2 ? "rev2" : "rev1"}, ${session.sync}`;
    lines.push(`Session ${session.name} (${kind}, ${session.mailbox}):`);
    lines.push(...session.conn.log.slice(-40).map((line) => `  ${line}`));
    lines.push(`  model: ${session.model.uids.join(" ")}`);
  }
  const failure = new Error(lines.join("\n"));
  if (!(error instanceof InvariantError)) failure.cause = error;
  return failure;
}
