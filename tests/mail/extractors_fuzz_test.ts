/**
 * Issue 11, item 3: every extractor that runs a regular expression or a scanner over message
 * or client text (the table in `extractors.ts`) is timed on hostile inputs of about 1 MB
 * (a markup or syntax fragment repeated, the shapes that make a backtracking matcher
 * quadratic) and on seeded random ones. Each call runs in a separate process (killed when it
 * hangs: a worker cannot be stopped inside a regular expression) and must return within a
 * generous hang guard: a quadratic matcher on 1 MB takes minutes to hours, a linear one
 * a few seconds at most even on a busy machine. `FUZZ_SEED` reruns one random seed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EXTRACTORS, FUZZ_SIZE } from "./extractors.ts";

/**
 * Seconds one extractor may take on one input before it counts as a hang. The linear ones
 * take up to ~4 s per MiB on a loaded 2-core machine; the quadratic ones this guards against
 * took 40 s to minutes, so 20 s separates them without failing on a busy host.
 */
const GUARD_SECONDS = 20;

/** Fragments whose repetition defeats backtracking matchers over mail text and markup. */
const FRAGMENTS = [
  "<",
  '<a href="',
  "<base ",
  '<meta http-equiv="',
  "<!--",
  "<!",
  "<script",
  "&#",
  "(",
  ")",
  '"',
  '\\"',
  "=?",
  "=?x?q?",
  "?= ",
  " ",
  "\r\n ",
  "a",
  "A1",
  "1 ",
  ".",
  "http://a.",
  "https://a/)",
  "cid:",
  "; a=",
  "a*0*=",
  ",",
  "<a@b> ",
  "Mon, 1 Jan ",
];

const RUNNER = new URL("./extractor_runner.ts", import.meta.url).pathname;
const VERBOSE = Deno.env.get("FUZZ_VERBOSE") !== undefined;

/** What the runner builds an input from. */
type InputSpec = { readonly fragment: string } | { readonly seed: number };

/** A runner process and a reader of its answer lines. */
function startRunner() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", RUNNER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  // The first answer includes the runner's start-up (module loading): not the extractor's time.
  let started = false;
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const readLine = async (): Promise<string | null> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) return null;
      buffered += value;
    }
    const newline = buffered.indexOf("\n");
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    return line;
  };
  return {
    /** Runs one extractor; null when it does not answer within the guard. */
    async run(name: string, spec: InputSpec): Promise<{ error: string | null; ms: number } | null> {
      await writer.write(new TextEncoder().encode(JSON.stringify({ name, ...spec }) + "\n"));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), GUARD_SECONDS * 1000 + 10_000 * Number(!started));
      });
      try {
        const line = await Promise.race([readLine(), timeout]);
        started = true;
        return line === null ? null : JSON.parse(line);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await writer.close().catch(() => {});
      await lines.cancel().catch(() => {});
      await child.status;
    },
  };
}

/** Runs every extractor on one input in a runner process; returns the failures. */
async function runAll(inputName: string, spec: InputSpec): Promise<string[]> {
  const failures: string[] = [];
  let runner = startRunner();
  try {
    for (const name of Object.keys(EXTRACTORS)) {
      const outcome = await runner.run(name, spec);
      if (VERBOSE) {
        console.log(
          `${name} on ${inputName}: ${outcome ? Math.round(outcome.ms) + " ms" : "hang"}`,
        );
      }
      if (outcome === null) {
        failures.push(`${name} on ${inputName}: no result within ${GUARD_SECONDS} s`);
        // Still busy: only killing the process stops it.
        await runner.stop();
        runner = startRunner();
      } else if (outcome.error !== null) {
        failures.push(`${name} on ${inputName}: threw ${outcome.error}`);
      }
    }
  } finally {
    await runner.stop();
  }
  return failures;
}

/** Runs the inputs two at a time (each in its own worker), failures in input order. */
async function runInputs(
  inputs: ReadonlyArray<readonly [string, InputSpec]>,
): Promise<string[]> {
  const results: string[][] = [];
  let next = 0;
  const lane = async () => {
    while (next < inputs.length) {
      const index = next++;
      const [name, spec] = inputs[index];
      results[index] = await runAll(name, spec);
    }
  };
  await Promise.all([lane(), lane()]);
  return results.flat();
}

Deno.test("extractor fuzz: every extractor is linear on 1 MB of repeated hostile fragments", async () => {
  const failures = await runInputs(
    FRAGMENTS.map((fragment) => [
      `${JSON.stringify(fragment)} × ${Math.ceil(FUZZ_SIZE / fragment.length)}`,
      { fragment },
    ]),
  );
  assert.deepEqual(failures, []);
});

Deno.test("extractor fuzz: every extractor is linear on 1 MB of random markup", async () => {
  const fixed = Deno.env.get("FUZZ_SEED");
  const seeds = fixed ? [Number(fixed)] : [1, 2, 3, 4];
  const failures = await runInputs(
    seeds.map((seed) => [`random seed ${seed} (FUZZ_SEED=${seed})`, { seed }]),
  );
  assert.deepEqual(failures, []);
});
