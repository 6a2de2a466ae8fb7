/**
 * The module graph `deno info --json` reports for one root, for the tests that check what
 * imports what (tests/layers_test.ts, tests/startup_graph_test.ts).
 *
 * @module
 */

import assert from "node:assert/strict";

/** The repository root, as a URL ending in `/`. */
export const REPO_ROOT = new URL("../../", import.meta.url);

/** One import of a module: the code it loads and the types it reads. */
export interface InfoDependency {
  code?: { specifier: string };
  type?: { specifier: string };
  isDynamic?: boolean;
}

/** One module of the graph. */
export interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** The modules reachable from `root` (a path relative to the repository). */
export async function denoInfo(root: string): Promise<InfoModule[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `deno info ${root} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)).modules;
}
