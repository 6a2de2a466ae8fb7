/**
 * How the FETCH writers that write response lines straight into byte chunks (fetch_meta.ts,
 * fetch_header_fields.ts) hand their output to the session: each writer keeps its own
 * per-message loop, and this one driver cuts chunks, passes them on and applies flow control.
 *
 * A full chunk goes to the socket at once, unawaited (a write does not yield), so the client
 * reads and parses it while the rest is made, as Dovecot's output streams. Every
 * `FLUSH_THRESHOLD` bytes the flush is awaited: a slow reader holds the FETCH back there, and
 * the connection's output stays bounded. Other sessions have had a turn by then, so keywords
 * they set are announced and the job reads its records anew (`MessageState` is live).
 *
 * @module
 */

import { type AuthedSession, FLUSH_THRESHOLD } from "./context.ts";
import { announceKeywords } from "./updates.ts";

/** Bytes of response lines gathered before they go to the builder as one part. */
export const CHUNK_SIZE = 64 * 1024;

/** What the driver reads and moves of a writer's job. */
export interface ChunkedJob {
  /** The next message: its index in the FETCH's targets. */
  readonly t: number;
  /** The chunk being written, and how far. */
  buf: Uint8Array;
  at: number;
  /** Room the line that did not fit needs. */
  need: number;
}

/** A writer's steps. */
export interface ChunkWriter<J extends ChunkedJob> {
  /**
   * Writes lines into `job.buf` until every target is done or the chunk is full (true); false
   * when it stopped for a reason of its own, dealt with, and should be called again at once.
   */
  write(job: J): boolean;
  /** Reads the records of the targets from `job.t` on anew. */
  reread(job: J): void;
}

/**
 * Writes the lines of `count` targets with `writer`, the first chunk `firstSize` bytes at most
 * (a FETCH of a few messages takes a buffer about its size, not a chunk's: the startup
 * warm-up's small FETCHes left the allocator's pages of freed chunks behind, idle RSS). Ends
 * early when the session ends while a flush is awaited.
 */
export async function writeChunked<J extends ChunkedJob>(
  session: AuthedSession,
  job: J,
  count: number,
  firstSize: number,
  writer: ChunkWriter<J>,
): Promise<void> {
  const out = session.out;
  newChunk(job, Math.min(CHUNK_SIZE, firstSize));
  // Bytes given to the builder since the last awaited flush.
  let written = out.length;
  for (;;) {
    const full = writer.write(job);
    if (job.t === count) break;
    if (!full) continue;
    out.push(job.buf.subarray(0, job.at));
    written += job.at;
    newChunk(job, Math.max(CHUNK_SIZE, job.need));
    if (written < FLUSH_THRESHOLD) {
      void session.flush();
      continue;
    }
    written = 0;
    await session.flush();
    if (session.ended) return;
    announceKeywords(session);
    writer.reread(job);
  }
  if (job.at > 0) out.push(job.buf.subarray(0, job.at));
}

/**
 * As {@linkcode writeChunked}, all at once: no flush awaited, so no other session has a turn
 * between the lines (a command whose lines must say the state it left, such as a STORE's
 * report of its change). The builder holds them until the command's answer goes out.
 */
export function writeChunkedNow<J extends ChunkedJob>(
  session: AuthedSession,
  job: J,
  count: number,
  firstSize: number,
  writer: ChunkWriter<J>,
): void {
  const out = session.out;
  newChunk(job, Math.min(CHUNK_SIZE, firstSize));
  for (;;) {
    const full = writer.write(job);
    if (job.t === count) break;
    if (!full) continue;
    out.push(job.buf.subarray(0, job.at));
    newChunk(job, Math.max(CHUNK_SIZE, job.need));
  }
  if (job.at > 0) out.push(job.buf.subarray(0, job.at));
}

/**
 * Starts the job's next chunk. Its fields are written after the job was made, as each again
 * after a flush: V8 takes a field never written after its object was made for a constant.
 */
function newChunk(job: ChunkedJob, size: number): void {
  job.buf = new Uint8Array(size);
  job.at = 0;
}
