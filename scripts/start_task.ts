/**
 * `deno task start` as deno.json says it (the command users run), for the benchmarks, which
 * start the server with the same permissions rather than `-A` (bench/spawn.ts), and the tests
 * that check what those permissions allow. Issue 13, round 30: with `-A` the benchmarks had
 * measured a thread priority that `deno task start` never got (reading /proc needs
 * `--allow-all` in Deno).
 *
 * @module
 */

/** The start task's command line. */
export function startCommand(): string {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const task = config.tasks.start;
  return typeof task === "string" ? task : task.command;
}

/** The permission flags (`--allow-*`) of a command line, in its order. */
export function allowFlags(command: string): string[] {
  return command.split(/\s+/).filter((word) => word.startsWith("--allow-"));
}

/** The start task's permission flags, in its order. */
export function startPermissions(): string[] {
  return allowFlags(startCommand());
}
