import assert from "node:assert/strict";
import { allowFlags, startPermissions } from "../scripts/start_task.ts";

const root = new URL("../", import.meta.url);

Deno.test("permissions: deno task start, compile.sh, the Actions start script and the README's commands grant the same", async () => {
  const start = startPermissions();
  assert.ok(start.includes("--allow-net") && start.length > 3, start.join(" "));
  for (const script of ["compile.sh", "scripts/action-start.sh"]) {
    const text = await Deno.readTextFile(new URL(script, root));
    const line = text.match(/^PERMISSIONS=\((.*)\)$/m);
    assert.ok(line, `${script} has a PERMISSIONS line`);
    assert.deepEqual(allowFlags(line[1]), start, script);
  }
  // The README's server commands (`deno run` of main.ts, a file or a URL, across lines).
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const commands = [...readme.matchAll(/deno run --no-config ((?:[^\n]*\\\n)*[^\n]*main\.ts)/g)];
  assert.ok(commands.length >= 2, `the README shows the server's command: ${commands.length}`);
  for (const [, command] of commands) assert.deepEqual(allowFlags(command), start, command);
});
