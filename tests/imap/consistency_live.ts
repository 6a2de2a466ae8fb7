/**
 * CONTEXT=SEARCH and CONTEXT=SORT in the consistency fuzz (RFC 5267 4): sessions keep `SEARCH
 * RETURN (UPDATE ALL)` and `SORT RETURN (UPDATE ALL)` results, by sequence number and by
 * UID, and the model applies each ADDTO, REMOVEFROM and EXPUNGE to them (consistency_model.ts
 * checks each one as it comes: no ADDTO of a member, no REMOVEFROM of a non-member, no
 * EXPUNGE of a member before its REMOVEFROM; for SORT, REMOVEFROM names the member at its
 * position and ADDTO inserts at one). After a NOOP every kept result must equal a fresh
 * search of the store for its key, and a kept SORT's order a fresh SORT's, through any mix
 * of deliveries, flag changes (own and others'), expunges, moves and IDLE.
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

/** Sort criteria of kept SORTs (subjects `fuzz S.N` and bodies sort unlike arrival). */
const CRITERIA = ["(SUBJECT)", "(REVERSE SUBJECT)", "(SIZE)", "(REVERSE ARRIVAL)"];

/** What a kept result was asked with: the search key, and the criteria for a SORT. */
interface Kept {
  readonly key: string;
  readonly criteria: string | null;
}

/** The kept results per session and tag. */
const keysOf = new WeakMap<FuzzSession, Map<string, Kept>>();

/** Whether a session may keep results: not the QRESYNC one, which reconnects at random. */
export function keepsResults(session: FuzzSession): boolean {
  return session.sync !== "qresync";
}

/**
 * Starts a kept search (up to 4 per session), or cancels one. Either way the session's kept
 * results are then compared with the store.
 */
export async function liveSearchStep(world: World, session: FuzzSession): Promise<void> {
  const keys = keysOf.get(session) ?? new Map<string, Kept>();
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
    const criteria = rand(2) === 0 ? CRITERIA[rand(CRITERIA.length)] : null;
    session.model.expectLive = { tag, byUid, sorted: criteria !== null };
    const verb = criteria === null ? "SEARCH RETURN (UPDATE ALL)" : `SORT RETURN (UPDATE ALL)`;
    const program = criteria === null ? key : `${criteria} UTF-8 ${key}`;
    await command(world, session, `${byUid ? "UID " : ""}${verb} ${program}`, {
      expungeAllowed: byUid,
      acceptableNo: [],
    });
    check(session.model.live.has(tag), `No ESEARCH started the kept result ${tag}`);
    keys.set(tag, { key, criteria });
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
  const sorts: Array<[string, Kept]> = [];
  for (const [tag, kept] of keys) {
    const live = session.model.live.get(tag);
    if (!live) continue;
    const { key } = kept;
    if (kept.criteria !== null) sorts.push([tag, kept]);
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
  for (const [tag, { key, criteria }] of sorts) {
    await compareOrder(world, session, tag, key, criteria!);
  }
}

/** A kept SORT's order equals a fresh SORT's (asked right after the NOOP: nothing between). */
async function compareOrder(
  world: World,
  session: FuzzSession,
  tag: string,
  key: string,
  criteria: string,
): Promise<void> {
  const live = session.model.live.get(tag);
  if (!live?.order) return;
  const uid = live.byUid ? "UID " : "";
  const fresh = await command(world, session, `${uid}SORT RETURN (ALL) ${criteria} UTF-8 ${key}`, {
    expungeAllowed: live.byUid,
    acceptableNo: [],
  });
  // The SORT may have carried updates of its own: compare with the order as they left it.
  const kept = session.model.live.get(tag)?.order ?? [];
  check(
    (fresh.search ?? []).join(" ") === kept.join(" "),
    `Kept ${uid}SORT ${criteria} ${key} (${tag}) holds [${kept.join(" ")}]; ` +
      `a fresh SORT gives [${(fresh.search ?? []).join(" ")}]`,
  );
}
