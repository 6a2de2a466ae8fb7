/**
 * The control plane's route table: path patterns, the handler per method, 404 for unknown
 * paths and 405 (with `Allow`) for a known path with the wrong method.
 *
 * @module
 */

import type { HttpContext } from "./context.ts";
import type { RequestGuard } from "./guard.ts";
import { errorResponse, HttpError, json } from "./json.ts";

/** A request as handlers see it: path parameters are already URL-decoded. */
export interface RouteRequest {
  readonly request: Request;
  readonly url: URL;
  readonly params: readonly string[];
}

export type Handler = (ctx: HttpContext, req: RouteRequest) => Response | Promise<Response>;

/** One path: segments (`:name` matches one decoded segment) and a handler per method. */
export interface Route {
  readonly path: string;
  readonly methods: Readonly<Record<string, Handler>>;
}

/**
 * Splits the raw path on `/` before decoding, so an encoded `%2F` (a mailbox name like
 * `a/b` inside a message id) stays inside its segment. A trailing slash is ignored.
 */
export function splitPath(pathname: string): string[] {
  const raw = pathname.split("/").slice(1);
  if (raw.length > 1 && raw[raw.length - 1] === "") raw.pop();
  return raw.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `Cannot decode path segment "${segment}"`);
    }
  });
}

function match(route: Route, segments: readonly string[]): string[] | null {
  const pattern = route.path.split("/").slice(1);
  if (pattern.length !== segments.length) return null;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(":")) params.push(segments[i]);
    else if (pattern[i] !== segments[i]) return null;
  }
  return params;
}

/**
 * Checks the request with `guard` (Host, Origin, body budget), finds the route and runs it;
 * every failure becomes a JSON error, never a crash.
 */
export async function dispatch(
  ctx: HttpContext,
  routes: readonly Route[],
  request: Request,
  guard?: RequestGuard,
): Promise<Response> {
  let release = () => {};
  try {
    if (guard) release = guard.admit(request);
    const url = new URL(request.url);
    const segments = splitPath(url.pathname);
    for (const route of routes) {
      const params = match(route, segments);
      if (!params) continue;
      const method = request.method === "HEAD" && route.methods.GET ? "GET" : request.method;
      const handler = route.methods[method];
      if (!handler) {
        const allow = Object.keys(route.methods);
        if (allow.includes("GET")) allow.push("HEAD");
        throw new HttpError(405, `Method ${request.method} is not allowed on ${url.pathname}`, {
          allow: allow.join(", "),
        });
      }
      return await handler(ctx, { request, url, params });
    }
    throw new HttpError(404, `Not found: ${url.pathname}`);
  } catch (error) {
    await request.body?.cancel().catch(() => {});
    const response = errorResponse(error);
    if (response) return response;
    ctx.logger.error(`http: ${request.method} ${request.url} failed`, error);
    return json(500, { error: "Internal server error" });
  } finally {
    release();
  }
}
