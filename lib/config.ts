/**
 * Configuration: command-line flags win over environment variables, which win over the
 * defaults. Every bad value is a {@linkcode ConfigError} naming the flag or variable, so the
 * program can stop with one clear line and exit status 2 before it listens.
 *
 * @module
 */

import type * as NodeUtil from "node:util";
import type { ChaosRuleSpec } from "./chaos/rules.ts";
import {
  allowedHosts,
  chaosRules,
  isIpAddress,
  parseBoolean,
  parseCount,
  parsePort,
  parseUsers,
  relayAddress,
  type UserEntry,
} from "./config_values.ts";
import { ConfigError } from "./errors.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { defaultMaxConnectionsPerAddress } from "./net/connection.ts";
import { SETTINGS } from "./settings.ts";

export { ConfigError } from "./errors.ts";
export { parseBoolean, parsePort, parseUsers, type UserEntry } from "./config_values.ts";
export { DEFAULT_LIMITS, type Limits } from "./limits.ts";
export { type Setting, SETTINGS } from "./settings.ts";

/** Everything `startElektromail()` needs. Build one with {@linkcode resolveConfig}. */
export interface Config {
  readonly bindAddr: string;
  /** 0 picks a free port. */
  readonly smtpPort: number;
  readonly imapPort: number;
  /** null: POP3 is off (`off`). */
  readonly pop3Port: number | null;
  /** null: the HTTP control plane is off. */
  readonly httpPort: number | null;
  /** Configured users; empty means any credentials are accepted. */
  readonly users: readonly UserEntry[];
  readonly authDisabled: boolean;
  /** SMTP MAIL requires AUTH first (strict RFC 6409 submission). */
  readonly smtpAuthRequired: boolean;
  /** SQLite path, or null for the memory store. */
  readonly dbPath: string | null;
  /** Name used in greetings and Received headers. */
  readonly hostname: string;
  /** Log protocol traffic. */
  readonly verbose: boolean;
  /**
   * Do not run the startup warm-up (lib/imap/warm_up.ts): the idle server's RSS is ~8 MB
   * lower, and the first commands after a burst run in V8's interpreter.
   */
  readonly skipWarmUp: boolean;
  readonly limits: Limits;
  /** TLS settings; null: no STARTTLS and no implicit-TLS listeners. */
  readonly tls: TlsConfig | null;
  /** Fault-injection rules set at startup (and restored by a reset). */
  readonly chaos: readonly ChaosRuleSpec[];
  /**
   * Host names (or addresses) the HTTP control plane answers besides loopback, the hostname
   * and the bind address; a leading dot also allows subdomains; `*` allows any.
   */
  readonly httpAllowedHosts: readonly string[];
  /** SMTP hosts a MailHog release may relay to besides loopback ones (`*`: any). */
  readonly releaseHosts: readonly string[];
  /** `host:port` a Mailpit release relays to; null: release is off. */
  readonly releaseRelay: string | null;
}

/** TLS: on with `--tls`, a certificate, `--tls-required` or an implicit-TLS port. */
export interface TlsConfig {
  /** PEM text or a file path; null: a self-signed certificate is generated. */
  readonly cert: string | null;
  /** PEM text or a file path; null: the key is in `cert` (or generated with it). */
  readonly key: string | null;
  /** SMTP needs STARTTLS before MAIL/AUTH; IMAP advertises LOGINDISABLED until STARTTLS. */
  readonly required: boolean;
  /** Implicit-TLS SMTP (RFC 8314 submissions) port; null: none. */
  readonly smtpsPort: number | null;
  /** Implicit-TLS IMAP port; null: none. */
  readonly imapsPort: number | null;
  /** Implicit-TLS POP3 port; null or absent: none. */
  readonly pop3sPort?: number | null;
}

/** TLS with a generated certificate, STARTTLS only: what `--tls` gives. */
export const DEFAULT_TLS: TlsConfig = {
  cert: null,
  key: null,
  required: false,
  smtpsPort: null,
  imapsPort: null,
  pop3sPort: null,
};

/**
 * The least `--max-line-length`: RFC 2683 3.2.1.5 once told clients to keep lines to about
 * 1,000 octets, so below this even a careful client would be refused.
 */
const MIN_LINE_LENGTH = 1024;

/** What the command line asked for. */
export type Invocation =
  | { readonly action: "help" }
  | { readonly action: "version" }
  | { readonly action: "serve"; readonly config: Config };

