/**
 * What the server allocates on the V8 heap per SMTP message, and where: bench/smtp_load.ts's
 * load (messages of ~2.2 KB over 4 connections, no pipelining) against a server started with
 * the inspector, which is asked over the Chrome DevTools Protocol for V8's count of bytes
 * allocated (`total_allocated_bytes` of `node:v8`'s heap statistics) before and after each
 * round, and with `--top N` for a sampling heap profile of the round (objects a scavenge or
 * mark-compact collected included), summed per allocating function. Every scavenge stalls the
 * transactions in flight, and scavenges come once the young generation's semi-space (4 MB with
 * the program's V8 flags) is filled: bytes per message set how often.
 *
 * ```sh
 * deno run -A bench/smtp_alloc.ts [--store memory|sqlite] [--rounds 3] [--top 25] [--interval 512]
 * deno run -A bench/smtp_alloc.ts --top 25 --save /tmp/alloc   # profiles for Chrome DevTools too
 * ```
 *
 * The profile's sizes are V8's estimates from samples (one per `--interval` bytes on
 * average); the per-round totals are exact. Allocation outside the V8 heap (the bytes of an
 * `ArrayBuffer`) is in neither.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { client, encodeMessages, type Run } from "./smtp_load.ts";
import { spawnServer } from "./spawn.ts";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** A Chrome DevTools Protocol connection: one call at a time is enough here. */
class Inspector {
  #socket: WebSocket;
  #id = 0;
  #waiting = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#waiting.get(message.id)?.(message);
      this.#waiting.delete(message.id);
    };
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new Inspector(socket);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (message) => {
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as T);
      });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** V8's count of bytes allocated on the heap since the isolate started. */
async function allocatedBytes(inspector: Inspector): Promise<number> {
  const { result } = await inspector.call<{ result: { value: number } }>("Runtime.evaluate", {
    expression:
      `import("node:v8").then((v8) => v8.default.getHeapStatistics().total_allocated_bytes)`,
    awaitPromise: true,
    returnByValue: true,
  });
  return result.value;
}

/** Self bytes per allocating function (`name file:line`), largest first. */
function bySite(head: ProfileNode): Array<[string, number]> {
  const sites = new Map<string, number>();
  const visit = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(lib|bench|ext|node|deno)\//, "$1/");
    const key = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    if (node.selfSize > 0) sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(head);
  return [...sites].sort((a, b) => b[1] - a[1]);
}

/** Self bytes per allocating function with its callers' chain (3 deep), for the top sites. */
function withCallers(head: ProfileNode, top: number): Array<[string, number]> {
  const paths = new Map<string, number>();
  const name = (node: ProfileNode) =>
    `${node.callFrame.functionName || "(anon)"}:${node.callFrame.lineNumber + 1}`;
  const visit = (node: ProfileNode, stack: string[]) => {
    const here = [...stack, name(node)];
    if (node.selfSize > 0) {
      const key = here.slice(-4).reverse().join(" ← ");
      paths.set(key, (paths.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child, here);
  };
  visit(head, []);
  return [...paths].sort((a, b) => b[1] - a[1]).slice(0, top);
}

/** Where in the server each part of the code belongs, by its file (first match wins). */
const PARTS: Array<[RegExp, string]> = [
  [/\/lib\/(imap|mail)\//, "delivery-time indexing (lib/imap, lib/mail)"],
  [/\/lib\/store\//, "store append (lib/store)"],
  [/\/lib\/http\//, "event hub (lib/http)"],
  [/\/lib\/delivery\.ts/, "delivery (lib/delivery.ts)"],
  [/\/lib\/smtp\//, "SMTP session (lib/smtp)"],
  [/\/lib\/net\//, "transport (lib/net, Deno's reads and writes)"],
  [/\/lib\//, "other lib/"],
];

/**
 * Self bytes per part of the server: an allocation belongs to the part of the nearest
 * function of ours on its stack (a built-in or Deno's own code counts for its caller).
 */
function byPart(head: ProfileNode): Array<[string, number]> {
  const parts = new Map<string, number>();
  const visit = (node: ProfileNode, part: string) => {
    const own = PARTS.find(([pattern]) => pattern.test(node.callFrame.url))?.[1];
    const here = own ?? part;
    if (node.selfSize > 0) parts.set(here, (parts.get(here) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child, here);
  };
  visit(head, "other (Deno, V8)");
  return [...parts].sort((a, b) => b[1] - a[1]);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      store: { type: "string", default: "memory" },
      rounds: { type: "string", default: "3" },
      messages: { type: "string", default: "2000" },
      connections: { type: "string", default: "4" },
      top: { type: "string", default: "0" },
      interval: { type: "string", default: "512" },
      save: { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  const messages = Number(values.messages);
  const connections = Number(values.connections);
  const top = Number(values.top);
  const dir = await Deno.makeTempDir({ prefix: "elektromail-alloc-" });
  const env: Record<string, string> = values.store === "sqlite"
    ? { ELEKTROMAIL_DB: `${dir}/bench.db` }
    : {};
  const server = await spawnServer(env, ["--inspect=127.0.0.1:0"]);
  const url = /ws:\/\/\S+/.exec(server.banner)?.[0];
  if (!url) throw new Error(`no inspector URL in the banner:\n${server.banner}`);
  const inspector = await Inspector.connect(url);
  const per = Math.ceil(messages / connections);
  try {
    for (let round = 0; round < rounds; round++) {
      const first = 100_000 * (round + 1);
      const datas = Array.from(
        { length: connections },
        (_, c) => encodeMessages(first + c * per, Math.min(per, messages - c * per), 2200),
      );
      const run: Run = { port: server.smtp, size: 2200, pipelining: false };
      if (top > 0) {
        await inspector.call("HeapProfiler.enable");
        await inspector.call("HeapProfiler.startSampling", {
          samplingInterval: Number(values.interval),
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      }
      const before = await allocatedBytes(inspector);
      const latencies: number[] = [];
      await Promise.all(datas.map((data, c) => client(run, first + c * per, data, latencies)));
      const allocated = await allocatedBytes(inspector) - before;
      console.log(
        `${values.store} round ${round + 1}: ${latencies.length} msgs, ${
          (allocated / latencies.length / 1024).toFixed(1)
        } KB allocated per message (V8 heap, ${(allocated / 2 ** 20).toFixed(1)} MB in all)`,
      );
      if (top > 0) {
        const { profile } = await inspector.call<{ profile: { head: ProfileNode } }>(
          "HeapProfiler.stopSampling",
        );
        if (values.save) {
          await Deno.mkdir(values.save, { recursive: true });
          const file = `${values.save}/${values.store}-round${round + 1}.heapprofile`;
          await Deno.writeTextFile(file, JSON.stringify(profile));
        }
        const sites = bySite(profile.head);
        const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
        console.log(
          `  sampled ${(total / latencies.length / 1024).toFixed(1)} KB/msg; top sites (B/msg):`,
        );
        for (const [site, bytes] of sites.slice(0, top)) {
          console.log(`  ${(bytes / latencies.length).toFixed(0).padStart(7)}  ${site}`);
        }
        console.log("  by part (B/msg):");
        for (const [part, bytes] of byPart(profile.head)) {
          console.log(`  ${(bytes / latencies.length).toFixed(0).padStart(7)}  ${part}`);
        }
        console.log("  with callers (B/msg):");
        for (const [path, bytes] of withCallers(profile.head, top)) {
          console.log(`  ${(bytes / latencies.length).toFixed(0).padStart(7)}  ${path}`);
        }
      }
    }
  } finally {
    inspector.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
