/**
 * The value syntaxes of the configuration (see `config.ts`): ports, booleans, counts, bind
 * addresses, the users list and the chaos rules. Each throws {@linkcode ConfigError} naming
 * `source`, the flag or variable the text came from.
 *
 * @module
 */

import { ChaosRuleError, type ChaosRuleSpec, parseChaosText } from "./chaos/rules.ts";
import { ConfigError } from "./errors.ts";
import { canonicalUserName } from "./store/names.ts";

/** One configured login. */
export interface UserEntry {
  readonly user: string;
  readonly password: string;
  /** The user's configured address, lower-cased, or null. */
  readonly address: string | null;
}

/** A TCP port, 0 to 65535 (0 picks a free one). */
export function parsePort(text: string, source: string): number {
  if (!/^[0-9]{1,5}$/.test(text.trim()) || Number(text) > 65535) {
    throw new ConfigError(
      `${source}: "${text}" is not a port number (0-65535; 0 picks a free port)`,
    );
  }
  return Number(text);
}

/** `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`/empty, in any case. */
export function parseBoolean(text: string, source: string): boolean {
  const value = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off", ""].includes(value)) return false;
  throw new ConfigError(`${source}: "${text}" is not a boolean (use true/1/yes or false/0/no)`);
}

/** The startup chaos rules (JSON, see `POST /chaos`); none when unset. */
export function chaosRules(
  { text, source }: { text: string | undefined; source: string },
): ChaosRuleSpec[] {
  if (text === undefined) return [];
  try {
    return parseChaosText(text);
  } catch (error) {
    if (error instanceof ChaosRuleError) throw new ConfigError(`${source}: ${error.message}`);
    throw error;
  }
}

/** A whole number of at least `min`. */
export function parseCount(text: string, source: string, min: number): number {
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
    const where = `${source}: entry ${index + 1} ("${entry.split(":")[0]}:\u2026")`;
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

/**
 * Whether `text` is a dotted IPv4 address or an IPv6 one in hex groups (RFC 4291 2.2 forms 1
 * and 2: eight groups, or fewer around one `::`; the dotted-quad tail of form 3 is not taken).
 */
export function isIpAddress(text: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text)) {
    return text.split(".").every((part) => Number(part) <= 255);
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => half === "" ? [] : half.split(":"));
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return false;
  return halves.length === 2 ? groups.length <= 7 : groups.length === 8;
}

/** `a.example, .b.example, 10.0.0.5, [fd00::1]` or `*`: names as given, lower-cased. */
export function allowedHosts(
  { text, source }: { text: string | undefined; source: string },
): string[] {
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

/** `host:port` of an SMTP relay (a name or an IPv4 or [IPv6] address), or null when unset. */
export function relayAddress(
  { text, source }: { text: string | undefined; source: string },
): string | null {
  if (text === undefined || text.trim() === "") return null;
  const value = text.trim();
  if (!/^([A-Za-z0-9_\-.]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$/.test(value)) {
    throw new ConfigError(`${source}: "${value}" is not host:port (e.g. 127.0.0.1:25)`);
  }
  const port = Number(value.slice(value.lastIndexOf(":") + 1));
  if (port < 1 || port > 65535) throw new ConfigError(`${source}: port ${port} is not 1-65535`);
  return value;
}
