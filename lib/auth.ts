/**
 * Who may log in and where mail goes (DESIGN.md, "Auth and routing").
 *
 * @module
 */

import type { Config } from "./config.ts";
import { canonicalUserName } from "./store/names.ts";

/**
 * Checks credentials; returns the canonical user name, or null when they are refused.
 * Without configured users, or with auth disabled, any valid user name logs in. A login that
 * is an address (mail clients are often set up with the full address as user name) is the
 * user that address's mail is delivered to: a configured user by name or by address, or,
 * when any credentials are accepted, the user {@linkcode routeRecipient} picks.
 */
export function authenticate(config: Config, user: string, password: string): string | null {
  let name: string;
  try {
    name = canonicalUserName(user);
  } catch {
    return null;
  }
  if (acceptsAnyCredentials(config)) {
    return name.includes("@") ? routeRecipient(config, name) : name;
  }
  const entry = config.users.find((candidate) => candidate.user === name) ??
    config.users.find((candidate) => candidate.address === name);
  return entry && timingSafeEqual(entry.password, password) ? entry.user : null;
}

/** Whether any credentials are accepted. */
export function acceptsAnyCredentials(config: Config): boolean {
  return config.users.length === 0 || config.authDisabled;
}

/**
 * The user a recipient address is delivered to: the configured user whose address matches
 * (case-insensitive, `+tag` removed), else the user named by the local part (without the
 * tag). Returns null for an address with no usable local part.
 */
export function routeRecipient(config: Config, address: string): string | null {
  const at = address.lastIndexOf("@");
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? "" : address.slice(at + 1);
  const plus = local.indexOf("+");
  const base = unquote(plus > 0 ? local.slice(0, plus) : local);
  // Without configured users (the usual test setup) there is no address to match.
  if (config.users.length > 0) {
    const untagged = (domain ? `${base}@${domain}` : base).toLowerCase();
    const configured = config.users.find((entry) => entry.address === untagged);
    if (configured) return configured.user;
  }
  try {
    return canonicalUserName(base);
  } catch {
    return null;
  }
}

/**
 * A quoted local part without its quotes, as `/^"(.*)"$/` replaced by `$1` did (`.` stops at
 * line terminators); anything else as it is. A scan: one per recipient.
 */
function unquote(local: string): string {
  const last = local.length - 1;
  if (last < 1 || local.charCodeAt(0) !== 0x22 || local.charCodeAt(last) !== 0x22) return local;
  for (let i = 1; i < last; i++) {
    const code = local.charCodeAt(i);
    if (code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029) return local;
  }
  return local.slice(1, last);
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
