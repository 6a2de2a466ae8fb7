/**
 * A count of the connections accepted (lib/net/registry.ts) and the reads from them, both
 * transports' (lib/net/transport.ts, lib/net/node_transport.ts), and of the HTTP control
 * plane's requests (lib/http/server.ts): the index warmer runs its idle
 * slices only while it stands still (lib/imap/warm.ts), so that a client that comes after a
 * pause meets one slice at most (its connection's), not one before each of its commands; and
 * the server's collection after its startup warm-up waits, once a client came, for a longer
 * quiet (lib/full_gc.ts `collectWhenIdle`).
 *
 * @module
 */

let reads = 0;

/** Counts one connection accepted or one read of client input. */
export function countInput(): void {
  reads++;
}

/** Reads of client input so far (it only moves forward; compare two). */
export function inputCount(): number {
  return reads;
}
