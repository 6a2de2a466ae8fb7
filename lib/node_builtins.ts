/**
 * `node:` modules loaded on first use, synchronously (`process.getBuiltinModule`). A static
 * import would load them, and Deno's Node compatibility layer under them, at startup: for
 * `node:crypto` and `node:zlib`, used only by APOP, URLAUTH and COMPRESS, that was ~5.5 MB of
 * a fresh server's 56 MB idle memory. The runtime caches each module, so a second call costs
 * a lookup.
 *
 * @module
 */

/**
 * `node:crypto`.
 *
 * @example
 * ```ts
 * const digest = nodeCrypto().createHash("md5").update("text").digest("hex");
 * ```
 */
export function nodeCrypto(): typeof import("node:crypto") {
  // deno-lint-ignore no-process-global -- the global, touched only now, is the lazy part
  return process.getBuiltinModule("node:crypto");
}

/**
 * `node:zlib`.
 *
 * @example
 * ```ts
 * const deflater = nodeZlib().createDeflateRaw({ level: 1 });
 * ```
 */
export function nodeZlib(): typeof import("node:zlib") {
  // deno-lint-ignore no-process-global -- the global, touched only now, is the lazy part
  return process.getBuiltinModule("node:zlib");
}
