/**
 * The program's sources are ASCII: V8 keeps each module's source text for as long as the
 * process runs, and a single character outside Latin-1 (a `\u2026` in a comment) makes it a
 * two-byte string, twice the size. `deno run main.ts` (and the compiled binary, which runs
 * the modules as they are) idled ~1.3 MB higher with the non-ASCII characters round 9 found
 * in comments and literals (docs/performance-history.md, Startup and idle, round 9). The
 * bundle escapes them itself (scripts/strip_comments.ts). Write `\u2026` in a literal, and
 * `...` in a comment.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Every file under `url`, recursively. */
function* files(url: URL): Generator<URL> {
  if (Deno.statSync(url).isFile) {
    yield url;
    return;
  }
  for (const entry of Deno.readDirSync(url)) {
    yield* files(new URL(entry.name + (entry.isDirectory ? "/" : ""), url));
  }
}

Deno.test("main.ts and lib/ hold ASCII characters only", () => {
  const found: string[] = [];
  for (const start of ["main.ts", "lib/"]) {
    for (const file of files(new URL(start, ROOT))) {
      const lines = new TextDecoder().decode(Deno.readFileSync(file)).split("\n");
      lines.forEach((line, index) => {
        const char = line.match(/[^\x00-\x7f]/)?.[0];
        if (char === undefined) return;
        const code = char.codePointAt(0)!.toString(16).padStart(4, "0");
        found.push(`${file.pathname.slice(ROOT.pathname.length)}:${index + 1}: U+${code}`);
      });
    }
  }
  assert.deepEqual(found, []);
});
