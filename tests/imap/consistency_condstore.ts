/**
 * The consistency fuzz's CONDSTORE and QRESYNC steps (RFC 7162): a conditional STORE whose
 * MODIFIED set and effects are checked against the store's mod-sequences, and a QRESYNC
 * session that disconnects, misses changes, and rebuilds its cache from the VANISHED
 * (EARLIER) and FETCH responses of `SELECT (QRESYNC ...)` alone, which must then equal the
 * store exactly.
 *
 * @module
 */

import {
  applyFlagOperation,
  check,
  LineConnection,
  newSummary,
  normalFlags,
} from "./consistency_model.ts";
import {
  ALLOW,
  command,
  type FuzzSession,
  login,
  rulesFor,
  someFlags,
  truthOf,
  USER,
  type World,
} from "./consistency_world.ts";

/** `STORE set (UNCHANGEDSINCE n) ...`: MODIFIED names exactly the messages changed since n. */
export async function conditionalStoreStep(
  world: World,
  session: FuzzSession,
  byUid: boolean,
  targets: number[],
  set: string,
): Promise<void> {
  const { rand, server } = world;
  const modseqs = new Map(
    targets.flatMap((uid) => {
      const meta = server.store.getMessage(USER, session.mailbox, uid);
      return meta ? [[uid, meta.modseq] as const] : [];
    }),
  );
  const known = [...modseqs.values()];
  // 0 (always fails), one message's MODSEQ, or what the session last saw.
  const since = [0, known[rand(Math.max(1, known.length))] ?? 1, session.model.highestModseq][
    rand(3)
  ];
  const flags = someFlags(rand);
  const operation = (["+", "-"] as const)[rand(2)];
  const before = truthOf(world, session.mailbox);
  const summary = await command(
    world,
    session,
    `${byUid ? "UID " : ""}STORE ${set} (UNCHANGEDSINCE ${since}) ${operation}FLAGS.SILENT (${
      flags.join(" ")
    })`,
    rulesFor(byUid, modseqs.size < targets.length),
  );
  if (summary.status === "NO") return;
  const failed = [...modseqs].filter(([, modseq]) => modseq > since).map(([uid]) => uid);
  const numbers = failed.map((uid) => byUid ? uid : session.model.uids.indexOf(uid) + 1);
  const code = summary.code ?? "";
  const modified = code.toUpperCase().startsWith("MODIFIED ") ? code.slice(9) : null;
  check(
    (modified === null) === (failed.length === 0),
    `UNCHANGEDSINCE ${since}: ${code || "no code"}; expected MODIFIED ${numbers.join(",")}`,
  );
  const after = truthOf(world, session.mailbox);
  for (const [uid] of modseqs) {
    if (!after.has(uid)) continue;
    const expected = failed.includes(uid)
      ? before.get(uid)!
      : applyFlagOperation(before.get(uid)!, operation, flags);
    check(
      after.get(uid)!.join(" ") === expected.join(" "),
      `UNCHANGEDSINCE ${since}: UID ${uid} has (${after.get(uid)!.join(" ")})`,
    );
    const known = session.model.flags.get(uid);
    if (known && !failed.includes(uid)) {
      session.model.flags.set(uid, applyFlagOperation(known, operation, flags));
    }
  }
}

/**
 * The session leaves, `meanwhile` changes the mailbox, and it comes back with
 * `SELECT mailbox (QRESYNC (1 highestmodseq))`: its cached UIDs and flags, updated only by
 * that SELECT's VANISHED (EARLIER) and FETCH responses, must equal the store.
 */
export async function qresyncReconnect(
  world: World,
  session: FuzzSession,
  meanwhile: () => Promise<void>,
): Promise<void> {
  const { model } = session;
  if (model.highestModseq === 0) return;
  const cache = new Map(model.uids.map((uid) => [uid, model.flags.get(uid) ?? []]));
  const since = model.highestModseq;
  world.trail.push(`  ${session.name} disconnects (cache at HIGHESTMODSEQ ${since})`);
  session.conn.close();
  model.clear();
  await meanwhile();
  world.current = session;
  session.conn = await LineConnection.open(world.server.ports.imap!);
  await login(world, session);
  const tag = `${session.name}.${++session.tags}`;
  const text = `SELECT ${session.mailbox} (QRESYNC (1 ${since}))`;
  world.trail.push(`  ${tag} ${text}`);
  await session.conn.writeLine(`${tag} ${text}`);
  for (let line = await session.conn.readLine();; line = await session.conn.readLine()) {
    if (line.startsWith(`${tag} `)) {
      check(/^\S+ OK /.test(line), `QRESYNC SELECT failed: ${line}`);
      break;
    }
    const vanished = /^\* VANISHED \(EARLIER\) ([\d,:]+)$/i.exec(line);
    if (vanished) {
      for (const part of vanished[1].split(",")) {
        const [a, b] = part.split(":").map(Number);
        for (const uid of [...cache.keys()]) if (uid >= a && uid <= (b ?? a)) cache.delete(uid);
      }
      continue;
    }
    const fetch = /^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)$/i.exec(line);
    if (fetch) {
      cache.set(Number(fetch[1]), normalFlags(fetch[2] === "" ? [] : fetch[2].split(" ")));
      model.modseqs.set(Number(fetch[1]), Number(fetch[3]));
      continue;
    }
    check(line.startsWith("* "), `Unexpected line in a QRESYNC SELECT: ${line}`);
    model.apply(line, ALLOW, newSummary());
  }
  const truth = truthOf(world, session.mailbox);
  const uids = [...cache.keys()].sort((a, b) => a - b);
  check(
    uids.join(" ") === [...truth.keys()].join(" "),
    `After QRESYNC the cache has UIDs [${uids.join(" ")}]; the store [${
      [...truth.keys()].join(" ")
    }]`,
  );
  for (const uid of uids) {
    check(
      cache.get(uid)!.join(" ") === truth.get(uid)!.join(" "),
      `After QRESYNC UID ${uid} is (${cache.get(uid)!.join(" ")}); stored (${
        truth.get(uid)!.join(" ")
      })`,
    );
  }
  check(model.uids.length === uids.length, `QRESYNC SELECT said ${model.uids.length} EXISTS`);
  model.uids = uids;
  for (const uid of uids) model.flags.set(uid, cache.get(uid)!);
}
