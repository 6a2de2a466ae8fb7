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
