/**
 * The layers point down (DESIGN.md, STYLE.md "Avoid: import cycles"): the import graph that
 * `deno info --json` reports has no cycle, `lib/mail` (the bottom) imports only itself, and
 * `lib/store` only itself and `lib/mail`. Type-only imports count: a cycle through types
 * still means neither module can be read, moved or tested without the other.
 *
 * The graph is the union of several roots, so the modules `main.ts` imports lazily (the
 * HTTP control plane, the SQLite store, the TLS transport) are in it whatever `deno info`
 * does with dynamic imports.
 *
 * @module
 */

import assert from "node:assert/strict";
import { denoInfo, REPO_ROOT as ROOT } from "./harness/deno_info.ts";
const ROOTS = [
  "main.ts",
  "lib/mod.ts",
  "lib/http/server.ts",
  "lib/store/sqlite.ts",
  "lib/net/node_transport.ts",
];

/** Which modules may import which: a module under `from` imports only under `allowed`. */
const LAYER_RULES: ReadonlyArray<{ from: string; allowed: readonly string[] }> = [
  { from: "lib/mail/", allowed: ["lib/mail/"] },
  { from: "lib/store/", allowed: ["lib/store/", "lib/mail/"] },
];

/** Module (path relative to the repository) → the local modules it imports. */
type Graph = Map<string, Set<string>>;

async function importGraph(roots: readonly string[]): Promise<Graph> {
  const graph: Graph = new Map();
  const local = (specifier: string) =>
    specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : null;
  for (const root of roots) {
    for (const module of await denoInfo(root)) {
      const from = local(module.specifier);
      if (from === null) continue;
      const edges = graph.get(from) ?? new Set<string>();
      graph.set(from, edges);
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          const to = target === undefined ? null : local(target);
          if (to !== null) edges.add(to);
        }
      }
    }
  }
  return graph;
}

/**
 * The strongly connected components with more than one module, or a module importing
 * itself (Tarjan's algorithm, iterative), each sorted.
 */
function findCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; edges: Iterator<string> }> = [];
    const enter = (node: string) => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: (graph.get(node) ?? new Set()).values() });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const step = frame.edges.next();
      if (!step.done) {
        const target = step.value;
        if (!index.has(target)) enter(target);
        else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1 || graph.get(frame.node)?.has(frame.node)) {
        cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/** One import path around a cycle, for the failure message: `a → b → a`. */
function cyclePath(graph: Graph, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start].join(" → ");
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return component.join(", ");
}

function layerViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const rule = LAYER_RULES.find((rule) => from.startsWith(rule.from));
    if (!rule) continue;
    for (const to of targets) {
      if (!rule.allowed.some((prefix) => to.startsWith(prefix))) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

Deno.test("layers: the cycle finder finds cycles, self-imports included, and nothing else", () => {
  const graph: Graph = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c", "d"])],
    ["c", new Set(["a"])],
    ["d", new Set(["e"])],
    ["e", new Set(["e"])],
    ["f", new Set(["a"])],
  ]);
  assert.deepEqual(findCycles(graph).sort(), [["a", "b", "c"], ["e"]]);
  assert.equal(cyclePath(graph, ["a", "b", "c"]), "a → b → c → a");
  assert.deepEqual(findCycles(new Map([["a", new Set(["b"])], ["b", new Set()]])), []);
});

Deno.test("layers: no import cycle, lib/mail and lib/store point down", async () => {
  const graph = await importGraph(ROOTS);
  // The lazily imported modules must be in the graph, or it proves nothing about them.
  for (const module of ["lib/http/server.ts", "lib/store/sqlite.ts", "lib/net/node_transport.ts"]) {
    assert.ok(graph.has(module), `${module} is missing from the import graph`);
  }
  const cycles = findCycles(graph).map((component) => cyclePath(graph, component));
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join("\n")}`);
  const violations = layerViolations(graph);
  assert.deepEqual(violations, [], `imports pointing up:\n${violations.join("\n")}`);
});
