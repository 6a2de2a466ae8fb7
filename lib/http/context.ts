/**
 * What the control plane's handlers receive.
 *
 * @module
 */

import type { Chaos } from "../chaos/mod.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";
import type { EventHub } from "./event_hub.ts";
import type { WaitRegistry } from "./wait_registry.ts";

/** What the control plane needs from the server around it. */
export interface HttpOptions {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly chaos: Chaos;
  /** Whether every listener is up. */
  healthy(): boolean;
  /** The bound ports, for /health. */
  ports(): Record<string, number | null>;
  /** The server certificate (`GET /tls/cert`); null or absent when TLS is off. */
  readonly tls?: { readonly cert: string; readonly fingerprint: string } | null;
}

/** The options plus what the control plane keeps for its own: waiters and event listeners. */
export interface HttpContext extends HttpOptions {
  readonly waiters: WaitRegistry;
  readonly events: EventHub;
}
