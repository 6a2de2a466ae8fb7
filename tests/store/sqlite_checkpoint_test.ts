/**
 * The SQLite store's WAL checkpoints (lib/store/sqlite_checkpoint.ts): in the worker, one at a
 * time, with the WAL starting over during a burst; on the main thread when the worker cannot
 * start; and a close that does not hang on a wedged worker.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  type CheckpointCounts,
  Checkpoints,
  COMMITS_PER_CHECKPOINT,
  IDLE_MS,
  RESTART_FRAMES,
} from "../../lib/store/sqlite_checkpoint.ts";
import {
  type CheckpointResult,
  type CheckpointWorker,
  CLOSE_WAIT_MS,
  MAIL_SYNC_DELAY_MS,
  startCheckpointWorker,
} from "../../lib/store/sqlite_checkpoint_worker.ts";
import { openSqliteStore, type SqliteStoreOptions } from "../../lib/store/sqlite.ts";
import { sampleMessage } from "./contract.ts";
import { tempDb } from "./temp_db.ts";
import { startPermissions } from "../../scripts/start_task.ts";
import { waitFor as until } from "../wait.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ~2 KB, the size of the SMTP benchmark's messages: ~6 WAL pages a commit. */
const body = "x".repeat(76).concat("\r\n").repeat(26);

/** Bytes of `path`, 0 if it does not exist. */
function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

/**
 * Appends `count` messages one store call (one commit) each, yielding to the event loop in
 * between as a server does; returns the WAL file's largest size seen.
 */
async function burst(
  store: ReturnType<typeof openSqliteStore>,
  walPath: string,
  count: number,
  from = 0,
): Promise<number> {
  let largest = 0;
  for (let i = from; i < from + count; i++) {
    store.append("u", "INBOX", sampleMessage(`m${i}`, body));
    if (i % 4 === 3) await sleep(0);
    if (i % 100 === 99) largest = Math.max(largest, sizeOf(walPath));
  }
  return Math.max(largest, sizeOf(walPath));
}

/** Reopens the store at `path` and checks every message of the burst reads back. */
function assertAllReadable(path: string, count: number): void {
  const store = openSqliteStore(path, { checkpointWorker: unavailable });
  try {
    const messages = store.listMessages("u", "INBOX");
    assert.equal(messages.length, count);
    const decoder = new TextDecoder();
    for (const [i, meta] of messages.entries()) {
      const raw = store.getRaw("u", "INBOX", meta.uid);
      assert.ok(raw && decoder.decode(raw).includes(`Subject: m${i}\r\n`), `message ${i}`);
    }
  } finally {
    store.close();
  }
}

const unavailable = (): CheckpointWorker => {
  throw new Error("no workers here");
};

