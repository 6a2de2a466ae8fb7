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
  chaosRules,
  isIpAddress,
  parseBoolean,
  parseCount,
  parsePort,
  parseUsers,
  type UserEntry,
} from "./config_values.ts";
import { ConfigError } from "./errors.ts";
import { DEFAULT_RECEIVE_TIMEOUT_MS, defaultMaxConnectionsPerAddress } from "./net/connection.ts";

export { ConfigError } from "./errors.ts";
export { parseBoolean, parsePort, parseUsers, type UserEntry } from "./config_values.ts";

/** Limits; each has a default and a variable. */
export interface Limits {
  /** Largest message accepted by SMTP DATA and IMAP APPEND, in octets. */
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  /** Open connections per listener. */
  readonly maxConnections: number;
  /** Open connections per listener from one client address. */
  readonly maxConnectionsPerAddress: number;
  /**
   * Longest IMAP command line, in octets: the text of all a command's lines, literals not
   * counted (past it: `BAD`, and the rest of the command is discarded).
   */
  readonly imapMaxLineLength: number;
  /** Longest SMTP line, command or message text, in octets (past it: `500 5.5.6`). */
  readonly smtpMaxLineLength: number;
  readonly smtpIdleTimeoutMs: number;
  readonly imapIdleTimeoutMs: number;
  /**
   * A started command line must end, and message data make progress, within this (slowloris
   * guard, see `net/input_guard.ts`); 0: no deadline.
   */
  readonly receiveTimeoutMs: number;
  /** Failed commands in a row before the server hangs up. */
  readonly maxBadCommands: number;
  /** Largest HTTP request body, in octets. */
  readonly maxHttpBody: number;
  /** Events queued for one `/events` listener before a listener that does not read is cut off. */
  readonly maxEventQueueBytes: number;
  /** Events queued for all `/events` listeners together (an event shared by many counts once). */
  readonly maxEventTotalBytes: number;
  /** Users created on demand (by delivery or any-credentials login); configured users are extra. */
  readonly maxUsers: number;
  /** Failed authentications on a connection answered at once; later ones wait (auth_guard.ts). */
  readonly authFailuresBeforeDelay: number;
  /** The wait before answering the first delayed failure; it doubles with each one after. */
  readonly authFailureDelayMs: number;
  /** The longest wait before answering a failed authentication. */
  readonly maxAuthFailureDelayMs: number;
  /** Failed authentications on one connection before it is closed. */
  readonly maxAuthFailures: number;
  /** Failed authentications per client address within the window, then refused (0: off). */
  readonly maxAuthFailuresPerAddress: number;
  /** The sliding window of `maxAuthFailuresPerAddress`. */
  readonly authFailureWindowMs: number;
}

/** Everything `startElektromail()` needs. Build one with {@linkcode resolveConfig}. */
export interface Config {
  readonly bindAddr: string;
  /** 0 picks a free port. */
  readonly smtpPort: number;
  readonly imapPort: number;
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
  readonly limits: Limits;
  /** TLS settings; null: no STARTTLS and no implicit-TLS listeners. */
  readonly tls: TlsConfig | null;
  /** Fault-injection rules set at startup (and restored by a reset). */
  readonly chaos: readonly ChaosRuleSpec[];
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
}

/** TLS with a generated certificate, STARTTLS only: what `--tls` gives. */
export const DEFAULT_TLS: TlsConfig = {
  cert: null,
  key: null,
  required: false,
  smtpsPort: null,
  imapsPort: null,
};

