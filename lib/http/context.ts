/**
 * What the control plane's handlers receive.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/mod.ts";

/** What the control plane needs from the server around it. */
export interface HttpContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Whether every listener is up. */
  healthy(): boolean;
  /** The bound ports, for /health. */
  ports(): Record<string, number | null>;
  /** The server certificate (`GET /tls/cert`); null or absent when TLS is off. */
  readonly tls?: { readonly cert: string; readonly fingerprint: string } | null;
}