async function withDatabase(run: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-checkpoint-" });
  try {
    await run(`${dir}/mail.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Messages in the bursts below: past the WAL's start-over point several times. */
const BURST = 6_000;
/**
 * The WAL's bound in the bursts below: without the WAL starting over, 6,000 commits of ~6
 * pages would grow it to ~140 MiB; it starts over past RESTART_FRAMES (~27 MiB).
 */
const WAL_BOUND = 40 * 1024 * 1024;

Deno.test("sqlite checkpoints: a burst is checkpointed by the worker, the WAL stays bounded", async () => {
  await withDatabase(async (path) => {
    let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
    let workers = 0;
    const warnings: string[] = [];
    const options: SqliteStoreOptions = {
      checkpointWorker: (file) => (workers++, startCheckpointWorker(file)),
      checkpointCounts: (running) => counts = running,
      warn: (message) => warnings.push(message),
    };
    const store = openSqliteStore(path, options);
    try {
      const largest = await burst(store, `${path}-wal`, BURST);
      assert.ok(largest < WAL_BOUND, `WAL grew to ${largest} bytes`);
      // Caught up once writes paused: the worker copied the whole WAL and started it over.
      // How many rounds the burst had depends on the machine (a round's sync took hundreds of ms
      // beside a full parallel test run, and a round covers the commits made meanwhile): not
      // counted beyond one besides the idle round. Without rounds during the burst the WAL
      // passes its bound above.
      await until(() => counts.restarts >= 1, "the worker's start-over once writes paused");
      assert.ok(counts.worker >= 2, `the worker checkpointed ${counts.worker} times`);
      assert.equal(workers, 1, "one worker, started once");
      // The worker writes back what it copied (the WAL's start-over then had little to sync).
      assert.ok(counts.syncs >= 1, `the worker synced the database file ${counts.syncs} times`);
      assert.deepEqual(warnings, []);
    } finally {
      store.close();
    }
    assert.equal(sizeOf(`${path}-wal`), 0, "the final checkpoint on close empties the WAL");
    assertAllReadable(path, BURST);
  });
});

Deno.test("sqlite checkpoints: told to, the worker starts as the store opens, once", async () => {
  await withDatabase(async (path) => {
    for (const atOpen of [false, true]) {
      let workers = 0;
      let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
      const store = openSqliteStore(path, {
        checkpointWorker: (file) => (workers++, startCheckpointWorker(file)),
        checkpointCounts: (running) => counts = running,
        checkpointWorkerAtOpen: atOpen,
      });
      try {
        assert.equal(workers, atOpen ? 1 : 0, `started at open: ${atOpen}`);
        // The first checkpoint goes to the worker that is there, or starts it.
        await burst(store, `${path}-wal`, COMMITS_PER_CHECKPOINT);
        await until(() => counts.worker >= 1, "a worker checkpoint");
        assert.equal(workers, 1);
      } finally {
        store.close();
      }
    }
  });
});

Deno.test("sqlite checkpoints: without a worker they run on the main thread, warned once", async () => {
  await withDatabase(async (path) => {
    let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
    const warnings: string[] = [];
    const store = openSqliteStore(path, {
      checkpointWorker: unavailable,
      checkpointCounts: (running) => counts = running,
      warn: (message) => warnings.push(message),
    });
    try {
      for (let round = 0; round < 3; round++) {
        await burst(store, `${path}-wal`, 400, round * 400);
        const before = counts.main;
        await until(() => counts.main > before, "an idle checkpoint on the main thread");
      }
      assert.equal(counts.worker, 0);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /main thread.*no workers here/);
    } finally {
      store.close();
    }
    assertAllReadable(path, 1_200);
  });
});

Deno.test("sqlite checkpoints: a worker whose checkpoint fails is given up for the main thread", async () => {
  await withDatabase(async (path) => {
    let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
    const warnings: string[] = [];
    const store = openSqliteStore(path, {
      checkpointWorker: (file) =>
        startCheckpointWorker(file, undefined, "SELECT * FROM no_such_table"),
      checkpointCounts: (running) => counts = running,
      warn: (message) => warnings.push(message),
    });
    try {
      await burst(store, `${path}-wal`, 400);
      await until(() => warnings.length > 0, "the warning");
      await burst(store, `${path}-wal`, 400, 400);
      const before = counts.main;
      await until(() => counts.main > before, "an idle checkpoint on the main thread");
      assert.equal(counts.worker, 0);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /no such table/);
    } finally {
      store.close();
    }
    assertAllReadable(path, 800);
  });
});

Deno.test("sqlite checkpoints: close returns promptly with the worker wedged", async () => {
  await withDatabase(async (path) => {
    let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
    let wedged = 0;
    // A statement that runs for seconds stands for a checkpoint stuck on the disk.
    const slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c " +
      "WHERE x < 20000000) SELECT count(*) AS busy, 0 AS log, 0 AS checkpointed FROM c";
    const store = openSqliteStore(path, {
      checkpointWorker: (file) => (wedged++, startCheckpointWorker(file, undefined, slow)),
      checkpointCounts: (running) => counts = running,
    });
    let closedIn = Infinity;
    try {
      await burst(store, `${path}-wal`, 320);
      assert.equal(wedged, 1, "the worker was asked");
      await sleep(200);
      assert.equal(counts.worker, 0, "and is still busy");
    } finally {
      const start = performance.now();
      store.close();
      closedIn = performance.now() - start;
    }
    // A hang guard, not a speed check: close waits CLOSE_WAIT_MS at most, then terminates.
    assert.ok(closedIn < CLOSE_WAIT_MS + 1_500, `close took ${closedIn} ms`);
    assertAllReadable(path, 320);
  });
});

/** A worker whose rounds and start-overs the test finishes by hand. */
function manualWorker() {
  const rounds: Array<(result: CheckpointResult) => void> = [];
  const restarts: Array<(wrote: boolean) => void> = [];
  let closed = false;
  const worker: CheckpointWorker = {
    checkpoint: () => new Promise((resolve) => rounds.push(resolve)),
    restart: () => new Promise((resolve) => restarts.push(resolve)),
    close: () => closed = true,
  };
  return { worker, rounds, restarts, isClosed: () => closed };
}

/** A round that found the WAL short: commits made meanwhile wait for the next round. */
const short: CheckpointResult = { busy: 0, log: RESTART_FRAMES - 1, checkpointed: 0 };
/** A round that found the WAL past RESTART_FRAMES: the WAL must start over. */
const long: CheckpointResult = { busy: 0, log: RESTART_FRAMES, checkpointed: RESTART_FRAMES };

Deno.test("checkpoints: one worker round at a time, then the tail on the main thread", async () => {
  const { worker, rounds, restarts, isClosed } = manualWorker();
  let here = 0;
  const checkpoints = new Checkpoints({
    checkpointHere: () => (here++, undefined),
    startWorker: () => worker,
    warn: (message) => assert.fail(message),
  });
  try {
    for (let i = 1; i < COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    assert.equal(rounds.length, 0, "not before the threshold");
    checkpoints.wrote();
    assert.equal(rounds.length, 1, "at the threshold");
    for (let i = 0; i < 7 * COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    assert.equal(rounds.length, 1, "never two in flight, none queued");
    rounds[0](short);
    await sleep(0);
    assert.equal(rounds.length, 1, "a short WAL: the commits made meanwhile wait");
    checkpoints.wrote();
    assert.equal(rounds.length, 2, "the next commit starts the next round");
    for (let i = 0; i < 20; i++) checkpoints.wrote();
    rounds[1](long);
    await sleep(0);
    assert.equal(rounds.length, 3, "a long WAL, many commits meanwhile: another round at once");
    for (let i = 0; i < 3; i++) checkpoints.wrote();
    rounds[2](long);
    await sleep(0);
    assert.equal(rounds.length, 3);
    assert.equal(here, 1, "a short tail is checkpointed on the main thread");
    assert.deepEqual(checkpoints.counts, { worker: 3, main: 1, syncs: 0, restarts: 0 });
    checkpoints.wrote();
    await until(() => rounds.length === 4, "the idle round");
    assert.equal(here, 1);
    assert.equal(restarts.length, 0, "no start-over: no checkpoint found the WAL all copied");
  } finally {
    checkpoints.close();
  }
  assert.ok(isClosed(), "close ends the worker");
});

/** A checkpoint that copied the whole WAL it found. */
const all: CheckpointResult = { busy: 0, log: 60, checkpointed: 60 };

Deno.test("checkpoints: writes paused and the WAL all copied, the worker starts it over", async () => {
  const { worker, rounds, restarts } = manualWorker();
  const tails: Array<CheckpointResult | undefined> = [];
  let told = 0;
  const checkpoints = new Checkpoints({
    checkpointHere: () => tails.shift(),
    startWorker: () => worker,
    warn: (message) => assert.fail(message),
    restarted: () => told++,
  });
  try {
    for (let i = 0; i < COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    rounds[0](all);
    await sleep(0);
    assert.equal(restarts.length, 0, "not while writes may still come");
    await until(() => restarts.length === 1, "the start-over once writes paused");
    for (let i = 0; i < COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    assert.equal(rounds.length, 1, "one request at a time");
    restarts[0](true);
    await sleep(0);
    assert.equal(rounds.length, 2, "the commits made meanwhile: a round at once");
    assert.equal(checkpoints.counts.restarts, 1);
    assert.equal(told, 1, "the main connection is told, to drop its page cache");

    // A round that copied what it found while commits came: those are not copied.
    checkpoints.wrote();
    rounds[1](all);
    await until(() => rounds.length === 3, "the idle round");
    assert.equal(restarts.length, 1);
    // The idle round found writes paused: the start-over follows it at once.
    rounds[2](all);
    await sleep(0);
    assert.equal(restarts.length, 2);
    restarts[1](false); // The main connection held the write lock.
    await sleep(IDLE_MS * 2);
    assert.equal(restarts.length, 2, "not asked again with nothing written since");
    assert.equal(checkpoints.counts.restarts, 1);
    assert.equal(told, 1, "nothing to drop: the worker wrote nothing");

    // The main thread's tail copied the rest: the idle timer asks for the start-over.
    checkpoints.wrote();
    await until(() => rounds.length === 4, "the idle round");
    for (let i = 0; i < 3; i++) checkpoints.wrote();
    tails.push(all);
    rounds[3]({ busy: 0, log: RESTART_FRAMES, checkpointed: RESTART_FRAMES });
    await sleep(0);
    assert.equal(checkpoints.counts.main, 1, "the tail");
    await until(() => restarts.length === 3, "the start-over after the tail");
    restarts[2](true);
    // A partial copy (a reader kept it from the end) starts nothing over.
    checkpoints.wrote();
    await until(() => rounds.length === 5, "the idle round");
    rounds[4]({ busy: 1, log: 60, checkpointed: 40 });
    await sleep(IDLE_MS * 2);
    assert.equal(restarts.length, 3);
    assert.equal(checkpoints.counts.restarts, 2);
  } finally {
    checkpoints.close();
  }
});

Deno.test("checkpoints: commits made during a request slower than the idle time are copied once writes pause", async () => {
  const { worker, rounds, restarts } = manualWorker();
  const checkpoints = new Checkpoints({
    checkpointHere: () => assert.fail("no checkpoint on the main thread"),
    startWorker: () => worker,
    warn: (message) => assert.fail(message),
  });
  try {
    for (let i = 0; i < COMMITS_PER_CHECKPOINT + 5; i++) checkpoints.wrote();
    // The idle timer fires while the round is in the worker (a loaded machine's slow round).
    await sleep(IDLE_MS * 3);
    assert.equal(rounds.length, 1);
    rounds[0](short);
    await until(() => rounds.length === 2, "the idle round for the commits made meanwhile");
    rounds[1](all);
    await until(() => restarts.length === 1, "the start-over");
    // Commits made during the start-over, the idle timer firing before it ends.
    for (let i = 0; i < 3; i++) checkpoints.wrote();
    await sleep(IDLE_MS * 3);
    restarts[0](true);
    await until(() => rounds.length === 3, "the idle round for the commits made meanwhile");
    rounds[2](all);
    await until(() => restarts.length === 2, "the start-over");
    restarts[1](true);
  } finally {
    checkpoints.close();
  }
});

Deno.test("checkpoints: a failed start-over leaves the checkpoints in the worker", async () => {
  const rounds: Array<(result: CheckpointResult) => void> = [];
  let restarts = 0;
  const checkpoints = new Checkpoints({
    checkpointHere: () => assert.fail("no checkpoint on the main thread"),
    startWorker: () => ({
      checkpoint: () => new Promise((resolve) => rounds.push(resolve)),
      restart: () => (restarts++, Promise.reject(new Error("database or disk is full"))),
      close: () => {},
    }),
    warn: (message) => assert.fail(message),
  });
  try {
    for (let i = 0; i < COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    rounds[0](all);
    await until(() => restarts === 1, "the start-over");
    await sleep(0);
    for (let i = 0; i < COMMITS_PER_CHECKPOINT; i++) checkpoints.wrote();
    assert.equal(rounds.length, 2, "the next round in the worker");
    assert.equal(checkpoints.counts.restarts, 0);
  } finally {
    checkpoints.close();
  }
});

/** The WAL header's checkpoint sequence number and salts: they change when the WAL starts over. */
function walGeneration(walPath: string): string {
  const header = Deno.readFileSync(walPath).subarray(12, 24);
  return Array.from(header, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("sqlite checkpoints: writes paused, the worker starts the WAL over, not the next write", async () => {
  await withDatabase(async (path) => {
    let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
    const store = openSqliteStore(path, {
      checkpointCounts: (running) => counts = running,
      warn: (message) => assert.fail(message),
    });
    try {
      await burst(store, `${path}-wal`, 400);
      await until(() => counts.restarts === 1, "the worker's start-over");
      const started = walGeneration(`${path}-wal`);
      store.append("u", "INBOX", sampleMessage("m400", body));
      assert.equal(walGeneration(`${path}-wal`), started, "the next write went on in the WAL");
    } finally {
      store.close();
    }
    assertAllReadable(path, 401);
  });
});

Deno.test("sqlite checkpoint worker: a start-over gives way to the main connection's write lock", async () => {
  await withDatabase(async (path) => {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA user_version = 7; CREATE TABLE t (x)");
    db.exec("INSERT INTO t VALUES (1), (2)");
    const worker = startCheckpointWorker(path);
    try {
      const round = await worker.checkpoint();
      assert.ok(round.log > 0 && round.checkpointed === round.log, JSON.stringify(round));
      const copied = walGeneration(`${path}-wal`);
      db.exec("BEGIN IMMEDIATE");
      assert.equal(await worker.restart(), false);
      db.exec("COMMIT");
      assert.equal(walGeneration(`${path}-wal`), copied, "nothing written");
      assert.equal(await worker.restart(), true);
      assert.notEqual(walGeneration(`${path}-wal`), copied, "started over");
      const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
      assert.equal(row.user_version, 7, "the version as it was");
      assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()?.n, 2);
    } finally {
      worker.close();
      db.close();
    }
  });
});

Deno.test("sqlite store: a write waits for another connection's write lock", async () => {
  await withDatabase(async (path) => {
    const store = openSqliteStore(path, { checkpointWorker: unavailable, warn: () => {} });
    // Another thread holds the write lock for a while, as the worker's start-over does.
    const code = `import { DatabaseSync } from "node:sqlite";
      self.onmessage = ({ data: path }) => {
        const db = new DatabaseSync(path);
        db.exec("BEGIN IMMEDIATE");
        self.postMessage("locked");
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
        db.exec("COMMIT");
        db.close();
        self.postMessage("released");
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const holder = new Worker(url, { type: "module" });
    try {
      const said: string[] = [];
      holder.onmessage = ({ data }) => said.push(data);
      holder.postMessage(path);
      await until(() => said.length > 0, "the other connection's lock");
      store.append("u", "INBOX", sampleMessage("m0", body));
      await until(() => said.length > 1, "the lock's release");
    } finally {
      holder.terminate();
      URL.revokeObjectURL(url);
      store.close();
    }
    assertAllReadable(path, 1);
  });
});

