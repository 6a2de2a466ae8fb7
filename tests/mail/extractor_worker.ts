/**
 * Runs extractors for the fuzz test in a worker, so the test can terminate one that hangs.
 * Says `{ ready }` once loaded; receives `{ name, input }` and answers `{ name, error, ms }`
 * when the extractor returns (or throws).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { EXTRACTORS } from "./extractors.ts";

self.onmessage = (event: MessageEvent<{ name: string; input: string }>) => {
  const { name, input } = event.data;
  let error: string | null = null;
  const start = performance.now();
  try {
    EXTRACTORS[name](input);
  } catch (thrown) {
    error = String(thrown);
  }
  self.postMessage({ name, error, ms: performance.now() - start });
};

// The test starts its hang guard only once the modules are loaded.
self.postMessage({ ready: true });
