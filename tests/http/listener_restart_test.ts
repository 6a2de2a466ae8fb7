/**
 * Out of file descriptors, `Deno.serve`'s accept loop ends by rejecting its `finished`
 * promise; unhandled, that ended the whole process, every protocol with it (hostile-client
 * audit, round 34: idle HTTP connections alone got there, nothing caps them). The server runs
 * here under a low descriptor limit (`ulimit -n`), is flooded with idle HTTP connections, and
 * must live on and answer HTTP again once they are gone.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAIN, RUN, spawnMain } from "../process.ts";
import { waitFor } from "../wait.ts";

Deno.test({
  name: "http: running out of file descriptors stops neither the process nor, after, HTTP",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const server = await spawnMain(
      ["--smtp-port", "0", "--imap-port", "0", "--pop3-port", "0", "--http-port", "0"],
      {},
      { command: ["bash", "-c", 'ulimit -n 200; exec "$0" "$@"', Deno.execPath(), ...RUN, MAIN] },
    );
    const http = server.ports.HTTP;
    const flood: Deno.TcpConn[] = [];
    try {
      // More idle connections than the server has descriptors: its accepts fail (EMFILE).
      // (Refused once the listener stopped.)
      for (let i = 0; i < 300; i++) {
        try {
          flood.push(await Deno.connect({ port: http }));
        } catch {
          break;
        }
      }
      let exited = false;
      server.child.status.then(() => exited = true);
      await waitFor(
        () => exited || server.stderr().includes("http: the listener stopped"),
        "the server to say its HTTP listener stopped",
      );
      assert.equal(exited, false, `the server exited:\n${server.stderr()}`);
      for (const conn of flood.splice(0)) conn.close();
      // The process lives on, and HTTP answers again once descriptors are free.
      const deadline = Date.now() + 20_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        try {
          const response = await fetch(`http://127.0.0.1:${http}/health`);
          await response.body?.cancel();
          status = response.status;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.equal(status, 200, server.stderr());
      assert.equal(exited, false);
    } finally {
      for (const conn of flood) conn.close();
      try {
        server.child.kill("SIGKILL");
      } catch {
        // Exited already (the failure above says so).
      }
      await server.exit();
    }
  },
});
