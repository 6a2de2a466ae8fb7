/**
 * What a fresh server loads at startup (issue 13, idle memory and startup time): the modules
 * `main.ts` reaches through static imports. The ones below are loaded on first use instead, and
 * a static import anywhere on the way would quietly bring them back: Deno's Node layer with
 * `node:crypto` and `node:zlib` cost ~5.5 MB of idle memory and ~30 ms of startup CPU, the HTTP
 * endpoints ~0.7 MB, and TLS, SQLite and `parseArgs` load only when configured.
 *
 * @module
 */

import assert from "node:assert/strict";
import { denoInfo, type InfoDependency, REPO_ROOT as ROOT } from "./harness/deno_info.ts";

/** Loaded only on first use or when configured; each must still be reachable dynamically. */
const LAZY = [
  "node:crypto",
  "node:net",
  "node:tls",
  "node:sqlite",
  "node:util",
  "node:v8",
  "node:vm",
  "lib/http/server.ts",
  "lib/http/routes.ts",
  "lib/pop3/server.ts",
  "lib/store/sqlite.ts",
  "lib/net/node_transport.ts",
  "lib/net/self_signed.ts",
  "lib/healthcheck.ts",
];

/**
 * Not imported at all: lib/node_builtins.ts gets them from the runtime on first use (APOP,
 * URLAUTH, COMPRESS).
 */
const BUILTIN_ON_USE = ["node:zlib", "node:crypto"];

/** Module → the modules whose code it imports (type-only imports load nothing), by kind. */
async function codeGraph(root: string): Promise<Map<string, InfoDependency[]>> {
  const graph = new Map<string, InfoDependency[]>();
  for (const module of await denoInfo(root)) {
    graph.set(
      name(module.specifier),
      (module.dependencies ?? []).filter((dependency) => dependency.code !== undefined),
    );
  }
  return graph;
}

/** `lib/x.ts` for a local module, the specifier itself for a built-in. */
function name(specifier: string): string {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;
}

/** Every module reachable from `root`, through static imports only or through all. */
function reachable(
  graph: Map<string, InfoDependency[]>,
  root: string,
  dynamic: boolean,
): Set<string> {
  const seen = new Set([root]);
  const queue = [root];
  while (queue.length > 0) {
    for (const dependency of graph.get(queue.pop()!) ?? []) {
      if (dependency.isDynamic && !dynamic) continue;
      const target = name(dependency.code!.specifier);
      if (seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return seen;
}

Deno.test("startup graph: main.ts loads the lazily used modules only on demand", async () => {
  const graph = await codeGraph("main.ts");
  const startup = reachable(graph, "main.ts", false);
  // The walk found the server itself, or the absences below would prove nothing.
  for (const module of ["lib/server.ts", "lib/imap/session.ts", "lib/smtp/session.ts"]) {
    assert.ok(startup.has(module), `${module} is missing from the startup graph`);
  }
  const early = [...new Set([...LAZY, ...BUILTIN_ON_USE])].filter((module) => startup.has(module));
  assert.deepEqual(early, [], "loaded at startup");
  // Each is still imported somewhere (dynamically), so this list is not stale.
  const all = reachable(graph, "main.ts", true);
  assert.deepEqual(LAZY.filter((module) => !all.has(module)), [], "not imported at all");
});
