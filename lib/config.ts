/**
 * Configuration: command-line flags win over environment variables, which win over the
 * defaults. Every bad value is a {@linkcode ConfigError} naming the flag or variable, so the
 * program can stop with one clear line and exit status 2 before it listens.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ChaosRuleError, type ChaosRuleSpec, parseChaosText } from "./chaos/rules.ts";
import { canonicalUserName } from "./store/mail_store.ts";

/** One configured login. */
export interface UserEntry {
  readonly user: string;
  readonly password: string;
  /** The user's configured address, lower-cased, or null. */
  readonly address: string | null;
}

/** Limits; each has a default and a variable. */
export interface Limits {
  /** Largest message accepted by SMTP DATA and IMAP APPEND, in octets. */
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  /** Open connections per listener. */
  readonly maxConnections: number;
  /** Longest command line, in octets. */
  readonly maxLineLength: number;
  readonly smtpIdleTimeoutMs: number;
  readonly imapIdleTimeoutMs: number;
  /** Failed commands in a row before the server hangs up. */
  readonly maxBadCommands: number;
  /** Largest HTTP request body, in octets. */
  readonly maxHttpBody: number;
  /** Events queued for one `/events` listener before a listener that does not read is cut off. */
  readonly maxEventQueueBytes: number;
  /**
   * HTTP request bodies being read and handled at once, in octets (a body without a length
   * counts as {@linkcode Limits.maxHttpBody}); past it a request gets 503.
   */
  readonly maxHttpBodiesInFlight: number;
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
  /**
   * Host names (or addresses) the HTTP control plane answers besides loopback, the hostname
   * and the bind address; a leading dot also allows subdomains; `*` allows any.
   */
  readonly httpAllowedHosts: readonly string[];
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
  maxLineLength: 8192,
  smtpIdleTimeoutMs: 5 * 60_000,
  imapIdleTimeoutMs: 30 * 60_000,
  maxBadCommands: 20,
  maxHttpBody: 30 * 1024 * 1024,
  maxEventQueueBytes: 16 * 1024 * 1024,
  maxHttpBodiesInFlight: 64 * 1024 * 1024,
};

/** A user's mistake in the configuration: printed as one line, exit status 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

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
    flag: "http-allowed-hosts",
    env: "ELEKTROMAIL_HTTP_ALLOWED_HOSTS",
    kind: "string",
    help: "more Host names the HTTP port answers, comma separated (* for any)",
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

/**
 * Parses flags and environment into a {@linkcode Config}. Throws {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * const result = resolveConfig(["--smtp-port", "0"], { IMAP_PORT: "0" });
 * ```
 */
export function resolveConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
  };
  for (const setting of SETTINGS) options[setting.flag] = { type: setting.kind };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
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
      maxConnections: count("max-connections", 1),
    },
    tls: tlsSettings(read, port, bool),
    chaos: chaosRules(read("chaos")),
    httpAllowedHosts: allowedHosts(read("http-allowed-hosts")),
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
    httpAllowedHosts: [],
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

export function parsePort(text: string, source: string): number {
  if (!/^[0-9]{1,5}$/.test(text.trim()) || Number(text) > 65535) {
    throw new ConfigError(
      `${source}: "${text}" is not a port number (0-65535; 0 picks a free port)`,
    );
  }
  return Number(text);
}

export function parseBoolean(text: string, source: string): boolean {
  const value = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off", ""].includes(value)) return false;
  throw new ConfigError(`${source}: "${text}" is not a boolean (use true/1/yes or false/0/no)`);
}

function chaosRules({ text, source }: { text: string | undefined; source: string }) {
  if (text === undefined) return [];
  try {
    return parseChaosText(text);
  } catch (error) {
    if (error instanceof ChaosRuleError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
}

/** `a.example, .b.example, 10.0.0.5, [fd00::1]` or `*`: names as given, lower-cased. */
function allowedHosts({ text, source }: { text: string | undefined; source: string }): string[] {
  if (text === undefined) return [];
  const hosts = text.split(",").map((host) => host.trim().toLowerCase()).filter((host) => host);
  for (const host of hosts) {
    if (host !== "*" && !/^\.?[a-z0-9_\-.]+$|^\[[0-9a-f:.]+\]$/.test(host)) {
      throw new ConfigError(
        `${source}: "${host}" is not a host name or address (a name, .domain for it and its ` +
          `subdomains, an IPv4 or [IPv6] address, or *; without a port)`,
      );
    }
  }
  return hosts;
}

function parseCount(text: string, source: string, min: number): number {
  if (!/^[0-9]{1,12}$/.test(text.trim()) || Number(text) < min) {
    throw new ConfigError(`${source}: "${text}" is not a whole number of at least ${min}`);
  }
  return Number(text);
}

/**
 * Parses `user:pass` and `user:address@example.com:pass` entries, comma separated. The
 * password is everything after the user (or the address), so it may contain `:`.
 */
export function parseUsers(text: string, source = "ELEKTROMAIL_USERS"): UserEntry[] {
  const entries: UserEntry[] = [];
  const seen = new Set<string>();
  for (const [index, item] of text.split(",").entries()) {
    const entry = item.trim();
    if (entry === "") continue;
    const where = `${source}: entry ${index + 1} ("${entry.split(":")[0]}:…")`;
    const firstColon = entry.indexOf(":");
    if (firstColon <= 0) throw new ConfigError(`${where} must be user:pass or user:address:pass`);
    let user: string;
    try {
      user = canonicalUserName(entry.slice(0, firstColon));
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message}`);
    }
    const rest = entry.slice(firstColon + 1);
    let address: string | null = null;
    let password = rest;
    const secondColon = rest.indexOf(":");
    if (secondColon > 0 && rest.slice(0, secondColon).includes("@")) {
      address = rest.slice(0, secondColon).toLowerCase();
      password = rest.slice(secondColon + 1);
      if (!/^[^@\s]+@[^@\s]+$/.test(address)) {
        throw new ConfigError(`${where}: "${address}" is not an email address`);
      }
    }
    if (password === "") throw new ConfigError(`${where} has an empty password`);
    if (seen.has(user)) throw new ConfigError(`${where}: user ${user} is listed twice`);
    seen.add(user);
    entries.push({ user, password, address });
  }
  if (entries.length === 0) throw new ConfigError(`${source}: no users in "${text}"`);
  return entries;
}

function isIpAddress(text: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text)) {
    return text.split(".").every((part) => Number(part) <= 255);
  }
  return /^[0-9a-fA-F:]+$/.test(text) && text.includes(":");
}

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
    lines.push(`  ${flag.padEnd(30)} ${setting.env.padEnd(31)} ${setting.help}${fallback}`);
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
