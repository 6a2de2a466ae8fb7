/**
 * Byte arrays joined end to end: the one copy loop the framers, the transport, CATENATE,
 * the HTTP body reader and the message builders share.
 *
 * @module
 */

/**
 * The bytes of `parts` one after another in one new array, each copied once. `total` is
 * their summed length, when the caller has already counted it.
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (total === undefined) {
    total = 0;
    for (const part of parts) total += part.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