export const DEFAULT_LIMITS: Limits = {
  maxMessageSize: 25 * 1024 * 1024,
  maxRecipients: 100,
  maxConnections: 200,
  maxConnectionsPerAddress: defaultMaxConnectionsPerAddress(200),
  // Dovecot's imap_max_line_length: sync clients list thousands of UIDs on one line.
  imapMaxLineLength: 64 * 1024,
  // RFC 5321 4.5.3.1.4/4.5.3.1.6 ask for 512 and 1,000; 8 KiB is lenient with real senders.
  smtpMaxLineLength: 8192,
  smtpIdleTimeoutMs: 5 * 60_000,
  imapIdleTimeoutMs: 30 * 60_000,
  receiveTimeoutMs: DEFAULT_RECEIVE_TIMEOUT_MS,
  maxBadCommands: 20,
  maxHttpBody: 30 * 1024 * 1024,
  maxEventQueueBytes: 16 * 1024 * 1024,
  maxEventTotalBytes: 64 * 1024 * 1024,
  maxUsers: 10_000,
  // A client gets three tries at once, then waits 1, 2, 4, 5, 5... s, and is cut off at ten:
  // a guesser gets a few tries a minute per connection, a typo costs nothing.
  authFailuresBeforeDelay: 3,
  authFailureDelayMs: 1000,
  maxAuthFailureDelayMs: 5000,
  maxAuthFailures: 10,
  // Per address: 100 failures in 10 minutes, whatever the protocol or connection count.
  maxAuthFailuresPerAddress: 100,
  authFailureWindowMs: 10 * 60_000,
};

/**
 * The least `--max-line-length`: RFC 2683 3.2.1.5 once told clients to keep lines to about
 * 1,000 octets, so below this even a careful client would be refused.
 */
const MIN_LINE_LENGTH = 1024;

interface Setting {
  flag: string;
  env: string;
  kind: "string" | "boolean";
  help: string;
  fallback?: string;
}

/** Every setting, in `--help` order. */
export const SETTINGS: readonly Setting[] = [
  {
    flag: "smtp-port",
    env: "SMTP_PORT",
    kind: "string",
    fallback: "2525",
    help: "SMTP listen port (0 picks a free one)",
  },
  {
    flag: "imap-port",
    env: "IMAP_PORT",
    kind: "string",
    fallback: "1143",
    help: "IMAP listen port (0 picks a free one)",
  },
  {
    flag: "http-port",
    env: "HTTP_PORT",
    kind: "string",
    help: "HTTP control plane port (off unless set)",
  },
  {
    flag: "bind-addr",
    env: "BIND_ADDR",
    kind: "string",
    fallback: "127.0.0.1",
    help: "address to listen on (0.0.0.0 for all interfaces)",
  },
  {
    flag: "users",
    env: "ELEKTROMAIL_USERS",
    kind: "string",
    help: "logins: user:pass or user:address:pass, comma separated",
  },
  {
    flag: "auth-disabled",
    env: "ELEKTROMAIL_AUTH_DISABLED",
    kind: "boolean",
    help: "accept any credentials even with --users",
  },
  {
    flag: "smtp-auth-required",
    env: "ELEKTROMAIL_SMTP_AUTH_REQUIRED",
    kind: "boolean",
    help: "SMTP MAIL needs AUTH first (530 5.7.0)",
  },
  {
    flag: "db",
    env: "ELEKTROMAIL_DB",
    kind: "string",
    help: "SQLite file for persistence (memory if unset)",
  },
  {
    flag: "hostname",
    env: "ELEKTROMAIL_HOSTNAME",
    kind: "string",
    fallback: "localhost",
    help: "name in greetings and Received headers",
  },
  {
    flag: "verbose",
    env: "ELEKTROMAIL_VERBOSE",
    kind: "boolean",
    help: "log protocol traffic to stderr",
  },
  {
    flag: "max-message-size",
    env: "ELEKTROMAIL_MAX_MESSAGE_SIZE",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxMessageSize),
    help: "largest message in octets",
  },
  {
    flag: "max-recipients",
    env: "ELEKTROMAIL_MAX_RECIPIENTS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxRecipients),
    help: "recipients per SMTP message",
  },
  {
    flag: "max-connections",
    env: "ELEKTROMAIL_MAX_CONNECTIONS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxConnections),
    help: "open connections per listener",
  },
  {
    flag: "max-line-length",
    env: "ELEKTROMAIL_MAX_LINE_LENGTH",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.imapMaxLineLength),
    help: "longest IMAP command line in octets, literals not counted",
  },
  {
    flag: "max-users",
    env: "ELEKTROMAIL_MAX_USERS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxUsers),
    help: "users created by mail or login, besides --users (452 4.3.1 past it)",
  },
  {
    flag: "max-auth-failures",
    env: "ELEKTROMAIL_MAX_AUTH_FAILURES",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxAuthFailuresPerAddress),
    help: "failed logins per client address per 10 minutes (0: no limit)",
  },
  {
    flag: "max-connections-per-address",
    env: "ELEKTROMAIL_MAX_CONNECTIONS_PER_ADDRESS",
    kind: "string",
    help: "open connections per listener from one address [default 3/4 of --max-connections]",
  },
  {
    flag: "receive-timeout",
    env: "ELEKTROMAIL_RECEIVE_TIMEOUT",
    kind: "string",
    fallback: String(DEFAULT_RECEIVE_TIMEOUT_MS / 1000),
    help: "seconds a started command line has to end, message data to progress; 0: off",
  },
  {
    flag: "tls",
    env: "ELEKTROMAIL_TLS",
    kind: "boolean",
    help: "offer STARTTLS (self-signed certificate unless --tls-cert)",
  },
  {
    flag: "tls-required",
    env: "ELEKTROMAIL_TLS_REQUIRED",
    kind: "boolean",
    help: "refuse SMTP MAIL/AUTH and IMAP LOGIN before STARTTLS",
  },
  {
    flag: "tls-cert",
    env: "TLS_CERT",
    kind: "string",
    help: "certificate: PEM file path or PEM text (turns TLS on)",
  },
  {
    flag: "tls-key",
    env: "TLS_KEY",
    kind: "string",
    help: "private key: PEM file path or PEM text",
  },
  {
    flag: "smtps-port",
    env: "SMTPS_PORT",
    kind: "string",
    help: "implicit-TLS SMTP port (off unless set; turns TLS on)",
  },
  {
    flag: "imaps-port",
    env: "IMAPS_PORT",
    kind: "string",
    help: "implicit-TLS IMAP port (off unless set; turns TLS on)",
  },
  {
    flag: "chaos",
    env: "ELEKTROMAIL_CHAOS",
    kind: "string",
    help: "fault-injection rules at startup, JSON (see POST /chaos)",
  },
];

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
    httpPort: port("http-port"),
    users,
    authDisabled: bool("auth-disabled"),
    smtpAuthRequired: bool("smtp-auth-required"),
    dbPath: read("db").text ?? null,
    hostname,
    verbose: bool("verbose"),
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
  };
  return { action: "serve", config };
}

