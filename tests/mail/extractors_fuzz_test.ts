/**
 * Issue 11, item 3: every extractor that runs a regular expression or a scanner over message
 * or client text (the table in `extractors.ts`) is timed on hostile inputs of about 1 MB
 * (a markup or syntax fragment repeated, the shapes that make a backtracking matcher
 * quadratic) and on seeded random ones. Each call runs in a worker and must return within
 * a generous hang guard; a quadratic matcher on 1 MB takes hours, a linear one well under a
 * second. `FUZZ_SEED` reruns one random seed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EXTRACTORS } from "./extractors.ts";

/** Seconds one extractor may take on one input before it counts as a hang. */
const GUARD_SECONDS = 5;
const SIZE = 1024 * 1024;

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

/** `fragment` repeated to about 1 MB, ended by a character that matches nothing above. */
function repeated(fragment: string): string {
  return fragment.repeat(Math.ceil(SIZE / fragment.length)) + "\u0001";
}

/** A seeded pseudo-random string of about 1 MB over the characters that matter to markup. */
function random(seed: number): string {
  const alphabet = `<>!-/="' \t\r\n&#;()?*@.,:aAbq1x\\`;
  let state = seed >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < SIZE; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out.push(alphabet[(state >>> 0) % alphabet.length]);
  }
  return out.join("");
}

const WORKER = new URL("./extractor_worker.ts", import.meta.url);
const VERBOSE = Deno.env.get("FUZZ_VERBOSE") !== undefined;

/** A worker that has loaded the extractors. */
async function startWorker(): Promise<Worker> {
  const worker = new Worker(WORKER, { type: "module" });
  await new Promise((resolve) => worker.onmessage = resolve);
  return worker;
}

/** Runs every extractor on `input` in a worker; returns the failures (hangs and throws). */
async function runAll(inputName: string, input: string): Promise<string[]> {
  const failures: string[] = [];
  let worker = await startWorker();
  try {
    for (const name of Object.keys(EXTRACTORS)) {
      const outcome = await new Promise<{ error: string | null; ms: number } | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), GUARD_SECONDS * 1000);
        worker.onmessage = (event) => {
          clearTimeout(timer);
          resolve(event.data);
        };
        worker.postMessage({ name, input });
      });
      if (VERBOSE) {
        console.log(
          `${name} on ${inputName}: ${outcome ? Math.round(outcome.ms) + " ms" : "hang"}`,
        );
      }
      if (outcome === null) {
        failures.push(`${name} on ${inputName}: no result within ${GUARD_SECONDS} s`);
        // A busy worker cannot be interrupted otherwise.
        worker.terminate();
        worker = await startWorker();
      } else if (outcome.error !== null) {
        failures.push(`${name} on ${inputName}: threw ${outcome.error}`);
      }
    }
  } finally {
    worker.terminate();
  }
  return failures;
}

/** Runs the inputs two at a time (each in its own worker), failures in input order. */
async function runInputs(
  inputs: ReadonlyArray<readonly [string, () => string]>,
): Promise<string[]> {
  const results: string[][] = [];
  let next = 0;
  const lane = async () => {
    while (next < inputs.length) {
      const index = next++;
      const [name, make] = inputs[index];
      results[index] = await runAll(name, make());
    }
  };
  await Promise.all([lane(), lane()]);
  return results.flat();
}

Deno.test("extractor fuzz: every extractor is linear on 1 MB of repeated hostile fragments", async () => {
  const failures = await runInputs(
    FRAGMENTS.map((fragment) => [
      `${JSON.stringify(fragment)} × ${Math.ceil(SIZE / fragment.length)}`,
      () => repeated(fragment),
    ]),
  );
  assert.deepEqual(failures, []);
});

Deno.test("extractor fuzz: every extractor is linear on 1 MB of random markup", async () => {
  const fixed = Deno.env.get("FUZZ_SEED");
  const seeds = fixed ? [Number(fixed)] : [1, 2, 3, 4];
  const failures = await runInputs(
    seeds.map((seed) => [`random seed ${seed} (FUZZ_SEED=${seed})`, () => random(seed)]),
  );
  assert.deepEqual(failures, []);
});
