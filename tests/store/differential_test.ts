/**
 * Random operation sequences run against the memory and the SQLite store side by side:
 * both must give the same results, errors and events, keep every invariant of the contract
 * (UIDs never reused for a name, counters right), and the SQLite store must read back the
 * same state after a reopen. Fixed seeds, so a failure reproduces.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { mulberry32 } from "../harness/random.ts";
import {
  openMemoryStore,
  openSqliteStore,
  type Store,
  StoreError,
  type StoreEvent,
} from "../../lib/store/mod.ts";

const USERS = ["ann", "Bob"];
const NAMES = ["INBOX", "inbox", "a", "a/b", "a/b/c", "b", "b/a", "x", "x/b", "Trash", "bad*"];
const FLAGS = ["\\Seen", "\\deleted", "\\Flagged", "\\Recent", "work", "WORK", "$Label"];

type Op = { label: string; run: (store: Store) => unknown };

function operation(next: () => number, step: number): Op {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const some = <T>(items: readonly T[]): T[] => items.filter(() => next() < 0.4);
  const user = pick(USERS);
  const name = pick(NAMES);
  const other = pick(NAMES);
  const uids = Array.from({ length: 1 + Math.floor(next() * 4) }, () => 1 + Math.floor(next() * 8));
  const roll = next();
  if (roll < 0.25) {
    const flags = some(FLAGS);
    const body = `Subject: step ${step}\r\n\r\n${"x".repeat(Math.floor(next() * 50))}\r\n`;
    if (next() < 0.7) {
      return {
        label: `append ${user} ${name} [${flags}]`,
        run: (s) =>
          s.append(user, name, new TextEncoder().encode(body), {
            flags,
            internalDate: step * 1000,
          }),
      };
    }
    // MULTIAPPEND's store side: several messages, one transaction, consecutive UIDs.
    const count = 1 + Math.floor(next() * 3);
    const messages = Array.from({ length: count }, (_, i) => ({
      raw: new TextEncoder().encode(`${body}part ${i}\r\n`),
      options: { flags: i === 0 ? flags : [], internalDate: step * 1000 + i },
    }));
    return {
      label: `appendMessages ${user} ${name} ${count} [${flags}]`,
      run: (s) => s.appendMessages(user, name, messages),
    };
  }
  if (roll < 0.35) {
    const op = pick(["add", "remove", "replace"] as const);
    const flags = some(FLAGS);
    return {
      label: `setFlags ${user} ${name} ${uids} ${op} [${flags}]`,
      run: (s) => s.setFlags(user, name, uids, op, flags),
    };
  }
  if (roll < 0.45) {
    return {
      label: `create ${user} ${name}`,
      run: (s) => s.createMailbox(user, name),
    };
  }
  if (roll < 0.52) {
    return {
      label: `delete ${user} ${name}`,
      run: (s) => s.deleteMailbox(user, name),
    };
  }
  if (roll < 0.62) {
    return {
      label: `rename ${user} ${name} ${other}`,
      run: (s) => s.renameMailbox(user, name, other),
    };
  }
  if (roll < 0.7) {
    return {
      label: `copy ${user} ${name} ${uids} ${other}`,
      run: (s) => s.copyMessages(user, name, uids, other),
    };
  }
  if (roll < 0.78) {
    return {
      label: `move ${user} ${name} ${uids} ${other}`,
      run: (s) => s.moveMessages(user, name, uids, other),
    };
  }
  if (roll < 0.88) {
    const restricted = next() < 0.5;
    const force = next() < 0.3;
    return {
      label: `expunge ${user} ${name} ${restricted ? uids : "all"} force=${force}`,
      run: (s) => s.expunge(user, name, restricted ? uids : undefined, force),
    };
  }
  if (roll < 0.95) {
    const on = next() < 0.6;
    return {
      label: `subscribe ${user} ${name} ${on}`,
      run: (s) => s.setSubscribed(user, name, on),
    };
  }
  if (roll < 0.99) return { label: `ensureUser ${user}`, run: (s) => s.ensureUser(user) };
  return { label: "reset", run: (s) => s.reset() };
}

function outcome(store: Store, op: Op): unknown {
  try {
    return { ok: op.run(store) };
  } catch (error) {
    if (error instanceof StoreError) return { error: error.kind };
    throw error;
  }
}

/** Everything observable about a store. */
function snapshot(store: Store) {
  return store.listUsers().map((user) => ({
    user,
    subscriptions: store.listSubscriptions(user),
    mailboxes: store.listMailboxes(user).map((info) => ({
      info,
      messages: store.listMessages(user, info.name).map((meta) => ({
        meta,
        raw: new TextDecoder().decode(store.getRaw(user, info.name, meta.uid)),
      })),
    })),
  }));
}