/** node:util's `parseArgs`, loaded when first needed (see {@linkcode resolveConfig}). */
function nodeParseArgs(): typeof NodeUtil.parseArgs {
  const { process } = globalThis as unknown as {
    process: { getBuiltinModule(id: string): typeof NodeUtil };
  };
  return process.getBuiltinModule("node:util").parseArgs;
}

/**
 * Parses flags and environment into a {@linkcode Config}. Throws {@linkcode ConfigError}.
 * `parseArgs`: node:util's, when the caller has it loaded (the command line imports it only
 * when there are flags); else it is taken from the runtime's built-in modules.
 *
 * @example
 * ```ts
 * const result = resolveConfig(["--smtp-port", "0"], { IMAP_PORT: "0" });
 * ```
 */
export function resolveConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  parseArgs?: typeof NodeUtil.parseArgs,
): Invocation {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
  };
  for (const setting of SETTINGS) options[setting.flag] = { type: setting.kind };
  let values: Record<string, string | boolean | undefined>;
  try {
    // No flags (env-only configuration, the usual way to run it) leave nothing to parse,
    // and node:util, ~4 MB of a server's idle memory, is not loaded.
    ({ values } = args.length === 0
      ? { values: Object.create(null) }
      : (parseArgs ?? nodeParseArgs())({
        args: [...args],
        options,
        strict: true,
        allowPositionals: false,
        // --no-auth-disabled: a flag can switch off what the environment switched on.
        allowNegative: true,
      }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  for (const name of ["help", "version"]) {
    if (values[name] === false) throw new ConfigError(`--no-${name} is not an option (see --help)`);
  }
  if (values.help) return { action: "help" };
  if (values.version) return { action: "version" };

  /** The raw text of a setting and where it came from, for error messages. */
  const read = (flag: string): { text: string | undefined; source: string } => {
    const setting = SETTINGS.find((s) => s.flag === flag)!;
    const fromFlag = values[flag];
    if (fromFlag !== undefined) {
      return {
        text: typeof fromFlag === "boolean" ? String(fromFlag) : fromFlag,
        source: `--${flag}`,
      };
    }
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") return { text: fromEnv, source: setting.env };
    return { text: setting.fallback, source: `--${flag}` };
  };
  const port = (flag: string) => {
    const { text, source } = read(flag);
    return text === undefined ? null : parsePort(text, source);
  };
  const bool = (flag: string) => {
    const { text, source } = read(flag);
    return text === undefined ? false : parseBoolean(text, source);
  };
  const count = (flag: string, min: number) => {
    const { text, source } = read(flag);
    return parseCount(text!, source, min);
  };

  const usersSetting = read("users");
  const users = usersSetting.text ? parseUsers(usersSetting.text, usersSetting.source) : [];
  const bindAddr = read("bind-addr");
  if (!isIpAddress(bindAddr.text!) && bindAddr.text !== "localhost") {
    throw new ConfigError(
      `${bindAddr.source}: "${bindAddr.text}" is not an IP address (try 127.0.0.1 or 0.0.0.0)`,
    );
  }
  const { text: hostname, source: hostnameSource } = read("hostname") as {
    text: string;
    source: string;
  };
  if (!/^[A-Za-z0-9.\-\[\]:]+$/.test(hostname)) {
    throw new ConfigError(`${hostnameSource}: "${hostname}" is not a valid host name`);
  }
  const maxConnections = count("max-connections", 1);
  const config: Config = {
    bindAddr: bindAddr.text!,
    smtpPort: port("smtp-port")!,
    imapPort: port("imap-port")!,
    pop3Port: read("pop3-port").text?.trim().toLowerCase() === "off" ? null : port("pop3-port"),
    httpPort: port("http-port"),
    users,
    authDisabled: bool("auth-disabled"),
    smtpAuthRequired: bool("smtp-auth-required"),
    dbPath: read("db").text ?? null,
    hostname,
    verbose: bool("verbose"),
    skipWarmUp: bool("skip-warm-up"),
    limits: {
      ...DEFAULT_LIMITS,
      maxMessageSize: count("max-message-size", 1024),
      maxRecipients: count("max-recipients", 1),
      maxConnections,
      maxConnectionsPerAddress: read("max-connections-per-address").text === undefined
        ? defaultMaxConnectionsPerAddress(maxConnections)
        : count("max-connections-per-address", 1),
      receiveTimeoutMs: count("receive-timeout", 0) * 1000,
      imapMaxLineLength: count("max-line-length", MIN_LINE_LENGTH),
      maxUsers: count("max-users", 1),
      maxAuthFailuresPerAddress: count("max-auth-failures", 0),
    },
    tls: tlsSettings(read, port, bool),
    chaos: chaosRules(read("chaos")),
    httpAllowedHosts: allowedHosts(read("http-allowed-hosts")),
    releaseHosts: allowedHosts(read("release-hosts")),
    releaseRelay: relayAddress(read("release-relay")),
  };
  return { action: "serve", config };
}

/** Builds a config for embedding and tests: defaults with port 0 everywhere, then `overrides`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    bindAddr: "127.0.0.1",
    smtpPort: 0,
    imapPort: 0,
    pop3Port: 0,
    httpPort: 0,
    users: [],
    authDisabled: false,
    smtpAuthRequired: false,
    dbPath: null,
    hostname: "localhost",
    verbose: false,
    skipWarmUp: false,
    limits: DEFAULT_LIMITS,
    tls: null,
    chaos: [],
    httpAllowedHosts: [],
    releaseHosts: [],
    releaseRelay: null,
    ...overrides,
  };
}

/** The TLS settings, or null when nothing turns TLS on. */
function tlsSettings(
  read: (flag: string) => { text: string | undefined; source: string },
  port: (flag: string) => number | null,
  bool: (flag: string) => boolean,
): TlsConfig | null {
  const tls: TlsConfig = {
    cert: read("tls-cert").text ?? null,
    key: read("tls-key").text ?? null,
    required: bool("tls-required"),
    smtpsPort: port("smtps-port"),
    imapsPort: port("imaps-port"),
    pop3sPort: port("pop3s-port"),
  };
  const switch_ = read("tls");
  const asked = Object.entries(tls).find(([, value]) => value !== null && value !== false);
  if (switch_.text !== undefined && !parseBoolean(switch_.text, switch_.source) && asked) {
    const setting = SETTINGS.find((s) => s.flag === SETTING_OF[asked[0]])!;
    throw new ConfigError(
      `${switch_.source} turns TLS off, but ${setting.env} (--${setting.flag}) needs it`,
    );
  }
  return bool("tls") || asked ? tls : null;
}

const SETTING_OF: Record<string, string> = {
  cert: "tls-cert",
  key: "tls-key",
  required: "tls-required",
  smtpsPort: "smtps-port",
  imapsPort: "imaps-port",
  pop3sPort: "pop3s-port",
};

/** `--help` stays within this many columns (a narrow terminal, a CI log). */
export const HELP_COLUMNS = 100;

/** Words of `text` on lines of at most `width` columns after `indent` spaces. */
function wrap(text: string, indent: number, width = HELP_COLUMNS): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(" ".repeat(indent) + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(" ".repeat(indent) + line);
  return lines;
}

/** The `--help` text, within {@link HELP_COLUMNS} columns. */
export function helpText(): string {
  const lines = [
    "Elektromail: a small, exact IMAP4rev2/SMTP/POP3 mail server for development and tests.",
    "",
    "Usage: elektromail [options]",
    "       elektromail healthcheck [options]   probe the listeners these options describe;",
    "                                           exit 0 when all answer, 1 otherwise;",
    "                                           --wait[=SECONDS] waits for them (default 60)",
    "",
    "Options (each also read from the environment variable shown; flags win):",
  ];
  for (const setting of SETTINGS) {
    const flag = setting.kind === "string" ? `--${setting.flag} <value>` : `--[no-]${setting.flag}`;
    const fallback = setting.fallback ? ` [default ${setting.fallback}]` : "";
    // The flag and its variable on one line, the help under them: long names never push the
    // help past the right margin.
    lines.push(`  ${flag.padEnd(30)} ${setting.env}`, ...wrap(setting.help + fallback, 6));
  }
  lines.push(`  ${"-h, --help".padEnd(30)} show this help`);
  lines.push(`  ${"-V, --version".padEnd(30)} print the version`);
  lines.push(
    "",
    "Without --users any username and password log in. Mail to user+tag@any.domain is",
    "delivered to user's INBOX. Storage is in memory unless --db is given.",
  );
  return lines.join("\n");
}
