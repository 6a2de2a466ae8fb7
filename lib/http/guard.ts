/**
 * What every control-plane request passes before its route runs. The control plane is an
 * admin surface (it reads and deletes all mail) on the developer's machine, next to their
 * browser, so:
 * - the `Host` must name this machine: loopback, the configured hostname, the bind address,
 *   or an entry of `ELEKTROMAIL_HTTP_ALLOWED_HOSTS` (a DNS-rebinding page has its own name
 *   in `Host`);
 * - a state-changing request (anything but GET, HEAD, OPTIONS) must not come from another
 *   origin: a foreign `Origin` or `Sec-Fetch-Site: cross-site` is refused (a page may POST
 *   a form or a `text/plain` fetch anywhere without asking);
 * - request bodies being read at once are bounded in octets, so parallel uploads cannot
 *   multiply the memory one may use.
 * curl, test code and the web inbox (same-origin fetches) pass all three.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { HttpError } from "./json.ts";

/** The checks of one control plane; {@linkcode RequestGuard.admit} per request. */
export interface RequestGuard {
  /**
   * Throws an {@linkcode HttpError} (403, 503) for a request that may not run; otherwise
   * returns the function that releases what the request holds, to call when it is done.
   */
  admit(request: Request): () => void;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The host name of a `Host` value (`name`, `name:port`, `[v6]:port`), lower case, without
 * port or trailing dot; IPv6 addresses keep their brackets. Null when malformed.
 */
export function hostName(host: string): string | null {
  let name: string;
  let rest: string;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) return null;
    name = host.slice(0, close + 1);
    rest = host.slice(close + 1);
  } else {
    const colon = host.indexOf(":");
    name = colon < 0 ? host : host.slice(0, colon);
    rest = colon < 0 ? "" : host.slice(colon);
  }
  if (rest !== "" && !/^:[0-9]{1,5}$/.test(rest)) return null;
  name = name.toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name === "" ? null : name;
}

/** Whether `name` (from {@linkcode hostName}) is a loopback name or address. */
export function isLoopback(name: string): boolean {
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "[::1]" || name === "[0:0:0:0:0:0:0:1]") return true;
  const octets = name.split(".");
  return octets.length === 4 && octets[0] === "127" &&
    octets.every((octet) => /^[0-9]{1,3}$/.test(octet) && Number(octet) <= 255);
}

/** An address as a `Host` names it: IPv6 in brackets. */
function asHostName(address: string): string {
  const lower = address.toLowerCase();
  return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
}

/** Builds the guard of one control plane from its configuration. */
export function createRequestGuard(config: Config): RequestGuard {
  const anyHost = config.httpAllowedHosts.includes("*");
  const exact = new Set([asHostName(config.hostname), asHostName(config.bindAddr)]);
  const domains: string[] = [];
  for (const host of config.httpAllowedHosts) {
    if (host.startsWith(".")) domains.push(host);
    else exact.add(asHostName(host));
  }
  const allowed = (name: string) =>
    anyHost || isLoopback(name) || exact.has(name) ||
    domains.some((domain) => name === domain.slice(1) || name.endsWith(domain));

  const { maxHttpBody, maxHttpBodiesInFlight } = config.limits;
  let inFlight = 0;

  return {
    admit(request) {
      // HTTP/2 carries the authority in the URL (`:authority`), not in a Host header: the same
      // check (h2c with prior knowledge reaches the server; browsers do not speak it, but the
      // rule is the rule). No Host at all is an HTTP/1.0 tool, never a browser (browsers always
      // send one), whose URL names the address it reached.
      const host = request.headers.get("host") ?? new URL(request.url).host;
      if (host !== "") {
        const name = hostName(host);
        if (name === null || !allowed(name)) {
          throw new HttpError(
            403,
            `Host "${host}" is not allowed: the control plane answers loopback names, ` +
              `${config.hostname} and ${config.bindAddr} ` +
              `(add more with ELEKTROMAIL_HTTP_ALLOWED_HOSTS or --http-allowed-hosts)`,
          );
        }
      }
      if (!SAFE_METHODS.has(request.method)) {
        if (request.headers.get("sec-fetch-site") === "cross-site") {
          throw new HttpError(403, `Cross-site ${request.method} requests are not allowed`);
        }
        const origin = request.headers.get("origin");
        const target = host;
        if (origin !== null && !sameOrigin(origin, target)) {
          throw new HttpError(
            403,
            `${request.method} from origin "${origin}" is not allowed: only pages served ` +
              `from http://${target} (or clients that send no Origin, such as curl) may change state`,
          );
        }
      }
      return reserveBody(request);
    },
  };

  /** Counts the request's body against the bodies in flight; 503 past the bound. */
  function reserveBody(request: Request): () => void {
    if (SAFE_METHODS.has(request.method) || request.body === null) return () => {};
    const declared = request.headers.get("content-length");
    const length = declared === null ? maxHttpBody : Number(declared);
    // An empty body holds nothing; one over the size limit is refused unread (413).
    if (!(length > 0) || length > maxHttpBody) return () => {};
    if (inFlight + length > maxHttpBodiesInFlight) {
      throw new HttpError(
        503,
        `Cannot take the request body now: ${inFlight} octets of request bodies are being ` +
          `handled (at most ${maxHttpBodiesInFlight}); retry shortly`,
        { "retry-after": "1" },
      );
    }
    inFlight += length;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight -= length;
    };
  }
}

/** Whether the `Origin` value names the origin of `host` (a valid `Host` value), over http. */
function sameOrigin(origin: string, host: string): boolean {
  if (origin === "null") return false;
  try {
    const parsed = new URL(origin);
    return parsed.protocol === "http:" && parsed.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
