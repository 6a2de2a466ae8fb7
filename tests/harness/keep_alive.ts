/**
 * Runs `body` while the event loop is kept alive, as a server's listeners keep it: the timers
 * of lib/net/timer.ts do not keep it alive by themselves, so a test that awaits one with
 * nothing else pending would end with "the event loop has already resolved".
 */
export async function whileAlive<T>(body: () => Promise<T>): Promise<T> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept().then((conn) => conn.close(), () => {});
  try {
    return await body();
  } finally {
    listener.close();
    await accepting;
  }
}
