import assert from "node:assert/strict";
import { V8_FLAGS, V8_FLAGS_ARGUMENT } from "../lib/v8_flags.ts";
import { startCommand } from "../scripts/start_task.ts";

const root = new URL("../", import.meta.url);

Deno.test("V8 flags: deno task start, compile.sh and the Actions start script pass those of lib/v8_flags.ts", async () => {
  assert.ok(V8_FLAGS.length > 0);
  assert.deepEqual(startCommand().split(" ").filter((word) => word.startsWith("--v8-flags")), [
    V8_FLAGS_ARGUMENT,
  ]);
  for (const script of ["compile.sh", "scripts/action-start.sh"]) {
    const text = await Deno.readTextFile(new URL(script, root));
    assert.match(text, new RegExp(`^V8_FLAGS=\\(${V8_FLAGS_ARGUMENT}\\)$`, "m"), script);
    assert.match(text, /"\$\{V8_FLAGS\[@\]\}"/, script);
  }
});

Deno.test("V8 flags: V8 takes them", async () => {
  // An unknown or malformed flag makes deno exit with an error before running anything.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", V8_FLAGS_ARGUMENT, "console.log('ok')"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(output.stderr), "");
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "ok");
});

Deno.test("V8 flags: a function is compiled with Maglev after ~100 calls, not ~500", async () => {
  // `shape` fills the function's inline caches over its first 20 calls (five shapes of
  // argument), then stays: V8's defaults compile it after ~500 more calls, the program's
  // thresholds (lib/v8_flags.ts) after ~100. 250 calls tell them apart.
  const script = `
    function shape(o) { return o.a + (o.b ?? 0) + (o.c ?? 0); }
    const shapes = [{ a: 1 }, { a: 1, b: 2 }, { a: 1, b: 2, c: 3 }, { b: 1, a: 2 }, { c: 1, a: 2 }];
    let sum = 0;
    for (let i = 0; i < 250; i++) sum += shape(shapes[Math.min(i >> 2, 4)]);
    console.log("sum", sum);
  `;
  const run = async (flags: string[]) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", ...flags, "--v8-flags=--trace-opt", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.match(text, /^sum \d+$/m);
    return /marking \S+ <JSFunction shape /.test(text);
  };
  assert.equal(await run([V8_FLAGS_ARGUMENT]), true, "compiled with the program's flags");
  // The same script under V8's defaults: the test tells the thresholds apart.
  assert.equal(await run([]), false, "not compiled with V8's defaults");
});
