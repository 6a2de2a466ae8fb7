/**
 * The `elektromail` command: parse flags and environment, start, print the banner, stop
 * cleanly on SIGINT/SIGTERM. `elektromail healthcheck [options]` probes a running server.
 *
 * @module
 */

import { acceptsAnyCredentials } from "./lib/auth.ts";
import { type Config, ConfigError, helpText, resolveConfig } from "./lib/config.ts";
import { stderrLogger } from "./lib/log.ts";
import { type Elektromail, startElektromail, StartError } from "./lib/server.ts";
import { VERSION } from "./lib/version.ts";

/** Runs the program; resolves to the exit status once the server has stopped. */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "healthcheck") return await healthcheck(args.slice(1));
  let config: Config;
  try {
    const invocation = resolveConfig(args, Deno.env.toObject(), await argumentParser(args));
    if (invocation.action === "help") {
      console.log(helpText());
      return 0;
    }
    if (invocation.action === "version") {
      console.log(`elektromail ${VERSION}`);
      return 0;
    }
    config = invocation.config;
  } catch (error) {
    return fail(error);
  }
  const logger = stderrLogger(config.verbose);
  let server: Elektromail;
  try {
    server = await startElektromail(config, { logger, warmUp: !config.skipWarmUp });
  } catch (error) {
    return fail(error);
  }
  logger.info(banner(server));

  const done = Promise.withResolvers<number>();
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal (deno task and process groups often deliver one twice) changes nothing.
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    server.stop().then(() => done.resolve(0), (error) => {
      logger.error("Stopping failed", error);
      done.resolve(1);
    });
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, () => stop(signal));
  return done.promise;
}

function banner(server: Elektromail): string {
  const { config } = server;
  const storage = config.dbPath === null ? "memory (cleared on exit)" : `SQLite ${config.dbPath}`;
  const auth = acceptsAnyCredentials(config)
    ? `any credentials accepted${
      config.users.length > 0 ? ` (auth disabled, ${config.users.length} users configured)` : ""
    }`
    : `${config.users.length} configured user${config.users.length === 1 ? "" : "s"}`;
  const lines = [`Elektromail ${VERSION} ready`];
  for (const listener of server.listeners) {
    const host = listener.host.includes(":") ? `[${listener.host}]` : listener.host;
    lines.push(`  ${listener.name.toUpperCase().padEnd(5)} ${host}:${listener.port}`);
  }
  if (server.tls) {
    const required = config.tls?.required ? ", required before login" : "";
    lines.push(
      `  tls      STARTTLS on SMTP and IMAP, STLS on POP3${required}; certificate ${server.tls.origin}`,
      `           for ${server.tls.names}`,
      `           SHA-256 ${server.tls.fingerprint}`,
    );
  }
  lines.push(
    `  storage  ${storage}`,
    `  auth     ${auth}`,
    `  logging  ${
      config.verbose ? "verbose (protocol traffic)" : "normal (--verbose shows protocol traffic)"
    }`,
  );
  return lines.join("\n");
}

/**
 * Probes the listeners the options describe: 0 when all answer, 1 otherwise, 2 bad options.
 * `--wait[=SECONDS]` (default 60) probes until all answer, 1 with a message at the timeout.
 */
async function healthcheck(args: string[]): Promise<number> {
  // Loaded only for this subcommand: the server does not need it.
  const { probe, probeUntil, readWaitFlag } = await import("./lib/healthcheck.ts");
  let config: Config;
  let waitMs: number | null;
  try {
    const flag = readWaitFlag(args);
    waitMs = flag.waitMs;
    const invocation = resolveConfig(
      flag.rest,
      Deno.env.toObject(),
      await argumentParser(flag.rest),
    );
    if (invocation.action !== "serve") {
      console.log(
        "Usage: elektromail healthcheck [--wait[=SECONDS]] [options]  (the server's options;" +
          " see --help)",
      );
      return 0;
    }
    config = invocation.config;
  } catch (error) {
    return fail(error);
  }
  const { results, timedOut } = waitMs === null
    ? { results: await probe(config), timedOut: false }
    : await probeUntil(config, waitMs);
  for (const { name, address, ok, detail } of results) {
    const line = `${name.padEnd(5)} ${address} ${ok ? "ok" : "FAILED"}: ${detail}`;
    if (ok) console.log(line);
    else console.error(line);
  }
  if (timedOut) {
    const failed = results.filter((result) => !result.ok).map((result) => result.name);
    console.error(
      `elektromail healthcheck: gave up after ${waitMs! / 1000} s waiting for ` +
        `${failed.join(", ")} (is the server running, with these ports?)`,
    );
  }
  return results.every((result) => result.ok) ? 0 : 1;
}

/**
 * node:util's `parseArgs` when there are flags to parse. Imported only then: it costs ~4 MB
 * of the server's idle memory, and most runs are configured by the environment alone.
 */
async function argumentParser(
  args: readonly string[],
): Promise<typeof import("node:util").parseArgs | undefined> {
  return args.length === 0 ? undefined : (await import("node:util")).parseArgs;
}

function fail(error: unknown): number {
  if (error instanceof ConfigError || error instanceof StartError) {
    console.error(`elektromail: ${error.message}`);
    return 2;
  }
  console.error("elektromail: unexpected failure", error);
  return 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