/** Builds a config for embedding and tests: defaults with port 0 everywhere, then `overrides`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    bindAddr: "127.0.0.1",
    smtpPort: 0,
    imapPort: 0,
    httpPort: 0,
    users: [],
    authDisabled: false,
    smtpAuthRequired: false,
    dbPath: null,
    hostname: "localhost",
    verbose: false,
    limits: DEFAULT_LIMITS,
    tls: null,
    chaos: [],
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
};

/** The `--help` text. */
export function helpText(): string {
  const lines = [
    "Elektromail: a small, exact IMAP4rev2/SMTP mail server for development and tests.",
    "",
    "Usage: elektromail [options]",
    "       elektromail healthcheck [options]   probe the listeners these options describe;",
    "                                           exit 0 when all answer, 1 otherwise",
    "",
    "Options (each also read from the environment variable shown; flags win):",
  ];
  for (const setting of SETTINGS) {
    const flag = setting.kind === "string" ? `--${setting.flag} <value>` : `--[no-]${setting.flag}`;
    const fallback = setting.fallback ? ` [default ${setting.fallback}]` : "";
    if (flag.length <= 30 && setting.env.length <= 31) {
      lines.push(`  ${flag.padEnd(30)} ${setting.env.padEnd(31)} ${setting.help}${fallback}`);
    } else {
      // Names too long for their columns: the help goes on a line of its own.
      lines.push(`  ${flag} ${setting.env}`, `${"".padEnd(33)}${setting.help}${fallback}`);
    }
  }
  lines.push(`  ${"-h, --help".padEnd(30)} ${"".padEnd(31)} show this help`);
  lines.push(`  ${"-V, --version".padEnd(30)} ${"".padEnd(31)} print the version`);
  lines.push(
    "",
    "Without --users any username and password log in. Mail to user+tag@any.domain is",
    "delivered to user's INBOX. Storage is in memory unless --db is given.",
  );
  return lines.join("\n");
}
