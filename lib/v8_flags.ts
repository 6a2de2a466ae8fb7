/**
 * The V8 flags the `elektromail` program is started with: `deno task start`, `compile.sh`
 * (`deno compile` embeds them in the binary and the container image) and the benchmarks'
 * server (bench/spawn.ts) pass {@linkcode V8_FLAGS_ARGUMENT}; tests/v8_flags_test.ts checks
 * that deno.json and compile.sh say the same as this file. They must be on the command line:
 * the heap's sizes are fixed when V8 makes the isolate, and setting them later (`node:v8`
 * `setFlagsFromString` in main.ts) was measured to change nothing.
 *
 * `--max-semi-space-size=4` (MB; V8's default lets the young generation grow to 16 MB a
 * semi-space): an APPEND or SMTP burst keeps most of what it allocates (records, the index
 * built at delivery), so the young generation grew to its largest size and stayed there,
 * half of it an empty copy target. After issue 13's burst of 5,000 messages (108 MB) and the
 * commands that follow, the server's RSS was 336 MB with V8's default and 251 MB with 4 MB
 * (medians of 3 alternating runs each, load ~7); the APPEND rate, the commands' CPU and the
 * idle RSS (~70 MB both) did not move beyond the noise.
 *
 * `--initial-old-space-size=48` (MB; 32 from round 15 to round 26): V8 starts the old generation's
 * first incremental marking at limits set from this size (10 of 16 MB by default, 15 of 19 counting
 * external memory), and a fresh server's first SMTP round of 2,000 messages reached them: the main
 * thread's marking steps beside a V8 worker's held four transactions 6-10 ms while the client
 * waited for a core (issue 13, round 15, `bench/latency_stalls.ts --store sqlite`). With 32 MB
 * there is no marking in that round. Six alternating pairs of
 * `bench/smtp_source.ts --client latency --warm-up 0 --rounds 1 --store sqlite`: p99 1.45-1.76 ms
 * vs 1.59-1.90, max 2.2-2.9 vs 5.9-9.0; three with `--store memory`: p99 1.08-1.24 vs 1.07-1.65,
 * max 2.3-2.9 vs 6.2-7.0, 14,045-15,049 vs 13,414-13,803 msgs/s. Unchanged: idle RSS (48.7-49.4 vs
 * 48.0-49.5 MB, `bench/idle_rss.ts`, three pairs), the RSS after the first-touch burst (202-204 vs
 * 202-203 MB; SELECT 0.23-0.24 vs 0.25-0.28 ms,
 * `bench/cold_compare.ts --client python --no-dovecot`, two pairs), the churn's peak (345 vs 363
 * MB, `bench/postburst_churn.ts`, one pair) and SQLite's warm rounds (p99 1.00-1.18 vs 0.97-1.05
 * ms, two pairs). 48 since round 27: a burst of 5,000 messages (108 MB), their records and their
 * indexes brought the old generation to 32 MB by the end of the first read of them
 * (bench/cold_compare.ts's rows), so the first marking, ~10 ms of steps on the main thread since
 * the records hold their indexes (lib/store/index_cache.ts), fell on the last of those commands: a
 * CONDSTORE client's resync took 7.4-7.8 ms instead of 2.7-2.8 (two alternating pairs,
 * `--client python --condstore --no-dovecot --runs 1`; the other rows and the RSS after them level,
 * 204-206 MB). It now comes later, or in idle time (lib/full_gc.ts). Level too: idle RSS (44.8-45.0
 * vs 44.8-45.5 MB, two pairs), a fresh server's first SMTP round (three pairs a store: p99
 * 1.59-1.70 vs 1.33-1.71 ms with the memory store, 2.03-2.26 vs 1.87-2.50 with SQLite),
 * `bench/imap_load.ts` (one run each: RSS after the run 332 vs 331 MB, 243/268 vs 239/260 before
 * and after its SEARCH phases). What it costs: with SQLite the RSS after those rows is 189-194 MB
 * against 174-176 (two pairs; garbage V8 has not collected yet).
 *
 * `--no-minor-gc-task`: when the young generation is 80% full V8 posts a task that scavenges it,
 * and the task runs at the next turn of the event loop: after a burst of mail, that was often
 * the first command's (a scavenge after the burst takes 0.5-1 ms). Without the task a scavenge
 * comes only when an allocation finds the young generation full. Issue 13, round 15, a worktree
 * with the flag alternating with main: `bench/cold_compare.ts --runs 5 --no-dovecot`, six pairs
 * with the Python client and three with the Deno client, SELECT over 0.4 ms in 0 runs of 45
 * against 4 (0.42-0.97 ms), medians equal (0.22 and 0.24 ms); FETCH (UID FLAGS) medians 0.95
 * and 0.84 against 0.92 and 0.80 ms, STORE equal; a fresh server's first SMTP round (three pairs
 * per store) p99 1.11-1.32 against 1.00-1.48 ms (memory) and 1.62-1.76 against 1.43-1.79
 * (SQLite); idle RSS 48.4-48.8 against 48.8-48.9 MB; RSS after the burst 202 against 204 MB.
 *
 * `--expose-gc`: the full collection that ends the startup warm-up (lib/full_gc.ts) calls
 * `gc()` directly; without it, it reaches the function through `node:v8` and `node:vm`, which
 * load Deno's Node compatibility layer (~2 MB of the idle server's memory).
 *
 * `--no-flush-bytecode`: that collection is V8's "last-resort" one (it gives the young
 * generation's pages back), and a last-resort collection also throws away the bytecode of
 * every function not running, which is what the warm-up compiled: a client's first commands
 * after it were slower. Without flushing (issue 13, `bench/cold_compare.ts --runs 3
 * --no-dovecot`, three alternating pairs): SELECT 0.33-0.41 vs 0.51-5.74 ms (CPU 0.22-0.28 vs
 * 0.28-9.15), the header-list FETCH 20-26 vs 25-37 ms, ENVELOPE BODYSTRUCTURE 24-27 vs 30-32,
 * STORE 1.05-1.46 vs 1.38-2.11. It keeps the bytecode of functions that ran once (startup's):
 * +1 MB idle (54.5-54.9 vs 53.4-53.7 MB from the bundle), still 4 MB under an ordinary full
 * collection's (58.4-58.6).
 *
 * `--no-turbofan`: Maglev is the top tier. A fresh server's SMTP burst tiers up hundreds of
 * functions; TurboFan's jobs (1-14 ms each, ~100 ms in the first 2,000 messages, and on until some
 * 20,000) run on V8's worker threads, which on a 2-core host take the core of the main thread
 * (preempting it) or of the client (a woken client waited up to 3.7 ms for its CPU,
 * `bench/latency_stalls.ts --perf`), and all connections stall together. Without it (issue 13,
 * round 10, `bench/smtp_source.ts --client latency --warm-up 0 --rounds 4 --store memory`, three
 * alternating pairs): p99 of rounds 2-4 0.77-1.17 ms vs 1.05-3.01, the first round 3.51-3.78 vs
 * 3.80-4.25 (its first 60 ms, cold code, stay over 2 ms); after a 20,000-message warm-up, when
 * TurboFan's code would have taken over, 15,055-15,507 vs 16,068-16,953 msgs/s (63-65 vs 58-61
 * microseconds a message); idle RSS and bench/cold_compare.ts's rows unchanged beyond the noise
 * (the header-list FETCH and `ENVELOPE BODYSTRUCTURE` took less CPU: 16-18 vs 22-27 ms).
 *
 * `--no-sparkplug`: no baseline tier between the interpreter and Maglev. V8 gives a function
 * Sparkplug's code once it has run a few times, so the startup warm-up, which runs each command
 * path a few times, left ~600 KB of it in the code space (663 KB used there at its final
 * collection, 63 KB without Sparkplug: `--trace-gc-verbose`) and ~180 KB more in the trusted space,
 * for functions that either reach Maglev in the first command that repeats them or run a handful of
 * times. Issue 13, round 28, four alternating pairs of
 * `bench/idle_rss.ts --runs 1 --env HTTP_PORT=`: idle RSS 43.8-44.8 MB vs 45.1-45.7 (unnamed memory
 * 6.7-6.8 vs 7.5-7.6). What it costs: what Maglev does not take runs in the interpreter. A first
 * `STORE 1:* +FLAGS.SILENT (\Seen)` of 5,000 messages took 1.61-2.09 ms vs 0.71-1.79
 * (`bench/cold_compare.ts --no-dovecot --runs 1`, ten pairs over both clients, CONDSTORE and
 * SQLite; Dovecot's 2.2-2.5) and 1.44-1.79 vs 0.51-0.60 in `bench/imap_load.ts`'s first runs; the
 * other first-touch rows, the warm ones (`bench/imap_load.ts`, two pairs), a fresh server's first
 * contact (`bench/first_contact.ts`, three pairs) and its first SMTP round (three pairs a store,
 * `bench/smtp_source.ts --client latency --warm-up 0 --rounds 1`: p99 1.36-1.71 vs 1.42-1.83 ms
 * with the memory store, 1.96-2.34 vs 2.05-2.38 with SQLite) did not move beyond the noise; warm
 * SMTP (`bench/smtp_source.ts`, two pairs) 12,431-13,374 vs 13,446-13,742 msgs/s with the memory
 * store, 6,466-7,138 vs 6,906-7,068 with SQLite. The STORE row then went over Dovecot's in two
 * takings of four; the warm-up's flag rounds (lib/imap/warm_up.ts `flagChangeRounds`) have V8
 * compile that loop with Maglev instead.
 *
 * `--managed-zone-memory`: V8's compilers and parser take their scratch memory ("zones") in
 * pages of V8's own, pooled and given back to the system when the pool is drained (by the
 * warm-up's final collection, or 8 s after they were last used), instead of from malloc. Through
 * malloc, the Maglev jobs of the startup warm-up left ~1 MB free but kept in each of the two V8
 * worker threads' glibc arenas (97 and 26 KB in use of 1.1 MB each, `malloc_stats()` from gdb on
 * an idle server; glibc only trims an arena's free top, and Deno's startup had raised that
 * threshold). Issue 13, round 17, `bench/idle_rss.ts --runs 2`, two alternating pairs: 44.7-45.1
 * MB vs 46.1-46.7 without the HTTP listener (`deno task start`'s default), 45.8-46.2 vs
 * 47.0-47.6 with it. What it costs: the pages a fresh server's first burst compiles in are taken
 * from the system again (a page fault each, ~10 us on that host). Fresh SMTP rounds
 * (`bench/smtp_source.ts --client latency --warm-up 0 --rounds 1`, 15 alternating pairs with the
 * memory store, 10 with SQLite): p99 medians 3.50 vs 3.21 ms and 4.13 vs 3.99, rates 5,109 vs
 * 5,762 and 3,116 vs 3,343 msgs/s; `bench/cold_compare.ts --no-dovecot --client python`, three
 * pairs, no row moved beyond the noise; the RSS after its burst 206-210 vs 200-201 MB (the pool,
 * given back within 8 s).
 *
 * `--invocation-count-for-maglev=100` and `--minimum-invocations-after-ic-update=100` (V8's
 * defaults 400 and 500): V8 compiles a function with Maglev once it has run about that many
 * times, and, if its inline caches changed meanwhile, that many times after the last change
 * (the second is the one that binds for nearly every function a request runs: its first calls
 * fill its caches). A fresh server's first SMTP round ran its per-message path (~170 functions
 * of the session, the store and the transport, which the startup warm-up runs a few times each)
 * in V8's interpreter for its first ~500 messages, the compiler's jobs taking a core beside the
 * client for its first ~250 ms (64 ms of compiling, `--trace-opt`); now they come after ~100
 * messages. Both are needed: either alone was level, and V8 reads them at startup only
 * (`node:v8` `setFlagsFromString` later changed nothing, a test script). Issue 13, round 32,
 * `bench/smtp_source.ts --bundle --client latency --warm-up 0 --rounds 1` alternating with the
 * code before (a worktree of 3a3791c), eight pairs a store on a noisy 2-core host: SQLite p99
 * 1.78-2.42 ms (median 2.09, under 2 ms in three) against 2.29-3.11 (2.64, none), the slowest
 * transaction 2.9-5.2 against 4.4-8.8 ms, 5,652 against 5,184 msgs/s (medians); the memory store
 * p99 median 1.54 against 1.98 ms, 9,409 against 9,068 msgs/s (10,000 or more in three runs
 * against none). Warm rounds level (eleven pairs with SQLite, two with the memory store). What it
 * costs: with the warm-up as it was, every per-command function of the IMAP session crossed the
 * lower thresholds in it (its 140 record FETCHes), 227 Maglev compiles at startup instead of 59
 * and +2.3-3.3 MB idle; so the warm-up's repeats, sized for the old thresholds, are smaller now
 * (lib/imap/warm_up.ts): 138 compiles, idle 43.9-44.3 MB against 43.4-43.9 (three pairs, each
 * bundle at a new path), spawn to the first greeting level in the host's noise (114-130 ms
 * against 102-136, medians of six, five pairs). The first-touch rows
 * (`bench/cold_compare.ts --runs 1 --no-dovecot`, eighteen pairs over both stores, both clients
 * and CONDSTORE) level or faster (APPEND 5,526-7,522 against 4,183-5,717 msgs/s with the memory
 * store and Python), the RSS after them +7-19 MB (more compiled code and its feedback).
 *
 * @module
 */

/** The flags, as V8 spells them. */
export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=4",
  "--initial-old-space-size=48",
  "--no-minor-gc-task",
  "--expose-gc",
  "--no-flush-bytecode",
  "--no-turbofan",
  "--no-sparkplug",
  "--managed-zone-memory",
  "--invocation-count-for-maglev=100",
  "--minimum-invocations-after-ic-update=100",
];

/** The `deno run` / `deno compile` argument that sets {@linkcode V8_FLAGS}. */
export const V8_FLAGS_ARGUMENT = `--v8-flags=${V8_FLAGS.join(",")}`;
