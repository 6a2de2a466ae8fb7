/**
 * `GET /tls/cert`: the server certificate as PEM, so a test can trust exactly it (as a CA)
 * instead of turning verification off. 404 when TLS is off.
 *
 * @module
 */

import type { HttpContext } from "./context.ts";
import { HttpError } from "./json.ts";

/** The PEM chain; the SHA-256 fingerprint is in `x-elektromail-fingerprint`. */
export function tlsCertificate(ctx: HttpContext): Response {
  if (!ctx.tls) {
    throw new HttpError(404, "TLS is off: start Elektromail with ELEKTROMAIL_TLS=true (--tls)");
  }
  return new Response(ctx.tls.cert, {
    headers: {
      "content-type": "application/x-pem-file",
      "x-elektromail-fingerprint": ctx.tls.fingerprint,
    },
  });
}
