/**
 * `deno task start`'s build step: bundles `main.ts` and the modules it imports into plain
 * JavaScript under `dist/bundle/` (`deno bundle`, code-split so that what the program imports
 * only on first use, such as the HTTP routes, POP3, SQLite and TLS, stays in chunks of its own
 * that load only then), unless the bundle is newer than every source file.
 *
 * Why: `deno run main.ts` compiles each TypeScript module to JavaScript that ends in an inline
 * source map carrying the module's whole TypeScript source in base64 (about 70% of the emitted
 * bytes), and Deno keeps every module's emitted code in memory for as long as the process
 * runs. Running the bundle instead, the idle server's RSS was ~5 MB lower (issue 13: 55–57 vs
 * 60–62 MB, `/proc/<pid>/smaps` 6 s after start, alternating runs), nearly all of it malloc's
 * heap. What it costs: stack traces name lines of the bundle, not of the TypeScript files (a
 * linked source map would keep those, but Deno reads it at startup and it cost ~2 MB of the 5),
 * and a start after a source change waits ~1.2 s for the bundler (esbuild, which Deno
 * downloads on its first use). `deno run main.ts`, from a checkout or a URL, works as before.
 *
 * Each chunk then loses its comments and indentation and has the non-ASCII characters of its
 * literals escaped (scripts/strip_comments.ts): V8 keeps every module's source text, two bytes
 * a character once one is not Latin-1, and the idle server's RSS was ~1 MB lower (issue 13,
 * round 9: 52.5–52.8 vs 53.4–53.9 MB, four alternating runs). Names and line breaks stay, so a
 * stack trace reads as before: `at messageJson (file:///.../dist/bundle/chunk-22OO66ZL.js:219:10)`,
 * the column now counted from the line's first character.
 *
 * A lazy chunk's import is then written `import(String("./chunk.js"))`
 * ({@linkcode deferLazyImports}): Deno reads, analyses and keeps every module an import with a
 * plain string names, dynamic ones too, when the program starts, before any code runs, so the
 * chunks of the HTTP routes, SQLite, TLS and the health check sat in the memory of a server that
 * never loaded them. Named by an expression, a chunk is read when the program first imports it
 * (which needs read permission for it: `deno task start` has `--allow-read`). The idle server's
 * RSS: 43.9-44.5 MB against 43.9-45.0, malloc's heap and the Deno cache files' mapped pages
 * 0.1-0.3 MB lower each, its CPU from spawn to the measurement 108-114 ms against 119-145 (issue
 * 13, round 29, `bench/idle_rss.ts`, six alternating runs); the start and the first HTTP request
 * level. `deno compile` builds from `main.ts`, not from the bundle.
 *
 * A new bundle is then analysed once by `deno cache` ({@linkcode analyse}), in a process of its
 * own: on its first start, `deno run` parses every module it has not analysed before to find its
 * imports (Deno keeps the result in `DENO_DIR`'s `dep_analysis_cache_v2`), and the memory that
 * parse takes stays with the process: a server's first start from a new bundle idled ~16 MB
 * higher than its later starts, all of it unnamed memory (issue 13, round 17: 61.4-62.6 against
 * 45.1-45.7 MB, `/proc/<pid>/smaps` 7 s after start, a copy of the bundle under a new path each
 * time; 45.6-45.9 on a first start after `deno cache`). The analysis costs that process ~0.2 s.
 * It is given every chunk `main.js` reaches, the lazy ones too ({@linkcode bundleModules}),
 * which `deno cache` no longer finds by itself.
 *
 * Chunks are named by their content's hash and a rebuild adds the new ones beside the old:
 * a server still running from an earlier bundle loads its lazy chunks from the same directory.
 * A rebuild removes the chunks of earlier builds that are more than a day old
 * ({@linkcode KEEP_OLD_CHUNKS_MS}), so edit-and-restart does not pile them up; `rm -rf
 * dist/bundle` clears them all.
 *
 * ```sh
 * deno run --allow-read --allow-write=dist --allow-run scripts/bundle.ts [--force]
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { stripComments } from "./strip_comments.ts";

const ROOT = new URL("../", import.meta.url);
/** The bundle's directory, relative to the repository. */
export const BUNDLE_DIR = "dist/bundle";

/** How long a chunk an earlier build wrote is kept for a server still running from it. */
export const KEEP_OLD_CHUNKS_MS = 24 * 60 * 60 * 1000;

/**
 * The files the bundle is made from: `main.ts`, `lib/`, the config and the lock file, and the
 * scripts that make it.
 */
async function newestSource(): Promise<number> {
  let newest = 0;
  const visit = async (url: URL) => {
    const info = await Deno.stat(url);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(url)) {
        await visit(new URL(entry.name + (entry.isDirectory ? "/" : ""), url));
      }
    } else newest = Math.max(newest, info.mtime?.getTime() ?? Infinity);
  };
  const sources = [
    "main.ts",
    "lib/",
    "deno.json",
    "deno.server.lock",
    "scripts/bundle.ts",
    "scripts/strip_comments.ts",
  ];
  for (const path of sources) {
    await visit(new URL(path, ROOT));
  }
  return newest;
}