/** What the invariants remember between steps. */
interface Seen {
  /** Highest UIDNEXT - 1 per `user\0mailbox`. */
  readonly highest: Map<string, number>;
  /** The bytes each `user\0mailbox\0uid` has named (every append's bytes are unique). */
  readonly named: Map<string, string>;
}

/** The contract's invariants, checked against what was seen before. */
function checkInvariants(state: ReturnType<typeof snapshot>, { highest, named }: Seen) {
  for (const { user, mailboxes } of state) {
    for (const { info, messages } of mailboxes) {
      const key = `${user}\0${info.name}`;
      const before = highest.get(key) ?? 0;
      // The UID rule: a UID never names two different messages under one name, whatever
      // the renames, deletes and moves in between.
      for (const { meta, raw } of messages) {
        const was = named.get(`${key}\0${meta.uid}`);
        assert.ok(
          was === undefined || was === raw,
          `${key}: UID ${meta.uid} names another message`,
        );
        named.set(`${key}\0${meta.uid}`, raw);
      }
      const uids = messages.map(({ meta }) => meta.uid);
      for (let i = 1; i < uids.length; i++) assert.ok(uids[i - 1] < uids[i], "UID order");
      assert.ok(info.uidNext > Math.max(0, ...uids), `${key}: UIDNEXT above every UID`);
      assert.ok(
        info.uidNext >= before + 1,
        `${key}: UIDNEXT ${info.uidNext} fell below ${before + 1}`,
      );
      highest.set(key, Math.max(before, info.uidNext - 1));
      assert.equal(info.messages, messages.length);
      assert.equal(
        info.unseen,
        messages.filter(({ meta }) => !meta.flags.includes("\\Seen")).length,
      );
      assert.equal(
        info.deleted,
        messages.filter(({ meta }) => meta.flags.includes("\\Deleted")).length,
      );
      assert.equal(info.size, messages.reduce((sum, { meta }) => sum + meta.size, 0));
    }
  }
}

/**
 * Seeds 17, 27, 30 and 41 found the rename bugs (UIDs reused after a rename and
 * delete-and-recreate; a child renamed onto a surviving mailbox). `STORE_DIFF_SEEDS=500`
 * runs seeds 1 to 500 instead.
 */
/**
 * Blobs of the closed database at `path` that no message row names (each would have been
 * deleted with its last), and message rows that name a blob that is gone (its bytes lost).
 */
function miscountedBlobs(path: string): number {
  const db = new DatabaseSync(path);
  try {
    const orphans = db.prepare(
      "SELECT count(*) AS n FROM blobs AS b " +
        "WHERE NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = b.id)",
    ).get();
    const dangling = db.prepare(
      "SELECT count(*) AS n FROM messages AS m " +
        "WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE id = m.blob_id)",
    ).get();
    return Number(orphans!.n) + Number(dangling!.n);
  } finally {
    db.close();
  }
}

const SEEDS = Deno.env.get("STORE_DIFF_SEEDS")
  ? Array.from({ length: Number(Deno.env.get("STORE_DIFF_SEEDS")) }, (_, i) => i + 1)
  : [1, 2, 3, 4, 5, 6, 17, 27, 30, 41];

for (const seed of SEEDS) {
  Deno.test(`store differential: memory and SQLite agree on 400 random operations (seed ${seed})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-diff-" });
    const path = `${dir}/mail.db`;
    const memory = openMemoryStore({ now: () => 0 });
    let sqlite = openSqliteStore(path, { now: () => 0 });
    const memoryEvents: StoreEvent[] = [];
    const sqliteEvents: StoreEvent[] = [];
    memory.subscribe((event) => memoryEvents.push(event));
    sqlite.subscribe((event) => sqliteEvents.push(event));
    const seen: Seen = { highest: new Map(), named: new Map() };
    const next = mulberry32(seed);
    const log: string[] = [];
    try {
      for (let step = 0; step < 400; step++) {
        const op = operation(next, step);
        log.push(op.label);
        const where = () => `seed ${seed}, after:\n  ${log.slice(-8).join("\n  ")}`;
        assert.deepEqual(outcome(sqlite, op), outcome(memory, op), where());
        assert.deepEqual(sqliteEvents, memoryEvents, where());
        const state = snapshot(memory);
        assert.deepEqual(snapshot(sqlite), state, where());
        if (op.label === "reset") {
          seen.highest.clear();
          seen.named.clear();
        }
        checkInvariants(state, seen);
        if (step % 97 === 96) {
          sqlite.close();
          assert.equal(miscountedBlobs(path), 0, `blob references: ${where()}`);
          sqlite = openSqliteStore(path, { now: () => 0 });
          sqlite.subscribe((event) => sqliteEvents.push(event));
          assert.deepEqual(snapshot(sqlite), state, `reopen: ${where()}`);
        }
      }
    } finally {
      memory.close();
      sqlite.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
