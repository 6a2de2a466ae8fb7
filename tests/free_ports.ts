/**
 * Ports for a server a test starts on ports known beforehand (a spawned `main.ts`, a README
 * block, a port a client polls while the server starts).
 *
 * Picked by listening on port 0 and closing, a port comes from the kernel's ephemeral range,
 * from which every other `port: 0` listener and outgoing connection of the tests running in
 * parallel is given one too: one of them can take it before the server binds it (a CI run failed
 * with "port ... is already in use"). So on Linux they are picked below that range, at random,
 * each checked by listening on it; elsewhere, or if the range starts too low, as before.
 *
 * @module
 */

/** The lowest port picked below the ephemeral range. */
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range, or undefined if unknown. */
function ephemeralStart(): number | undefined {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const start = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on `port` of 127.0.0.1, or returns undefined if it is taken. */
function tryListen(port: number): Deno.TcpListener | undefined {
  try {
    return Deno.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return undefined;
    throw error;
  }
}

/** `n` distinct ports of 127.0.0.1 free right now, none the kernel gives out for port 0. */
export function freePorts(n: number): number[] {
  const start = ephemeralStart();
  const listeners: Deno.TcpListener[] = [];
  try {
    while (listeners.length < n) {
      const listener = start !== undefined && start - LOWEST >= 1_000
        ? tryListen(LOWEST + Math.floor(Math.random() * (start - LOWEST)))
        : Deno.listen({ hostname: "127.0.0.1", port: 0 });
      if (listener) listeners.push(listener);
    }
    return listeners.map((listener) => listener.addr.port);
  } finally {
    for (const listener of listeners) listener.close();
  }
}

/** One port, as {@linkcode freePorts}. */
export function freePort(): number {
  return freePorts(1)[0];
}