/** The bundle's entry point's modification time, or null when there is none. */
async function bundled(): Promise<number | null> {
  try {
    return (await Deno.stat(new URL(`${BUNDLE_DIR}/main.js`, ROOT))).mtime?.getTime() ?? null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Bundles unless the bundle is up to date (or always, with `force`); resolves to whether it
 * bundled.
 *
 * @example
 * ```ts
 * await bundle(); // false: dist/bundle/main.js is newer than every source
 * ```
 */
export async function bundle(force = false): Promise<boolean> {
  const built = await bundled();
  if (!force && built !== null && built > await newestSource()) return false;
  // Into a directory of its own, then moved in file by file, the entry point last: two
  // starts after the same change may bundle at once, and neither may run a half-written file.
  const dir = new URL(`${BUNDLE_DIR}/`, ROOT);
  await Deno.mkdir(dir, { recursive: true });
  const temp = await Deno.makeTempDir({ dir: fileURLToPath(dir), prefix: ".build-" });
  try {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--lock=deno.server.lock",
        "--code-splitting",
        "--platform=deno",
        `--outdir=${temp}`,
        "main.ts",
      ],
      cwd: ROOT,
      stdin: "null",
    }).spawn().status;
    if (code !== 0) throw new Error(`Cannot bundle main.ts: deno bundle exited with ${code}`);
    const names = [...Deno.readDirSync(temp)].map((entry) => entry.name)
      .sort((a, b) => Number(a === "main.js") - Number(b === "main.js"));
    const chunks = new Set(names.filter((name) => name.endsWith(".js")));
    for (const name of chunks) {
      const code = await Deno.readTextFile(`${temp}/${name}`);
      const stripped = stripComments(code) ?? code;
      const deferred = deferLazyImports(stripped, chunks);
      if (deferred !== code) await Deno.writeTextFile(`${temp}/${name}`, deferred);
    }
    for (const name of names) await Deno.rename(`${temp}/${name}`, new URL(name, dir));
    await analyse(new URL("main.js", dir));
    const stale = Date.now() - KEEP_OLD_CHUNKS_MS;
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || names.includes(entry.name)) continue;
      const file = new URL(entry.name, dir);
      try {
        if ((Deno.statSync(file).mtime?.getTime() ?? 0) < stale) await Deno.remove(file);
      } catch (error) {
        // Another bundle run (tests run in parallel) removed it meanwhile.
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
  return true;
}

/**
 * `code` (a chunk of the bundle) with each dynamic import of one of `chunks` (the build's file
 * names) written `import(String("./name.js"))`, which Deno does not follow until it runs (see
 * the module documentation). Other imports are left as they are.
 *
 * @example
 * ```ts
 * deferLazyImports('await import("./sqlite-X.js")', new Set(["sqlite-X.js"]));
 * // 'await import(String("./sqlite-X.js"))'
 * ```
 */
export function deferLazyImports(code: string, chunks: ReadonlySet<string>): string {
  return code.replace(
    /\bimport\("\.\/([\w-]+\.js)"\)/g,
    (found, name: string) => chunks.has(name) ? `import(String("./${name}"))` : found,
  );
}

/**
 * The bundle's modules `main` reaches through its static imports and its lazy chunks' imports
 * (both forms, {@linkcode deferLazyImports}), `main` first.
 */
export async function bundleModules(main: URL): Promise<URL[]> {
  const found = new Map<string, URL>();
  const visit = async (module: URL) => {
    if (found.has(module.href)) return;
    found.set(module.href, module);
    const code = await Deno.readTextFile(module);
    const imports = /(?:\bfrom|\bimport\(?|\bimport\(String\()\s*"(\.\/[\w-]+\.js)"/g;
    for (const [, specifier] of code.matchAll(imports)) await visit(new URL(specifier, module));
  };
  await visit(main);
  return [...found.values()];
}

/**
 * Has `deno cache` analyse `main` and every module it imports, statically or dynamically (the
 * lazy chunks too: {@linkcode bundleModules}), so that the server's own first start, and its
 * first import of a lazy chunk, find the analysis in Deno's cache and do not keep the memory of
 * making it. `env` is added to the command's environment (a test's own `DENO_DIR`). A failure
 * is reported and otherwise ignored: the server still starts, only larger. Resolves to whether
 * the analysis succeeded.
 *
 * @example
 * ```ts
 * await analyse(new URL("../dist/bundle/main.js", import.meta.url));
 * ```
 */
export async function analyse(main: URL, env: Record<string, string> = {}): Promise<boolean> {
  const modules = (await bundleModules(main)).map((module) => fileURLToPath(module));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--no-config", "--quiet", ...modules],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code === 0) return true;
  console.error(
    `deno cache ${fileURLToPath(main)} exited with ${code} (the server's first start will take ` +
      `~16 MB more): ${new TextDecoder().decode(stderr).trim()}`,
  );
  return false;
}

if (import.meta.main) {
  try {
    await bundle(Deno.args.includes("--force"));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