Deno.test("checkpoints: nothing after close, no worker before one is needed", async () => {
  let started = 0;
  const checkpoints = new Checkpoints({
    checkpointHere: () => assert.fail("no checkpoint after close"),
    startWorker: () => (started++, manualWorker().worker),
    warn: (message) => assert.fail(message),
  });
  checkpoints.wrote();
  checkpoints.close();
  await sleep(250);
  assert.equal(started, 0);
});

/** A thread of another process: its name, nice value and scheduling policy (0 OTHER, 5 IDLE). */
interface ThreadPriority {
  name: string;
  nice: number;
  policy: number;
}

/** The threads of process `pid` (`/proc/<pid>/task/<tid>/stat`: fields 19 and 41). */
function threadPriorities(pid: number): ThreadPriority[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].flatMap((task) => {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
    } catch {
      return []; // the thread ended meanwhile
    }
    // Fields counted after the name's closing parenthesis, which ends field 2.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    return [{ name, nice: Number(fields[16]), policy: Number(fields[38]) }];
  });
}

/**
 * Runs tests/store/priority_child.ts with `permissions` (a store whose worker has checkpointed
 * once) and returns its threads' priorities, read twice, 300 ms apart (anything the worker's
 * start set has been set by then).
 */
async function childThreads(permissions: string[]): Promise<ThreadPriority[][]> {
  await using db = await tempDb("priority");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      ...permissions,
      new URL("./priority_child.ts", import.meta.url).href,
      db.path,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!said.includes("ready\n")) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the child ended before it was ready: ${said}`);
      said += value;
    }
    const first = threadPriorities(child.pid);
    await sleep(300);
    const second = threadPriorities(child.pid);
    reader.releaseLock();
    return [first, second];
  } finally {
    await child.stdin.close();
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
}

const SCHED_OTHER = 0;

Deno.test({
  name:
    "sqlite checkpoints: on Linux, with deno task start's permissions, no thread is lowered: the worker's, V8's and the rest run at the normal policy, nice 0",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const permissions = startPermissions();
    assert.ok(!permissions.includes("--allow-all"), permissions.join(" "));
    for (const threads of await childThreads(permissions)) {
      const listed = JSON.stringify(threads);
      // The checkpoint worker's (Deno names a web worker's thread "worker-N"), V8's, the main one.
      for (const name of ["worker-1", "V8 DefaultWorke", "deno"]) {
        assert.ok(threads.some((t) => t.name === name), `${name} is there: ${listed}`);
      }
      // A thread of the lowest priority held the main thread up for up to 1.6 s when other
      // processes kept the cores busy (lib/store/sqlite_checkpoint_worker.ts).
      for (const thread of threads) {
        assert.deepEqual([thread.policy, thread.nice], [SCHED_OTHER, 0], listed);
      }
    }
  },
});

Deno.test("sqlite checkpoints: the worker syncs the mail file a while after the start-over, not in a burst's rounds", async () => {
  await withDatabase(async (path) => {
    for (const blobsInDatabase of [false, true]) {
      let counts: Readonly<CheckpointCounts> = { worker: 0, main: 0, syncs: 0, restarts: 0 };
      let worker: CheckpointWorker | undefined;
      const file = `${path}.${blobsInDatabase}`;
      const store = openSqliteStore(file, {
        blobsInDatabase,
        checkpointCounts: (running) => counts = running,
        warn: (message) => assert.fail(message),
        checkpointWorker: (at, mailPath) => (worker = startCheckpointWorker(at, mailPath)),
      });
      try {
        await burst(store, `${file}-wal`, 400);
        // Its first round may end after the burst on a loaded machine (the worker starts with
        // the first checkpoint needed, ~100 commits in).
        await until(() => counts.worker > 0, "the worker's rounds");
        assert.equal(worker?.mailSyncs, 0, "no sync in them");
        await until(() => counts.restarts === 1, "the worker's start-over");
        assert.equal(worker?.mailSyncs, 0, "nor at the start-over");
        if (blobsInDatabase) {
          await sleep(MAIL_SYNC_DELAY_MS + 500);
          assert.equal(worker?.mailSyncs, 0, "no mail file, no sync");
        } else await until(() => worker?.mailSyncs === 1, "the mail file's sync");
      } finally {
        store.close();
      }
    }
  });
});
