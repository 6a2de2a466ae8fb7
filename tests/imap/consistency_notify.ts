/**
 * NOTIFY (RFC 5465) in the consistency fuzz test: a watcher session of the same user, with no
 * mailbox selected, asks for `NOTIFY SET STATUS (personal (MessageNew MessageExpunge
 * FlagChange))` and never sends another command until a checkpoint, while the other sessions,
 * SMTP and the store append, expunge and change flags. At each checkpoint it sends NOOP
 * (everything owed is written before its tagged OK); the last STATUS it was sent for each
 * mailbox must then equal the store's counts and the `STATUS` command's answer, and UIDNEXT
 * must never have gone down in between (RFC 5465 5.2, 5.3, 5.1).
 *
 * @module
 */

import { check, LineConnection } from "./consistency_model.ts";
import { OTHER, USER, type World } from "./consistency_world.ts";

/** A session that only listens. */
export interface NotifyWatcher {
  readonly conn: LineConnection;
  /** The last STATUS values it was sent, by mailbox. */
  readonly last: Map<string, Map<string, number>>;
  /** How many STATUS notifications it received, for the failure report. */
  received: number;
  tags: number;
}

const WATCHED = ["INBOX", OTHER];
const ITEMS = "MESSAGES UIDNEXT UNSEEN";

/** Logs in and sets NOTIFY, taking the initial STATUS it asks for. */
export async function openWatcher(world: World): Promise<NotifyWatcher> {
  const conn = await LineConnection.open(world.server.ports.imap!);
  const watcher: NotifyWatcher = { conn, last: new Map(), received: 0, tags: 0 };
  check((await conn.readLine()).startsWith("* OK"), "No IMAP greeting (watcher)");
  await watcherCommand(watcher, `LOGIN ${USER} any`);
  await watcherCommand(
    watcher,
    "NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange))",
  );
  for (const mailbox of WATCHED) {
    check(watcher.last.has(mailbox), `NOTIFY SET STATUS sent no STATUS for ${mailbox}`);
  }
  return watcher;
}

/** The checkpoint: notified state equals the store's and STATUS's. */
export async function checkNotified(world: World, watcher: NotifyWatcher): Promise<void> {
  world.trail.push(`  watcher: NOOP (${watcher.received} STATUS notifications so far)`);
  await watcherCommand(watcher, "NOOP");
  for (const mailbox of WATCHED) {
    const info = world.server.store.getMailbox(USER, mailbox)!;
    const truth = `MESSAGES ${info.messages} UIDNEXT ${info.uidNext} UNSEEN ${info.unseen}`;
    const notified = describe(watcher.last.get(mailbox));
    check(
      notified === truth,
      `NOTIFY's last STATUS for ${mailbox} says ${notified}; the store has ${truth}`,
    );
  }
  // The STATUS command itself: asked while nothing changes, it must agree with the last
  // notification (its own response also counts as the latest values).
  for (const mailbox of WATCHED) {
    const before = describe(watcher.last.get(mailbox));
    await watcherCommand(watcher, `STATUS ${mailbox} (${ITEMS})`);
    const after = describe(watcher.last.get(mailbox));
    check(before === after, `STATUS ${mailbox} says ${after}; NOTIFY said ${before}`);
  }
}

async function watcherCommand(watcher: NotifyWatcher, text: string): Promise<void> {
  const tag = `w.${++watcher.tags}`;
  await watcher.conn.writeLine(`${tag} ${text}`);
  for (;;) {
    const line = await watcher.conn.readLine();
    if (line.startsWith(`${tag} `)) {
      check(line.startsWith(`${tag} OK`), `Watcher: ${line}`);
      return;
    }
    const status = /^\* STATUS (\S+) \(([^)]*)\)$/.exec(line);
    if (status) {
      record(watcher, status[1], status[2]);
      continue;
    }
    check(line.startsWith("* OK") || line.startsWith("* CAPABILITY"), `Watcher got: ${line}`);
  }
}

function record(watcher: NotifyWatcher, mailbox: string, items: string): void {
  const values = new Map<string, number>();
  const words = items.split(" ");
  for (let i = 0; i + 1 < words.length; i += 2) values.set(words[i], Number(words[i + 1]));
  const previous = watcher.last.get(mailbox);
  const uidNext = values.get("UIDNEXT") ?? 0;
  check(
    !previous || uidNext >= (previous.get("UIDNEXT") ?? 0),
    `NOTIFY STATUS for ${mailbox}: UIDNEXT went down to ${uidNext}`,
  );
  check(
    (values.get("UNSEEN") ?? 0) <= (values.get("MESSAGES") ?? 0),
    `NOTIFY STATUS for ${mailbox}: more unseen than messages (${items})`,
  );
  watcher.last.set(mailbox, values);
  watcher.received++;
}

function describe(values: Map<string, number> | undefined): string {
  if (!values) return "nothing";
  return ITEMS.split(" ").map((item) => `${item} ${values.get(item)}`).join(" ");
}
