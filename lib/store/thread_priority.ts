/**
 * Whether this process puts V8's worker threads ("V8 DefaultWorker": Maglev's compile jobs,
 * concurrent marking, parallel scavenges) under Linux's SCHED_IDLE, which the SQLite store's
 * checkpoint worker does for it (lib/store/sqlite_checkpoint_worker.ts). Process-wide, as those
 * threads are: the program (main.ts) turns it on; an embedder, such as a test suite that starts
 * servers in its own process, keeps its threads as they are unless it turns it on too.
 *
 * @module
 */

/** The switch; read when a checkpoint worker starts. */
export const processThreads = { idleV8: false };
