/**
 * Elektromail: a small, exact IMAP4rev2/SMTP mail server for development and tests.
 *
 * @example
 * ```ts
 * import { startElektromail, testConfig } from "./lib/mod.ts";
 * const server = await startElektromail(testConfig());
 * // send mail to 127.0.0.1:server.ports.smtp ...
 * await server.stop();
 * ```
 *
 * @module
 */

export {
  type Config,
  ConfigError,
  DEFAULT_TLS,
  resolveConfig,
  testConfig,
  type TlsConfig,
  type UserEntry,
} from "./config.ts";
export {
  type Elektromail,
  type Ports,
  startElektromail,
  StartError,
  type StartOptions,
  type TlsInfo,
} from "./server.ts";
export * from "./store/mod.ts";
export { Chaos, type ChaosRule, type ChaosRuleSpec, parseChaosRules } from "./chaos/mod.ts";
export { type Logger, quietLogger, stderrLogger } from "./log.ts";
export { unsharedBytes } from "./mail/shared_bytes.ts";
export { VERSION } from "./version.ts";
