/**
 * Summarizes a V8 CPU profile (`deno run --cpu-prof`, or `bench/smtp_load.ts --cpu-prof DIR`):
 * the functions with the most self time, and the most total (inclusive) time.
 *
 * ```sh
 * deno run -A bench/cpu_profile.ts /tmp/prof/CPU.*.cpuprofile [--top 30]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `name file:line` of a node, the key both tables group by. */
function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(lib|bench|ext|node)\//, "$1/");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

/** Self and total time (µs) per function name over the samples. */
function summarize(profile: Profile): { self: Map<string, number>; total: Map<string, number> } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    let id: number | undefined = profile.samples[i];
    const leaf = frameName(byId.get(id)!);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const name = frameName(byId.get(id)!);
      if (!seen.has(name)) {
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  return { self, total };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "30" } },
  });
  const top = Number(values.top);
  for (const path of positionals) {
    const profile = JSON.parse(Deno.readTextFileSync(path)) as Profile;
    const { self, total } = summarize(profile);
    const all = (profile.endTime - profile.startTime) / 1000;
    const busy = all - ((self.get("(idle) :0") ?? 0) / 1000);
    console.log(`${path}: ${all.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms not idle`);
    const print = (title: string, table: Map<string, number>) => {
      console.log(`\n${title}`);
      const rows = [...table].sort((a, b) => b[1] - a[1]).slice(0, top);
      for (const [name, us] of rows) {
        console.log(
          `${(us / 1000).toFixed(1).padStart(9)} ms ${
            (us / 10 / busy).toFixed(1).padStart(5)
          }%  ${name}`,
        );
      }
    };
    print("self time", self);
    print("total time", total);
  }
}
