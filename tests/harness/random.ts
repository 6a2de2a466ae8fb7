/**
 * Seeded random numbers for the fuzz and cross-check tests: the same sequence for the same
 * seed, so a failure reproduces. One generator, mulberry32 (the chaos engine's).
 *
 * @module
 */

import { mulberry32 } from "../../lib/chaos/engine.ts";

export { mulberry32 };

/**
 * Integers in `[0, n)`: mulberry32's 32-bit output modulo `n` (each float it returns is that
 * output divided by 2^32, exactly, so the product below is the integer itself).
 *
 * @example
 * ```ts
 * const rand = randomBelow(11);
 * const pick = ["a", "b", "c"][rand(3)];
 * ```
 */
export function randomBelow(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => (next() * 4294967296) % n;
}
