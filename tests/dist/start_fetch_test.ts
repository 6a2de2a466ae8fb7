/**
 * `deno task start` in a fresh clone fetches only what the server imports: the test-only npm
 * packages (playwright-core, imapflow, nodemailer) stay out. The bundle step (scripts/bundle.ts)
 * reads its own lock file (`deno.server.lock`), because Deno installs every npm package of the
 * lock it uses, and `deno.lock` holds the tests' packages too; the server's `deno run` reads no
 * configuration and no lock file at all (the bundle imports no package). Run
 * with an empty DENO_DIR: the bundle step then fetches the bundler, the server no npm package
 * at all (its certificate generator is its own DER writer), and it runs from the bundle.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const TEST_ONLY = ["playwright-core", "imapflow", "nodemailer"];

Deno.test({
  name: "deno task start: an empty DENO_DIR gets no test-only npm package",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const { command: task, dependencies } = config.tasks.start;
  // Deno does not look for a newer Deno while the server runs (it landed on first commands).
  assert.match(task, /^DENO_NO_UPDATE_CHECK=1 deno run .*dist\/bundle\/main\.js$/);
  // Nor reads a configuration file: the bundle needs none, and without one it idles lower.
  assert.match(task, /^DENO_NO_UPDATE_CHECK=1 deno run --no-config /);
  // Nor a lock file: reading one loads Deno's lock file code, +1.0-1.3 MB of the idle server
  // (issue 13, round 17), for a bundle that has no dependency to check.
  assert.doesNotMatch(task, /--lock/);
  assert.deepEqual(dependencies, ["bundle"]);
  const dir = await Deno.makeTempDir({ prefix: "elektromail-deno-dir-" });
  // The bundle step, forced: it fetches the bundler.
  const bundled = await new Deno.Command("bash", {
    args: ["-c", `${config.tasks.bundle} --force`],
    cwd: ROOT,
    env: { DENO_DIR: dir },
    stdin: "null",
  }).output();
  assert.equal(bundled.code, 0, new TextDecoder().decode(bundled.stderr));
  // exec env (the task starts with a variable): the child is the server itself, so it can be
  // stopped by its pid.
  const child = new Deno.Command("bash", {
    args: ["-c", `exec env ${task} --smtp-port 0 --imap-port 0 --pop3-port off 2>&1`],
    cwd: ROOT,
    env: { DENO_DIR: dir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let seen = "";
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = setTimeout(() => child.kill("SIGKILL"), 90_000);
    while (!/^ *logging /m.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    clearTimeout(deadline);
    reader.releaseLock();
    assert.match(seen, /ready/, "the server started");
    const npm = `${dir}/npm/registry.npmjs.org`;
    const fetched = [...Deno.readDirSync(npm)].map((entry) => entry.name);
    // Only the bundler's: the server imports no npm package.
    assert.deepEqual(fetched, ["@esbuild"], `fetched: ${fetched}`);
    for (const name of TEST_ONLY) {
      assert.ok(!fetched.includes(name), `${name} fetched: ${fetched}`);
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await child.stderr.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});
