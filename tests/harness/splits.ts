/**
 * Adversarial chunking for framer and parser tests (STYLE.md practice 11): the ways a byte
 * stream can arrive, so a test sees every cut, inside CRLF, inside `{123}`, inside
 * `\r\n.\r\n`.
 *
 * @module
 */

/** Inputs up to this length are also cut into three pieces at every pair of offsets. */
const THREE_WAY_MAX = 80;

/**
 * Every way to cut `input` into two pieces (empty first or last piece included), into three
 * for inputs up to 80 bytes, and one byte at a time; the whole input first.
 *
 * @example
 * ```ts
 * for (const chunks of splits(new TextEncoder().encode("NOOP\r\n"))) feed(chunks);
 * ```
 */
export function* splits(input: Uint8Array): Generator<Uint8Array[]> {
  yield [input];
  for (let i = 0; i <= input.length; i++) yield [input.subarray(0, i), input.subarray(i)];
  if (input.length <= THREE_WAY_MAX) {
    for (let i = 1; i < input.length; i++) {
      for (let j = i + 1; j < input.length; j++) {
        yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
      }
    }
  }
  yield [...input].map((byte) => Uint8Array.of(byte));
}
