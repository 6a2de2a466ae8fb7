/**
 * CONTEXT=SEARCH in the consistency fuzz (RFC 5267 4): sessions keep `SEARCH RETURN (UPDATE
 * ALL)` results, by sequence number and by UID, and the model applies each ADDTO, REMOVEFROM
 * and EXPUNGE to them (consistency_model.ts checks each one as it comes: no ADDTO of a
 * member, no REMOVEFROM of a non-member, no EXPUNGE of a member before its REMOVEFROM).
 * After a NOOP every kept result must equal a fresh search of the store for its key, through
 * any mix of deliveries, flag changes (own and others'), expunges, moves and IDLE.
 *
 * @module
 */

import { check } from "./consistency_model.ts";
import { ALLOW, command, type FuzzSession, truthOf, type World } from "./consistency_world.ts";

/** The keys of kept searches, and what they match. */
const KEYS: Record<string, (flags: readonly string[]) => boolean> = {
  ALL: () => true,
  UNSEEN: (flags) => !flags.includes("\\Seen"),
  FLAGGED: (flags) => flags.includes("\\Flagged"),
  DELETED: (flags) => flags.includes("\\Deleted"),
  "OR SEEN FLAGGED": (flags) => flags.includes("\\Seen") || flags.includes("\\Flagged"),
};

/** The key each kept result was asked with, per session and tag. */
const keysOf = new WeakMap<FuzzSession, Map<string, string>>();

/** Whether a session may keep results: not the QRESYNC one, which reconnects at random. */
export function keepsResults(session: FuzzSession): boolean {
  return session.sync !== "qresync";
}

/**
 * Starts a kept search (up to 4 per session), or cancels one. Either way the session's kept
 * results are then compared with the store.
 */
export async function liveSearchStep(world: World, session: FuzzSession): Promise<void> {
  const keys = keysOf.get(session) ?? new Map<string, string>();
  keysOf.set(session, keys);
  // A new SELECT (select()) cleared the model: forget its keys too.
  for (const tag of [...keys.keys()]) if (!session.model.live.has(tag)) keys.delete(tag);
  const { rand } = world;
  if (keys.size >= 4 || (keys.size > 0 && rand(4) === 0)) {
    const tags = [...keys.keys()];
    const tag = tags[rand(tags.length)];
    // Cancelled before the command's own updates are written: none of them is for it.
    keys.delete(tag);
    session.model.live.delete(tag);
    await command(world, session, `CANCELUPDATE "${tag}"`, ALLOW);
  } else {
    const byUid = rand(2) === 0;
    const names = Object.keys(KEYS);
    const key = names[rand(names.length)];
    const tag = `${session.name}.${session.tags + 1}`;
    session.model.expectLive = { tag, byUid };
    await command(world, session, `${byUid ? "UID " : ""}SEARCH RETURN (UPDATE ALL) ${key}`, {
      expungeAllowed: byUid,
      acceptableNo: [],
    });
    check(session.model.live.has(tag), `No ESEARCH started the kept result ${tag}`);
    keys.set(tag, key);
  }
  await compareLive(world, session);
}

/** After a NOOP, every kept result equals a fresh search of the store. */
export async function compareLive(world: World, session: FuzzSession): Promise<void> {
  const keys = keysOf.get(session);
  if (!keys || keys.size === 0) return;
  await command(world, session, "NOOP", ALLOW);
  const truth = truthOf(world, session.mailbox);
  const { uids } = session.model;
  for (const [tag, key] of keys) {
    const live = session.model.live.get(tag);
    if (!live) continue;
    const expected = uids.flatMap((uid, i) =>
      truth.has(uid) && KEYS[key](truth.get(uid)!) ? [live.byUid ? uid : i + 1] : []
    );
    const got = [...live.members].sort((a, b) => a - b);
    check(
      got.join(" ") === expected.join(" "),
      `Kept ${live.byUid ? "UID " : ""}SEARCH ${key} (${tag}) holds [${got.join(" ")}]; ` +
        `a fresh search gives [${expected.join(" ")}]`,
    );
  }
}
