/**
 * Errors shared across layers. Low on purpose: a module that reports a configuration
 * problem (TLS material, a setting's value) needs the error, not the configuration module
 * and everything that imports.
 *
 * @module
 */

/**
 * A user's mistake in the configuration, naming the flag or variable: printed as one line,
 * exit status 2, before anything listens.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
