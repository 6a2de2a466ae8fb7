/**
 * Runs extractors for the fuzz test in a process of its own, so the test can kill one that
 * hangs (a worker cannot be stopped inside a regular expression). Reads one JSON request a
 * line from stdin, `{ name, fragment }` or `{ name, seed }`, builds the input (kept for the
 * next request with the same one), runs the extractor and writes `{ error, ms }` a line.
 *
 * @module
 */

import { EXTRACTORS, random, repeated } from "./extractors.ts";

const encoder = new TextEncoder();
let lastKey = "";
let input = "";
let pending = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk;
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const request = JSON.parse(pending.slice(0, newline));
    pending = pending.slice(newline + 1);
    const key = JSON.stringify([request.fragment, request.seed]);
    if (key !== lastKey) {
      input = request.fragment !== undefined ? repeated(request.fragment) : random(request.seed);
      lastKey = key;
    }
    let error: string | null = null;
    const start = performance.now();
    try {
      EXTRACTORS[request.name](input);
    } catch (thrown) {
      error = String(thrown);
    }
    const ms = performance.now() - start;
    await Deno.stdout.write(encoder.encode(JSON.stringify({ error, ms }) + "\n"));
  }
}
