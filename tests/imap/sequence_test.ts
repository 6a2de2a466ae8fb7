import assert from "node:assert/strict";
import {
  expandSequenceSet,
  formatSequenceSet,
  resolveSequenceSet,
  sequenceRanges,
  type SequenceSet,
} from "../../lib/imap/sequence.ts";

const set = (...ranges: Array<[number | "*", number | "*"]>): SequenceSet =>
  ranges.map(([start, end]) => ({ start, end }));

Deno.test("sequence: resolve with *, reversed ranges and $", () => {
  const has = resolveSequenceSet(set([2, 4], ["*", 9], [20, 20]), 10);
  assert.deepEqual([...Array(21).keys()].filter(has), [2, 3, 4, 9, 10, 20]);
  const saved = resolveSequenceSet("$", 10, [3, 7]);
  assert.deepEqual([1, 3, 7, 8].filter(saved), [3, 7]);
  assert.equal(resolveSequenceSet("$", 10)(3), false);
});

Deno.test("sequence: expand returns existing values only, ascending and unique", () => {
  const uids = [3, 5, 9, 12, 40];
  assert.deepEqual(expandSequenceSet(set([1, 10]), uids, 40), [3, 5, 9]);
  assert.deepEqual(expandSequenceSet(set([12, 5], [4, 9], [40, 40]), uids, 40), [5, 9, 12, 40]);
  assert.deepEqual(expandSequenceSet(set([100, "*"]), uids, 40), [40]); // 100:* is 40:100
  assert.deepEqual(expandSequenceSet(set(["*", "*"]), [], 0), []);
  assert.deepEqual(expandSequenceSet(set([6, 8]), uids, 40), []);
  assert.deepEqual(expandSequenceSet("$", uids, 40, [40, 3, 4]), [3, 40]);
  assert.deepEqual(expandSequenceSet("$", uids, 40), []);
});

Deno.test("sequence: expand agrees with resolve on random input", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let round = 0; round < 300; round++) {
    const values = [...new Set(Array.from({ length: rand(30) }, () => 1 + rand(60)))].sort((a, b) =>
      a - b
    );
    const max = values.length ? values[values.length - 1] : 0;
    const ranges = Array.from({ length: 1 + rand(4) }, (): [number | "*", number | "*"] => [
      rand(5) === 0 ? "*" : 1 + rand(70),
      rand(5) === 0 ? "*" : 1 + rand(70),
    ]);
    const has = resolveSequenceSet(set(...ranges), max);
    assert.deepEqual(
      expandSequenceSet(set(...ranges), values, max),
      values.filter(has),
      JSON.stringify(ranges),
    );
  }
});

Deno.test("sequence: 1:* over 100k values is fast", () => {
  const values = Array.from({ length: 100_000 }, (_, i) => i * 2 + 1);
  const started = performance.now();
  for (let i = 0; i < 20; i++) {
    assert.equal(expandSequenceSet(set([1, "*"]), values, values.at(-1)!).length, 100_000);
  }
  assert.deepEqual(expandSequenceSet(set([199_990, "*"]), values, values.at(-1)!), [
    199_991,
    199_993,
    199_995,
    199_997,
    199_999,
  ]);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("sequence: format compacts runs and keeps order", () => {
  assert.equal(formatSequenceSet([1, 2, 3, 5]), "1:3,5");
  assert.equal(formatSequenceSet([]), "");
  assert.equal(formatSequenceSet([7]), "7");
  assert.equal(formatSequenceSet([5, 6, 1, 2]), "5:6,1:2");
});

Deno.test("sequence: ranges are sorted, merged, with * as max, one pair for 1:*", () => {
  assert.deepEqual(sequenceRanges(set([5, 2], [6, "*"], [9, 9]), 10), [[2, 10]]);
  assert.deepEqual(sequenceRanges(set([7, "*"]), 4), [[4, 7]]);
  assert.deepEqual(sequenceRanges(set([1, 1], [3, 3], [2, 2], [8, 9]), 100), [[1, 3], [8, 9]]);
  assert.deepEqual(sequenceRanges(set([1, "*"]), 100_000), [[1, 100_000]]);
  assert.deepEqual(sequenceRanges(set(["*", "*"]), 0), [[0, 0]]);
  assert.deepEqual(sequenceRanges("$", 10, [9, 2, 3]), [[2, 3], [9, 9]]);
  assert.deepEqual(sequenceRanges("$", 10), []);
});
