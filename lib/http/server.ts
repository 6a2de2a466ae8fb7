/**
 * The HTTP control plane (`Deno.serve`): a JSON API for tests. Off unless `HTTP_PORT` is set.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/mod.ts";
import { VERSION } from "../version.ts";

/** What the control plane needs from the server around it. */
export interface HttpContext {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Whether every listener is up. */
  healthy(): boolean;
  /** The bound ports, for /health. */
  ports(): Record<string, number | null>;
}

/** A running HTTP listener. */
export interface HttpListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the control plane on `config.httpPort`. */
export function startHttp(ctx: HttpContext): Promise<HttpListener> {
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: ctx.config.bindAddr,
        port: ctx.config.httpPort ?? 0,
        onListen: (addr) => {
          resolve({ host: addr.hostname, port: addr.port, close: () => server.shutdown() });
        },
        onError: (error) => {
          ctx.logger.error("http: request failed", error);
          return json(500, { error: "Internal server error" });
        },
      }, (request) => handle(ctx, request));
    } catch (error) {
      reject(error);
    }
  });
}

async function handle(ctx: HttpContext, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") {
    const ok = ctx.healthy();
    return json(ok ? 200 : 503, {
      status: ok ? "ok" : "unavailable",
      version: VERSION,
      ports: ctx.ports(),
    });
  }
  await request.body?.cancel();
  return json(404, { error: `Not found: ${url.pathname}` });
}

/** A JSON response. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
