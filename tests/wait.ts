/**
 * Waiting in tests for something that happens asynchronously (a timer, a worker, a socket, the
 * event loop getting CPU time): polled, never a fixed sleep that a loaded machine can outlast.
 *
 * @module
 */

/**
 * Resolves once `check()` holds, polling every 5 ms; throws after `ms` (a guard against hangs
 * only, so generous: a test process on a loaded CI machine can be held for seconds).
 */
export async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
